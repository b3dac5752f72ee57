import { MessagingError } from '../errors';

/** The broker has no `<queue>.dlq`: the queue name is wrong, or no consumer of this library ever declared it. */
export class DeadLetterQueueNotFoundError extends MessagingError {
  constructor(
    readonly deadLetterQueue: string,
    options?: { cause?: unknown },
  ) {
    super(
      'DLQ_NOT_FOUND',
      `no dead-letter queue '${deadLetterQueue}' on the broker (is the queue name right, and has its consumer run once?)`,
      options,
    );
  }
}
