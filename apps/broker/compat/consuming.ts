// Consuming, getting and publishing with amqplib, and the small reads scenarios sync on.

import type { Channel, ConfirmChannel, ConsumeMessage, GetMessage, Message, Options } from 'amqplib';
import type { Conn } from './amqplib-connection';
import { attempt, plain } from './outcomes';
import { quiet, QUIET_MS, waitUntil } from './timing';

/** A consumer that buffers its deliveries. `cancelled` turns true on a server-sent basic.cancel. */
export class Consumer {
  readonly messages: ConsumeMessage[] = [];
  cancelledByServer = false;
  tag = '';

  constructor(
    readonly ch: Channel,
    readonly queue: string,
  ) {}

  static async start(
    ch: Channel,
    queue: string,
    opts: Options.Consume = {},
    onMessage?: (m: ConsumeMessage) => void,
  ): Promise<Consumer> {
    const c = new Consumer(ch, queue);
    const ok = await ch.consume(
      queue,
      (m) => {
        if (m === null) c.cancelledByServer = true;
        else {
          c.messages.push(m);
          if (onMessage) onMessage(m);
        }
      },
      opts,
    );
    c.tag = ok.consumerTag;
    return c;
  }

  /** Wait until at least n messages have arrived. */
  async waitFor(n: number, timeoutMs = 3000): Promise<ConsumeMessage[]> {
    await waitUntil(
      () => this.messages.length >= n,
      timeoutMs,
      `${n} deliveries on ${this.queue} (got ${this.messages.length})`,
    );
    return this.messages.slice(0, n);
  }

  async cancel(): Promise<void> {
    await this.ch.cancel(this.tag);
  }
}

export interface CollectOpts {
  timeoutMs?: number;
  noAck?: boolean;
  /** keep the consumer running (default: cancel once n messages arrived) */
  keep?: boolean;
  /** return what arrived instead of throwing on timeout */
  allowFewer?: boolean;
  consume?: Options.Consume;
}

/**
 * Consume from `queue` until n messages arrived, then cancel. n = 0 means "show that
 * nothing arrives": wait a short bounded time (after the caller's sync point).
 */
export async function collect(
  ch: Channel,
  queue: string,
  n: number,
  opts: CollectOpts = {},
): Promise<ConsumeMessage[]> {
  const c = await Consumer.start(ch, queue, { noAck: opts.noAck ?? true, ...(opts.consume ?? {}) });
  try {
    if (n === 0) {
      await quiet(opts.timeoutMs ?? QUIET_MS);
      return c.messages.slice();
    }
    try {
      await c.waitFor(n, opts.timeoutMs ?? 3000);
    } catch (e) {
      if (!opts.allowFewer) throw e;
    }
    return c.messages.slice();
  } finally {
    if (!opts.keep) await ch.cancel(c.tag).catch(() => undefined);
  }
}

/** basic.get until get-empty; returns the messages (acked by no-ack unless noAck=false). */
export async function drain(
  ch: Channel,
  queue: string,
  opts: { noAck?: boolean; max?: number } = {},
): Promise<GetMessage[]> {
  const out: GetMessage[] = [];
  const max = opts.max ?? 10000;
  while (out.length < max) {
    const m = await ch.get(queue, { noAck: opts.noAck ?? true });
    if (m === false) break;
    out.push(m);
  }
  return out;
}

/** [body, redelivered] of each message left in a queue (drained with no-ack). */
export async function drainRedelivered(ch: Channel, queue: string): Promise<Array<[string, boolean]>> {
  return (await drain(ch, queue)).map((m) => [m.content.toString(), m.fields.redelivered]);
}

/** Bodies (utf8) of the messages left in a queue (drained with no-ack). */
export async function bodies(ch: Channel, queue: string): Promise<string[]> {
  return (await drain(ch, queue)).map((m) => m.content.toString());
}

/** Summary of a delivered message. */
export function summary(m: Message | null | false, opts: { props?: boolean; tag?: boolean } = {}): any {
  if (!m) return m;
  const f: any = m.fields;
  const out: any = {
    body: m.content.toString(),
    exchange: f.exchange,
    routingKey: f.routingKey,
    redelivered: f.redelivered,
  };
  if (f.messageCount !== undefined) out.messageCount = f.messageCount;
  if (opts.tag) out.deliveryTag = f.deliveryTag;
  if (opts.props) out.properties = definedProps(m);
  return out;
}

/** Message properties with the undefined ones removed. */
export function definedProps(m: Message): any {
  const p: any = {};
  for (const [k, v] of Object.entries(m.properties)) if (v !== undefined) p[k] = plain(v);
  return p;
}

/** Publish on a confirm channel and wait for the ack/nack; resolves 'ack' | 'nack'. */
export function publishConfirmed(
  ch: ConfirmChannel,
  exchange: string,
  routingKey: string,
  body: string | Buffer,
  options: Options.Publish = {},
): Promise<'ack' | 'nack'> {
  return new Promise((resolve) => {
    ch.publish(exchange, routingKey, Buffer.isBuffer(body) ? body : Buffer.from(body), options, (err) =>
      resolve(err ? 'nack' : 'ack'),
    );
  });
}

/** A queue's message count by passive declare (which counts as use for x-expires), or 'gone'. */
export async function queueCount(conn: Conn, q: string): Promise<number | 'gone'> {
  const ch = await conn.channel();
  const r = await attempt(ch.checkQueue(q), conn);
  if (r.kind !== 'ok') return 'gone';
  const ok = await ch.checkQueue(q);
  await ch.close();
  return ok.messageCount;
}

/** Sync point: a round trip on the channel (queue.declare passive of a queue that exists). */
export async function roundTrip(ch: Channel, queue: string): Promise<{ messageCount: number; consumerCount: number }> {
  const ok = await ch.checkQueue(queue);
  return { messageCount: ok.messageCount, consumerCount: ok.consumerCount };
}

/**
 * Poll queue.declare(passive) until the queue reports `n` ready messages. Needed after
 * operations whose effect on the queue is asynchronous in RabbitMQ (ack/nack/reject
 * requeues, requeue on channel close, tx commit): RabbitMQ answers the passive declare
 * with priority over pending requeues, so a single round trip is not a sync point there.
 */
export async function waitForCount(ch: Channel, queue: string, n: number, timeoutMs = 3000): Promise<void> {
  await waitUntil(
    async () => (await ch.checkQueue(queue)).messageCount === n,
    timeoutMs,
    `${n} ready messages in ${queue}`,
  );
}
