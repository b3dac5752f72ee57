import type { ChannelModel, Options } from 'amqplib';
import { deadLetterQueueName } from './retry-policy';

/**
 * The queue type of every durable queue the library declares (`queueType`, MESSAGING_QUEUE_TYPE in services):
 * work queues, their `<queue>.retry.<n>` delay queues and `<queue>.dlq`, the TTL delay queues of delayed
 * messages, and durable queues declared through Topology. Exclusive and auto-delete queues stay classic: a quorum
 * queue is always durable, shared and kept.
 *
 * Quorum work queues end a poison loop on the broker: `x-delivery-limit` counts the deliveries that ended without
 * a settle (a consumer that crashed, or lost its channel, before ack or nack) and dead-letters the message to
 * `<queue>.dlq` past the limit, with reason `delivery_limit` in x-death. Classic queues count no deliveries, so the
 * consumer counts them itself (consumer.ts: the redelivery count). Checked on RabbitMQ 3.10: quorum queues take
 * x-message-ttl and per-message expiration and dead-letter expired messages, so the TTL delay queues can be quorum
 * queues too.
 */
export type QueueType = 'classic' | 'quorum';

export const QUEUE_TYPES: readonly QueueType[] = ['classic', 'quorum'];

/**
 * Deliveries without a settle a message may have before it is parked: a message that kills its consumer every
 * time is handled this many times plus one, then parked. Ten tells a poison message from bad luck (a deploy, a
 * lost connection) and costs ten restarts of a crashing service; RabbitMQ 4's own default is 20.
 */
export const DEFAULT_DELIVERY_LIMIT = 10;

/** The validated queue type; a RangeError naming the value otherwise. */
export function validateQueueType(type: unknown): QueueType {
  if (type === 'classic' || type === 'quorum') return type;
  throw new RangeError(
    `invalid queueType ${typeof type === 'string' ? `'${type}'` : String(type)}: need 'classic' or 'quorum'`,
  );
}

/** The validated delivery limit: a whole number from 0 (park on the first redelivery) up. */
export function validateDeliveryLimit(limit: unknown): number {
  if (typeof limit === 'number' && Number.isInteger(limit) && limit >= 0 && limit <= 0x7fffffff) return limit;
  throw new RangeError(`invalid deliveryLimit ${String(limit)}: need a whole number from 0 to ${0x7fffffff}`);
}

/** The type a queue with these arguments has: `x-queue-type` when given, else classic (as the broker decides). */
export function queueTypeOf(args: Record<string, unknown> | undefined): string {
  const t = args?.['x-queue-type'];
  return typeof t === 'string' ? t : Buffer.isBuffer(t) ? t.toString('utf8') : 'classic';
}

/**
 * A queue declaration with the library's queue type applied: a durable, shared, kept queue without an
 * `x-queue-type` of its own gets `type`; anything else is left as it is.
 */
export function withQueueType(type: QueueType, options: Options.AssertQueue = {}): Options.AssertQueue {
  const durable = options.durable ?? true;
  if (
    type === 'classic' ||
    !durable ||
    options.exclusive ||
    options.autoDelete ||
    options.arguments?.['x-queue-type'] !== undefined
  )
    return { ...options, durable };
  return { ...options, durable, arguments: { 'x-queue-type': type, ...options.arguments } };
}

/**
 * Dead-lettering from a quorum queue at least once: the broker keeps the message until the target queue has
 * confirmed it, instead of forgetting it as soon as it is sent (at-most-once, the default, loses it when the
 * target is unavailable at that moment). RabbitMQ accepts the strategy only with `x-overflow: reject-publish`
 * (otherwise it falls back to at-most-once); that overflow only matters with a length limit, which the library
 * does not set, and then it refuses new publishes (the publisher sees a nack) rather than dropping the oldest.
 */
const AT_LEAST_ONCE = { 'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'reject-publish' } as const;

/** The work queue: for quorum, the delivery limit and its parking path to `<queue>.dlq`. `explicit` wins. */
export function workQueueOptions(
  queue: string,
  type: QueueType,
  deliveryLimit: number,
  explicit?: Record<string, unknown>,
): Options.AssertQueue {
  const effective = explicit?.['x-queue-type'] === undefined ? type : queueTypeOf(explicit);
  if (effective !== 'quorum') return withQueueType(type, { durable: true, arguments: explicit });
  return {
    durable: true,
    arguments: {
      'x-queue-type': 'quorum',
      'x-delivery-limit': deliveryLimit,
      'x-dead-letter-exchange': '',
      'x-dead-letter-routing-key': deadLetterQueueName(queue),
      ...AT_LEAST_ONCE,
      ...explicit,
    },
  };
}

/** A `<queue>.retry.<n>` delay queue: a fixed TTL, then back to the work queue through the default exchange. */
export function retryQueueOptions(queue: string, type: QueueType, ttlMs: number): Options.AssertQueue {
  const args = { 'x-message-ttl': ttlMs, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': queue };
  return withQueueType(type, { durable: true, arguments: type === 'quorum' ? { ...args, ...AT_LEAST_ONCE } : args });
}

/**
 * `<queue>.dlq`: no delivery limit, so reading it (DeadLetterQueue takes messages without an ack and gives them
 * back, and each return counts as a delivery) never drops what it holds; it has no dead-letter target of its own.
 * RabbitMQ 3.x has no limit unless one is set (and takes -1 as "dead-letter at the first return": tried on 3.10);
 * RabbitMQ 4 sets 20 unless told -1 (unlimited). So the argument is sent to RabbitMQ 4 and later only.
 */
export function deadLetterQueueOptions(type: QueueType, model: ChannelModel): Options.AssertQueue {
  if (type !== 'quorum') return { durable: true };
  return {
    durable: true,
    arguments: { 'x-queue-type': 'quorum', ...(limitsDeliveriesByDefault(model) ? { 'x-delivery-limit': -1 } : {}) },
  };
}

/** RabbitMQ 4 and later give quorum queues a delivery limit of 20 by default. */
function limitsDeliveriesByDefault(model: ChannelModel): boolean {
  const props = (model.connection as unknown as { serverProperties?: Record<string, unknown> }).serverProperties ?? {};
  const product = String(props.product ?? '');
  const major = Number(/^(\d+)\./.exec(String(props.version ?? ''))?.[1]);
  return product === 'RabbitMQ' && major >= 4;
}
