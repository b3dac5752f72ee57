import { MessagingError } from '../errors';

/**
 * A replay stopped part way: `replayed` messages went back to their work queue and left the DLQ; the one
 * that failed and everything after it are still in the DLQ, in their order. `cause` says why (a work queue
 * that no longer exists, a nack, the connection lost).
 */
export class ReplayFailedError extends MessagingError {
  constructor(
    readonly deadLetterQueue: string,
    readonly replayed: number,
    cause: Error,
  ) {
    super('REPLAY_FAILED', `replay from '${deadLetterQueue}' stopped after ${replayed} message(s): ${cause.message}`, {
      cause,
    });
  }
}
