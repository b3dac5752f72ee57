import { NonRetryableError } from './non-retryable.error';

/** A message body that does not match its contract (or is not JSON). Never retried. */
export class MessageValidationError extends NonRetryableError {
  constructor(
    readonly messageType: string,
    readonly issues: string[],
  ) {
    super(`invalid ${messageType}: ${issues.join('; ')}`, { code: 'INVALID_MESSAGE' });
  }
}
