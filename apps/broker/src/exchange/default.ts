import type { Message } from '../message';
import type { Queue } from '../queue/queue';
import { Binding, Exchange, RouteCollector } from './exchange';

/** The nameless direct exchange every queue is implicitly bound to by its own name. */
export class DefaultExchange extends Exchange {
  readonly type = 'direct';

  constructor(private readonly queues: Map<string, Queue>) {
    super('', { durable: true, autoDelete: false, internal: false, arguments: new Map() });
  }

  protected added(_binding: Binding): void {}
  protected removed(_binding: Binding): void {}

  route(_message: Message, routingKey: string, out: RouteCollector): void {
    const queue = this.queues.get(routingKey);
    if (queue) out.add(queue);
  }
}
