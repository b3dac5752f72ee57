import { MessagingError } from './messaging.error';

/** The broker answered a publish with basic.nack: it could not take responsibility for the message. */
export class PublishNackedError extends MessagingError {
  constructor(exchange: string, routingKey: string) {
    super(
      'PUBLISH_NACKED',
      `the broker refused (nacked) the message to '${exchange}' with routing key '${routingKey}'`,
    );
  }
}
