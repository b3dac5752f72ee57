import type { FieldTable } from '@warren/amqp-protocol';
import { DirectExchange } from './direct';
import { Exchange, ExchangeOptions, ExchangeType } from './exchange';
import { FanoutExchange } from './fanout';
import { HeadersExchange } from './headers';
import { TopicExchange } from './topic';

export { DefaultExchange } from './default';
export { Binding, Exchange, ExchangeOptions, ExchangeType, RouteCollector } from './exchange';

const TYPES: Record<ExchangeType, new (name: string, options: ExchangeOptions) => Exchange> = {
  direct: DirectExchange,
  fanout: FanoutExchange,
  topic: TopicExchange,
  headers: HeadersExchange,
};

export function isExchangeType(type: string): type is ExchangeType {
  return Object.hasOwn(TYPES, type);
}

export function createExchange(name: string, type: ExchangeType, options: ExchangeOptions): Exchange {
  return new TYPES[type](name, options);
}

export function bindingId(destination: { kind: string; name: string }, routingKey: string, args: FieldTable): string {
  const argKey = args.size === 0 ? '' : JSON.stringify([...args].sort(([a], [b]) => (a < b ? -1 : 1)));
  return `${destination.kind}\u0000${destination.name}\u0000${routingKey}\u0000${argKey}`;
}
