import { MessagingError } from './messaging.error';

/** No connection to the broker within the allowed wait (publishTimeoutMs), or the library is closed. */
export class BrokerUnavailableError extends MessagingError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('BROKER_UNAVAILABLE', message, options);
  }
}
