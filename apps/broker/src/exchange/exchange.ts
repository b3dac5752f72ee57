import type { FieldTable } from '@warren/amqp-protocol';
import type { Message } from '../message';
import type { Queue } from '../queue/queue';

export type ExchangeType = 'direct' | 'fanout' | 'topic' | 'headers' | 'x-delayed-message';
/** The types an x-delayed-message exchange can route as (its x-delayed-type). */
export type BaseExchangeType = Exclude<ExchangeType, 'x-delayed-message'>;

/** A binding from an exchange to a queue or another exchange. */
export interface Binding {
  readonly source: Exchange;
  readonly destination: Queue | Exchange;
  readonly routingKey: string;
  readonly arguments: FieldTable;
  /** Identity of the binding: destination, key and arguments (two bindings differing only in args are distinct). */
  readonly id: string;
}

/** Collects the destinations of one routing pass without allocating: a destination is added once per pass. */
export interface RouteCollector {
  add(destination: Queue | Exchange): void;
}

export interface ExchangeOptions {
  durable: boolean;
  autoDelete: boolean;
  internal: boolean;
  arguments: FieldTable;
}

/**
 * The narrow base every exchange type implements: keep bindings, route a message to destinations.
 * Routing through exchange-to-exchange bindings and alternate exchanges is the virtual host's job.
 */
export abstract class Exchange {
  readonly kind = 'exchange' as const;
  /** Bindings where this exchange is the source, by id. */
  readonly bindings = new Map<string, Binding>();
  /** Set while routing, so an exchange reached twice in one pass (cycles, diamonds) is visited once. */
  routeMark = 0;
  /** The alternate exchange (argument, else policy), resolved by name at publish time. */
  alternateExchange: string | undefined;
  /** The policy that applies, if any (management API). */
  policy: string | undefined;
  policyDefinition: Record<string, unknown> | undefined;

  constructor(
    readonly name: string,
    readonly options: ExchangeOptions,
  ) {
    const ae = options.arguments.get('alternate-exchange');
    this.alternateExchange = ae?.type === 'S' ? ae.value : undefined;
  }

  abstract readonly type: ExchangeType;

  /** A policy was set, changed or cleared; the exchange's own alternate-exchange argument wins over it. */
  applyPolicy(name: string | undefined, definition: Record<string, unknown>): void {
    this.policy = name;
    this.policyDefinition = name === undefined ? undefined : definition;
    const ae = this.options.arguments.get('alternate-exchange');
    this.alternateExchange = ae?.type === 'S' ? ae.value : (definition['alternate-exchange'] as string | undefined);
  }

  bind(binding: Binding): boolean {
    if (this.bindings.has(binding.id)) return false;
    this.bindings.set(binding.id, binding);
    this.added(binding);
    return true;
  }

  unbind(id: string): Binding | undefined {
    const binding = this.bindings.get(id);
    if (!binding) return undefined;
    this.bindings.delete(id);
    this.removed(binding);
    return binding;
  }

  protected abstract added(binding: Binding): void;
  protected abstract removed(binding: Binding): void;
  /** Adds the destinations for one routing key (a message routes by its key plus any CC/BCC keys). */
  abstract route(message: Message, routingKey: string, out: RouteCollector): void;
}
