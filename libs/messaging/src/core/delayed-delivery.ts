import { connect, type Channel, type ChannelModel } from 'amqplib';
import { MessagingError } from '../errors';
import type { AmqpConnection } from './connection';
import type { MessagingLogger } from './options';
import { withQueueType, type QueueType } from './queue-type';
import { settleWithin } from './settle';

/**
 * Delayed messages: `publish({ ..., delay })` and retries with per-message jitter.
 *
 * Two ways, chosen per connection:
 *
 * - **The broker's `x-delayed-message` exchange** (RabbitMQ's delayed-message plugin, built into the bundled
 *   broker). One exchange, `delayedExchange` (default `warren.delayed`), with `x-delayed-type: headers`. A delayed
 *   publish goes there with its own routing key, `x-delay: <ms>` and `warren-delay-target: exchange:<name>` (or
 *   `queue:<name>` for the default exchange). When it is due, the headers routing hands it to the target exchange
 *   (an exchange-to-exchange binding on that header) with the routing key untouched, so it reaches exactly the
 *   queues an undelayed publish would; a default-exchange target is a queue bound on its own header. Exact
 *   per-message delays, any number of them.
 * - **TTL delay queues** when the broker has no such exchange (RabbitMQ without the plugin) or
 *   `delayedMessages: 'ttl-queues'`. A headers exchange `<delayedExchange>.ttl` routes the message (routing key
 *   untouched) to a delay queue per target and power-of-two bucket, `<delayedExchange>.ttl.<target>.<bound>ms`,
 *   holding delays in (bound/2, bound]; the message carries its delay as per-message expiration, and the queue
 *   dead-letters it to the target exchange with its own routing key when it expires. A broker expires messages
 *   at the head of a queue only: in one bucket a message waits behind an earlier one with a longer delay, by
 *   less than its own delay (every delay there is within a factor of two), and by nothing when the delays in a
 *   bucket are due in the order they were sent (the same delay each time, the usual case).
 *
 * Either way the publish resolves when the broker holds the message (the delayed exchange confirms a held
 * message at once; a delay queue after it stored it), and nobody checks routability when it is due: a delayed
 * message no queue is bound for at that moment is dropped. Retries use the delayed exchange when there is one
 * (the level's backoff with jitter); otherwise the `<queue>.retry.<n>` queues as before.
 */
export type DelayMode = 'delayed-exchange' | 'ttl-queues';

/** The longest delay: an Erlang timer's limit, which the plugin and per-message TTLs share. */
export const MAX_DELAY_MS = 4294967295;
export const DEFAULT_DELAYED_EXCHANGE = 'warren.delayed';
/** The header that picks the target in the delayed (or TTL) headers exchange. Not `x-…`: those never match. */
export const DELAY_TARGET_HEADER = 'warren-delay-target';
export const DELAY_BUCKET_HEADER = 'warren-delay-bucket';
/** The plugin's header. */
export const DELAY_HEADER = 'x-delay';
/** Headers the delay machinery adds; a retry or a parked copy drops them. */
export const DELAY_HEADERS: readonly string[] = [DELAY_HEADER, DELAY_TARGET_HEADER, DELAY_BUCKET_HEADER];

/** The validated delay in ms (an integer from 0 to 2^32 − 1); throws a RangeError naming the value otherwise. */
export function validateDelay(delay: unknown): number {
  if (typeof delay !== 'number' || !Number.isInteger(delay) || delay < 0 || delay > MAX_DELAY_MS) {
    const shown = typeof delay === 'number' ? String(delay) : typeof delay === 'string' ? `'${delay}'` : typeof delay;
    throw new RangeError(`invalid delay ${shown}: need a whole number of milliseconds from 0 to ${MAX_DELAY_MS}`);
  }
  return delay;
}

/** The bucket a delay goes to in the TTL fallback: the smallest power of two ≥ delay. */
export function delayBucket(delay: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(1, delay)));
}

/** The target label of a publish: `exchange:<name>`, or `queue:<name>` for the default exchange. */
export function delayTarget(exchange: string, routingKey: string): string {
  return exchange === '' ? `queue:${routingKey}` : `exchange:${exchange}`;
}

/** The exchange a delayed delivery was meant for (its header), when it came through the delayed exchange. */
export function delayedTargetExchange(headers: Record<string, unknown>): string | undefined {
  const t = headers[DELAY_TARGET_HEADER];
  if (typeof t !== 'string') return undefined;
  if (t.startsWith('exchange:')) return t.slice('exchange:'.length);
  return t.startsWith('queue:') ? '' : undefined;
}

export const ttlDelayExchangeName = (delayedExchange: string): string => `${delayedExchange}.ttl`;
/** The TTL fallback's delay queue for a target exchange ('' = the default exchange) and a bucket. */
export const ttlDelayQueueName = (delayedExchange: string, targetExchange: string, bucket: number): string =>
  `${delayedExchange}.ttl.${targetExchange === '' ? 'amq.default' : targetExchange}.${bucket}ms`;

/** How a delayed publish goes on the wire (the message keeps its own routing key). */
export interface DelayRoute {
  exchange: string;
  routingKey: string;
  headers: Record<string, unknown>;
  mandatory: boolean;
  expiration?: string;
}

export interface DelayedDeliveryOptions {
  connectionName: string;
  /** The type of the TTL delay queues (queue-type.ts). */
  queueType: QueueType;
  exchange: string;
  /** 'auto': the broker's exchange when it has one; 'ttl-queues': never ask. */
  use: 'auto' | 'ttl-queues';
  timeoutMs: number;
  logger: MessagingLogger;
}

/**
 * Finds out on every (re)connection which way delays go (a probe on a connection of its own: RabbitMQ refuses
 * an unknown exchange type by closing the connection, 503), declares what that way needs, and turns a
 * delayed publish into its route.
 */
export class DelayedDelivery {
  private current?: DelayMode;
  private reason = '';
  private preparedOn?: ChannelModel;
  private prepared = new Map<string, Promise<void>>();

  constructor(
    private readonly connection: AmqpConnection,
    private readonly options: DelayedDeliveryOptions,
  ) {}

  /** How delays go on the current connection; undefined before the first connection. */
  get mode(): DelayMode | undefined {
    return this.current;
  }

  get exchange(): string {
    return this.options.exchange;
  }

  /** A connect hook: probe (unless forced to TTL queues), then declare the exchange the chosen way uses. */
  readonly hook = async (model: ChannelModel): Promise<void> => {
    const { use, exchange } = this.options;
    // the probe goes to the broker this connection is being set up with (the url option may list several)
    const offered = use === 'auto' && (await probeDelayedExchange({ ...this.options, url: this.connection.url }));
    const mode: DelayMode = offered ? 'delayed-exchange' : 'ttl-queues';
    const reason =
      mode === 'delayed-exchange'
        ? ''
        : use === 'ttl-queues'
          ? "delayedMessages: 'ttl-queues'"
          : 'the broker has no x-delayed-message';
    if (mode === 'ttl-queues') {
      const ch = await model.createChannel();
      ch.on('error', () => undefined);
      try {
        await ch.assertExchange(ttlDelayExchangeName(exchange), 'headers', { durable: true });
      } finally {
        await ch.close().catch(() => undefined);
      }
    }
    if (mode !== this.current || reason !== this.reason) {
      this.options.logger.log(
        mode === 'delayed-exchange'
          ? `delayed messages: broker exchange ${exchange}`
          : `delayed messages: TTL delay queues (${reason})`,
      );
    }
    this.current = mode;
    this.reason = reason;
  };

  /**
   * The route for a publish to (exchange, routingKey) held for `delay` ms (≥ 1), declaring on first use per
   * connection what it needs: the binding of the target to the delayed exchange, or the TTL bucket queue.
   */
  async route(target: { exchange: string; routingKey: string }, delay: number, waitMs: number): Promise<DelayRoute> {
    const model = await this.connection.waitForConnection(waitMs);
    const mode = this.current;
    if (mode === undefined) throw new MessagingError('DELAY_UNAVAILABLE', 'delayed messages: not connected yet');
    const label = delayTarget(target.exchange, target.routingKey);
    const { exchange } = this.options;
    if (mode === 'delayed-exchange') {
      await this.prepare(model, `d\u0000${label}`, async (ch) => {
        const args = { 'x-match': 'all', [DELAY_TARGET_HEADER]: label };
        if (target.exchange === '') await ch.bindQueue(target.routingKey, exchange, '', args);
        else await ch.bindExchange(target.exchange, exchange, '', args);
      });
      return {
        exchange,
        routingKey: target.routingKey,
        headers: { [DELAY_HEADER]: delay, [DELAY_TARGET_HEADER]: label },
        mandatory: false,
      };
    }
    const bucket = delayBucket(delay);
    const ttlExchange = ttlDelayExchangeName(exchange);
    await this.prepare(model, `t\u0000${label}\u0000${bucket}`, async (ch) => {
      // the target must exist, as for an undelayed publish (404 otherwise)
      if (target.exchange === '') await ch.checkQueue(target.routingKey);
      else await ch.checkExchange(target.exchange);
      const queue = ttlDelayQueueName(exchange, target.exchange, bucket);
      // at-most-once dead-lettering when it is a quorum queue: a due message nothing is bound for is dropped, as
      // documented, where at-least-once would keep it in the delay queue for ever
      await ch.assertQueue(
        queue,
        withQueueType(this.options.queueType, {
          durable: true,
          arguments: { 'x-dead-letter-exchange': target.exchange },
        }),
      );
      await ch.bindQueue(queue, ttlExchange, '', {
        'x-match': 'all',
        [DELAY_TARGET_HEADER]: label,
        [DELAY_BUCKET_HEADER]: String(bucket),
      });
    });
    return {
      exchange: ttlExchange,
      routingKey: target.routingKey,
      headers: { [DELAY_TARGET_HEADER]: label, [DELAY_BUCKET_HEADER]: String(bucket) },
      mandatory: true, // the delay queue must take it (a missing one is a topology error worth seeing)
      expiration: String(delay),
    };
  }

  /** Runs `declare` once per connection and key, on a channel of its own; a failure is retried next time. */
  private prepare(model: ChannelModel, key: string, declare: (ch: Channel) => Promise<void>): Promise<void> {
    if (this.preparedOn !== model) {
      this.preparedOn = model;
      this.prepared = new Map();
    }
    let done = this.prepared.get(key);
    if (!done) {
      const map = this.prepared;
      done = (async () => {
        const ch = await model.createChannel();
        let channelError: Error | undefined;
        ch.on('error', (err: Error) => (channelError = err));
        try {
          await declare(ch);
        } catch (err) {
          const e = channelError ?? (err as Error);
          throw new MessagingError('CHANNEL_ERROR', `delayed publish: ${e.message}`, { cause: e });
        } finally {
          await ch.close().catch(() => undefined);
        }
      })();
      map.set(key, done);
      done.catch(() => map.delete(key));
    }
    return done;
  }
}

/**
 * Whether the broker offers `x-delayed-message`: declares the (durable, headers-typed) delayed exchange on a
 * short-lived connection of its own. RabbitMQ without the plugin closes the connection with 503
 * COMMAND_INVALID "unknown exchange type" (a passive declare would not check the type): that means no. Any
 * other failure (the exchange exists with another type or arguments, access refused, no answer) is an error.
 */
export async function probeDelayedExchange(
  o: Pick<DelayedDeliveryOptions, 'connectionName' | 'exchange' | 'timeoutMs'> & { url: string },
): Promise<boolean> {
  const fail = (detail: string, cause?: unknown) =>
    new MessagingError(
      'DELAY_PROBE_FAILED',
      `could not find out whether the broker offers x-delayed-message (declaring exchange '${o.exchange}'): ${detail}; set delayedMessages: 'ttl-queues' to use TTL delay queues without asking`,
      { cause },
    );
  let conn: ChannelModel | undefined;
  let connectionError: (Error & { code?: number }) | undefined;
  let closed: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const work = (async () => {
    conn = await connect(o.url, {
      clientProperties: { connection_name: `${o.connectionName} (delayed-message probe)` },
      timeout: o.timeoutMs,
    });
    closed = new Promise((r) => conn!.once('close', r));
    conn.on('error', (err: Error & { code?: number }) => (connectionError = err));
    const ch = await conn.createChannel();
    ch.on('error', () => undefined); // the rejection carries it
    try {
      await ch.assertExchange(o.exchange, 'x-delayed-message', {
        durable: true,
        arguments: { 'x-delayed-type': 'headers' },
      });
      return true;
    } catch (err) {
      // a connection error rejects the declare with "Channel ended" (no code); its reason comes on the connection
      if ((err as { code?: unknown }).code === undefined) await settleWithin(closed, 2000);
      if (connectionError?.code === 503 && /unknown exchange type/.test(connectionError.message)) return false;
      throw fail((connectionError ?? (err as Error)).message, connectionError ?? err);
    }
  })();
  const late = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(fail(`no answer within ${o.timeoutMs} ms`)), o.timeoutMs)),
  );
  try {
    return await Promise.race([work, late]);
  } catch (err) {
    if (err instanceof MessagingError) throw err;
    throw fail((err as Error).message, err);
  } finally {
    clearTimeout(timer);
    const closing = work
      .catch(() => undefined)
      .then(() => (conn as ChannelModel | undefined)?.close().catch(() => undefined));
    await settleWithin(closing, 2000);
  }
}
