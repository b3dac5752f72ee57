import type { Message } from '../message';
import { Binding, Exchange, RouteCollector } from './exchange';

/** Routes to bindings whose key equals the routing key exactly. */
export class DirectExchange extends Exchange {
  readonly type = 'direct';
  private readonly byKey = new Map<string, Binding[]>();

  protected added(binding: Binding): void {
    const list = this.byKey.get(binding.routingKey);
    if (list) list.push(binding);
    else this.byKey.set(binding.routingKey, [binding]);
  }

  protected removed(binding: Binding): void {
    const list = this.byKey.get(binding.routingKey);
    if (!list) return;
    const rest = list.filter((b) => b !== binding);
    if (rest.length) this.byKey.set(binding.routingKey, rest);
    else this.byKey.delete(binding.routingKey);
  }

  route(_message: Message, routingKey: string, out: RouteCollector): void {
    const list = this.byKey.get(routingKey);
    if (list) for (let i = 0; i < list.length; i++) out.add(list[i].destination);
  }
}
