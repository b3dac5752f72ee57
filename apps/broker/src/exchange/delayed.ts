import { FLAG_HEADERS, ReplyCode } from '@warren/amqp-protocol';
import { connectionError, preconditionFailed } from '../errors';
import type { Message } from '../message';
import { DirectExchange } from './direct';
import { BaseExchangeType, Binding, Exchange, ExchangeOptions, RouteCollector } from './exchange';
import { FanoutExchange } from './fanout';
import { HeadersExchange, validateHeadersBinding } from './headers';
import { TopicExchange } from './topic';

/**
 * The exchange type of RabbitMQ's delayed-message plugin (rabbitmq-delayed-message-exchange), built in.
 *
 * Declared with an `x-delayed-type` argument naming the type it routes as. A message that reaches it with an
 * `x-delay` header of 1 .. 2^32-1 ms is held and routed by that type when it is due; any other message
 * (no header, 0, negative, too large, a type that is not a number) is routed at once. What the plugin does,
 * quirks included:
 *
 * - a held message counts as routed nowhere at publish time: `mandatory` returns it at once (NO_ROUTE), an
 *   alternate exchange receives it at once, and a confirm is sent at once;
 * - when it is due it is routed once, through the exchange's bindings of that moment (and its alternate
 *   exchange); if nothing matches it is dropped (no return: the publisher's connection may be long gone);
 * - the `x-delay` header reaches consumers as the publisher sent it (the plugin sets it to -delay in the
 *   decoded message only, and forwards the publisher's encoded properties);
 * - a string `x-delay` is parsed as an integer and a float truncated; a string that is not an integer or a
 *   decimal value crashes the plugin's routing, which RabbitMQ reports as 541 INTERNAL_ERROR on the connection.
 *
 * Holding, storage and the timer are the DelayHost's (delay-scheduler.ts).
 */
export const DELAYED_TYPE = 'x-delayed-message';
/** The longest delay the plugin accepts (an Erlang timer's limit); longer ones are routed at once. */
export const MAX_DELAY = 4294967295;

const BASE_TYPES: Record<BaseExchangeType, new (name: string, options: ExchangeOptions) => Exchange> = {
  direct: DirectExchange,
  fanout: FanoutExchange,
  topic: TopicExchange,
  headers: HeadersExchange,
};

/** Where held messages go (one per virtual host). */
export interface DelayHost {
  hold(exchange: DelayedExchange, message: Message, delay: number): void;
}

/** Messages coming out of the delay: routed through delayed exchanges without being held again. */
const released = new WeakSet<Message>();
export function markReleased(message: Message): void {
  released.add(message);
}

/** The plugin's checks on `x-delayed-type` (only when the exchange is created, not on a redeclaration). */
function baseType(options: ExchangeOptions): BaseExchangeType {
  const arg = options.arguments.get('x-delayed-type');
  // Erlang binaries: a longstr or a byte array
  const type = arg?.type === 'S' ? arg.value : arg?.type === 'x' ? arg.value.toString('utf8') : undefined;
  if (type === DELAYED_TYPE)
    throw preconditionFailed(`Invalid argument, '${DELAYED_TYPE}' can't be used for 'x-delayed-type'`);
  if (type === undefined)
    throw preconditionFailed(`Invalid argument, 'x-delayed-type' must be an existing exchange type`);
  if (!Object.hasOwn(BASE_TYPES, type))
    throw connectionError(ReplyCode.COMMAND_INVALID, `unknown exchange type '${type}'`);
  return type as BaseExchangeType;
}

/** The plugin's crash on an x-delay it cannot convert: RabbitMQ closes the connection with 541. */
function unconvertible(detail: string) {
  return connectionError(ReplyCode.INTERNAL_ERROR, `x-delay ${detail} could not be converted to an integer`).at(0, 0);
}

/**
 * The delay a message asks for, as the plugin reads `x-delay`: integers as they are, strings parsed as
 * base-10 integers (an optional sign, digits only), floats truncated; anything else means no delay. Returns
 * the delay when the message is to be held (1 .. MAX_DELAY ms), undefined when it is routed at once.
 */
export function delayOf(message: Message): number | undefined {
  if ((message.flags & FLAG_HEADERS) === 0) return undefined;
  const value = message.properties.headers?.get('x-delay');
  if (value === undefined) return undefined;
  let delay: number;
  switch (value.type) {
    case 'b':
    case 'B':
    case 's':
    case 'u':
    case 'I':
    case 'i':
      delay = value.value;
      break;
    case 'l': {
      const v = BigInt(value.value);
      if (v <= 0n || v > BigInt(MAX_DELAY)) return undefined;
      delay = Number(v);
      break;
    }
    case 'S': {
      if (!/^[+-]?[0-9]+$/.test(value.value)) throw unconvertible(`'${value.value.slice(0, 64)}'`);
      const v = BigInt(value.value);
      if (v <= 0n || v > BigInt(MAX_DELAY)) return undefined;
      delay = Number(v);
      break;
    }
    case 'f':
    case 'd':
      if (!Number.isFinite(value.value)) throw unconvertible(String(value.value));
      delay = Math.trunc(value.value);
      break;
    case 'D':
      throw unconvertible('(decimal)');
    default:
      return undefined;
  }
  return delay > 0 && delay <= MAX_DELAY ? delay : undefined;
}

/** An x-delayed-message exchange: bindings and routing are its x-delayed-type's, messages with a delay are held. */
export class DelayedExchange extends Exchange {
  readonly type = DELAYED_TYPE;
  readonly baseType: BaseExchangeType;
  private readonly base: Exchange;
  /** The message held in the current routing pass (route() is called again for each CC/BCC key). */
  private held: Message | undefined;
  /** Messages held and not yet routed (for the management API and tests). */
  pending = 0;

  constructor(
    name: string,
    options: ExchangeOptions,
    private readonly host: DelayHost | undefined,
  ) {
    super(name, options);
    this.baseType = baseType(options);
    this.base = new BASE_TYPES[this.baseType](name, options);
  }

  override bind(binding: Binding): boolean {
    if (this.baseType === 'headers') validateHeadersBinding(binding.arguments);
    return super.bind(binding);
  }

  protected added(binding: Binding): void {
    this.base.bind(binding);
  }

  protected removed(binding: Binding): void {
    this.base.unbind(binding.id);
  }

  route(message: Message, routingKey: string, out: RouteCollector): void {
    if (message === this.held) return;
    if (this.host !== undefined && !released.has(message)) {
      const delay = delayOf(message);
      if (delay !== undefined) {
        this.held = message;
        this.host.hold(this, message, delay);
        return;
      }
    }
    this.held = undefined;
    this.base.route(message, routingKey, out);
  }
}
