import { MessagingError } from '../errors/messaging.error';

/**
 * Another instance is handling the same message right now (it holds the inbox lease). Retryable on
 * purpose: the message goes through the retry queue and comes back when the other instance has either
 * finished (then it is a duplicate) or failed and let go (then this one runs it).
 */
export class InboxBusyError extends MessagingError {
  constructor(
    readonly consumer: string,
    readonly messageId: string,
  ) {
    super(
      'INBOX_BUSY',
      `message ${messageId} is being handled by another instance of '${consumer}'; it will be retried`,
    );
  }
}
