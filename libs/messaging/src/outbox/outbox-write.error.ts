import { MessagingError } from '../errors/messaging.error';

/** Outbox.add refused a message it could not store faithfully, or was called outside a transaction. */
export class OutboxWriteError extends MessagingError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('OUTBOX_WRITE_REFUSED', message, options);
  }
}
