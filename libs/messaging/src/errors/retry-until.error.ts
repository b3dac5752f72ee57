import { MessagingError } from './messaging.error';

/**
 * Throw from a handler when the failure is transient and the message stays worth trying until a known moment:
 * a command with a deadline (a payment capture the saga waits for). The consumer retries it as any failure, and
 * past the policy's `maxAttempts` goes on retrying at the policy's longest delay while `until` is ahead, instead of
 * parking it in the DLQ; once `until` has passed, the policy's limit applies again. The handler then sees the late
 * message and answers it as late (the deadline guard), so a dependency down for longer than the retries last leaves
 * an answer, not a DLQ entry. `cause` is the transient failure.
 */
export class RetryUntilError extends MessagingError {
  /** The moment, in ms since the epoch. */
  readonly until: number;

  constructor(until: Date | number | string, cause: Error) {
    super('RETRY_UNTIL', cause.message, { cause });
    this.until = typeof until === 'number' ? until : new Date(until).getTime();
    if (!Number.isFinite(this.until)) throw new RangeError(`RetryUntilError: '${String(until)}' is not a moment`);
  }
}
