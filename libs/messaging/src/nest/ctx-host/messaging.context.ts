import { BaseRpcContext } from '@nestjs/microservices';
import type { IncomingMessage } from '../../core/message';

type MessagingContextArgs = [message: IncomingMessage, pattern: string];

/**
 * The context a MessagingServer handler receives with `@Ctx()`: the delivered message with its ids, headers,
 * attempt number and the amqplib message underneath.
 */
export class MessagingContext extends BaseRpcContext<MessagingContextArgs> {
  constructor(args: MessagingContextArgs) {
    super(args);
  }

  getMessage<T = unknown>(): IncomingMessage<T> {
    return this.args[0] as IncomingMessage<T>;
  }

  /** The pattern the message was sent with (its type, e.g. `order.placed`), also when a wildcard matched it. */
  getPattern(): string {
    return this.args[1];
  }

  /** 1 on the first delivery, n on the n-th attempt through the retry queues. */
  getAttempt(): number {
    return this.args[0].attempt;
  }
}
