import type { FieldTable } from '@warren/amqp-protocol';
import { DelayedExchange, DelayHost } from './delayed';
import { DirectExchange } from './direct';
import { Exchange, ExchangeOptions, ExchangeType } from './exchange';
import { FanoutExchange } from './fanout';
import { HeadersExchange } from './headers';
import { TopicExchange } from './topic';

export { DefaultExchange } from './default';
export { Binding, Exchange, ExchangeOptions, ExchangeType, RouteCollector } from './exchange';

export { DelayedExchange, DelayHost, DELAYED_TYPE } from './delayed';

const TYPES: Record<ExchangeType, new (name: string, options: ExchangeOptions, delays?: DelayHost) => Exchange> = {
  direct: DirectExchange,
  fanout: FanoutExchange,
  topic: TopicExchange,
  headers: HeadersExchange,
  'x-delayed-message': DelayedExchange,
};

export function isExchangeType(type: string): type is ExchangeType {
  return Object.hasOwn(TYPES, type);
}

/** `delays` holds the messages of an x-delayed-message exchange (without one, it never delays). */
export function createExchange(
  name: string,
  type: ExchangeType,
  options: ExchangeOptions,
  delays?: DelayHost,
): Exchange {
  return new TYPES[type](name, options, delays);
}

export function bindingId(destination: { kind: string; name: string }, routingKey: string, args: FieldTable): string {
  const argKey = args.size === 0 ? '' : JSON.stringify([...args].sort(([a], [b]) => (a < b ? -1 : 1)));
  return `${destination.kind}\u0000${destination.name}\u0000${routingKey}\u0000${argKey}`;
}
