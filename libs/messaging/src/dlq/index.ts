// Dead-letter queue inspection and replay (the CLI, dlq-cli.ts, is an entry point of its own: not exported).
export { DeadLetterQueue, type DeadLetterQueueOptions, type ReplayResult } from './dead-letter-queue';
export type { ParkedMessage, ParkedError } from './parked-message';
export { DeadLetterQueueNotFoundError } from './dead-letter-queue-not-found.error';
export { ReplayFailedError } from './replay-failed.error';
