import { MessagingError } from './messaging.error';

/**
 * Throw from a handler when trying again cannot help (a business rule said no, the input is wrong):
 * the message goes straight to the dead-letter queue instead of through the retry queues.
 */
export class NonRetryableError extends MessagingError {
  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(options?.code ?? 'NON_RETRYABLE', message, options);
  }
}
