// @warren/messaging: the public API. Everything a service uses is exported here; deep imports fail lint.
// The test harness is not: it is '@warren/messaging/testing', so production code importing this never loads it.
export * from './errors';
export * from './contracts/define-message';
export * from './core';
export * from './dlq';
// The Redis inbox needs ioredis only as a type; the TypeORM inbox and the outbox are in '@warren/messaging/typeorm'.
export { RedisInbox, type RedisInboxOptions } from './inbox/redis-inbox';
export { InboxBusyError } from './inbox/inbox-busy.error';
export type { InboxResult } from './inbox/inbox-result';
