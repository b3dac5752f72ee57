import { MessagingError } from './messaging.error';

/** The broker returned a mandatory message: no queue is bound for its routing key. */
export class UnroutableError extends MessagingError {
  constructor(
    readonly exchange: string,
    readonly routingKey: string,
    readonly replyText: string,
  ) {
    super(
      'UNROUTABLE',
      `message to exchange '${exchange}' with routing key '${routingKey}' was returned: ${replyText} (no queue is bound for it)`,
    );
  }
}
