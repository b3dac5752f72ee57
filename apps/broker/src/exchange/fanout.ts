import type { Message } from '../message';
import { Exchange, RouteCollector } from './exchange';

/** Routes to every binding, whatever the key. */
export class FanoutExchange extends Exchange {
  readonly type = 'fanout';

  protected added(): void {}
  protected removed(): void {}

  route(_message: Message, _routingKey: string, out: RouteCollector): void {
    for (const binding of this.bindings.values()) out.add(binding.destination);
  }
}
