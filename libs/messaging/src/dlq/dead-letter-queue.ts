import { IllegalOperationError, type ConfirmChannel, type GetMessage, type Message, type Options } from 'amqplib';
import { BrokerUnavailableError, MessagingError, PublishNackedError, UnroutableError } from '../errors';
import { FAILURE_HEADERS, Headers } from '../core/headers';
import type { Messaging } from '../core/messaging';
import { deadLetterQueueName } from '../core/retry-policy';
import { borrowedLink, ownLink, type BrokerLink } from './broker-link';
import { DeadLetterQueueNotFoundError } from './dead-letter-queue-not-found.error';
import { deathRecords, toParkedMessage, type ParkedMessage } from './parked-message';
import { ReplayFailedError } from './replay-failed.error';

export interface DeadLetterQueueOptions {
  /** Connecting (or waiting for a Messaging to reconnect), and waiting for each batch of confirms. Default 10 s. */
  timeoutMs?: number;
  /** The connection name the broker shows, for a connection of our own. Default 'warren-dlq'. */
  connectionName?: string;
}

export interface ReplayResult {
  /** Messages sent back to their work queue and removed from the DLQ. */
  replayed: number;
  /** Requested ids that were not in the DLQ. */
  notFound: string[];
}

/** Republishes in flight before waiting for their confirms: one round trip (and fsync) per batch, not per message. */
const BATCH = 100;

/**
 * Inspects and replays `<queue>.dlq`, the queue where QueueConsumer parks messages that failed for good.
 *
 *   const dlq = new DeadLetterQueue(messaging);                  // shares a running service's connection
 *   const dlq = new DeadLetterQueue('amqp://guest:guest@host');  // or opens its own (the CLI does), then dlq.close()
 *   await dlq.list('payments.order-placed');
 *   await dlq.replay('payments.order-placed', { ids: ['…'] });
 *
 * Reading without removing: every operation takes messages with basic.get and no ack on a channel of its
 * own, acks only those it removes, and closes the channel; the broker puts every message it did not get an
 * ack for back in its old place (both brokers keep the order; the DLQ specs prove it). The `queue`
 * argument is the work queue; the DLQ's own name (`….dlq`) is accepted too.
 *
 * One operation sees the messages that were ready when it started: a replayed message that fails again is
 * parked at the tail meanwhile and is not replayed a second time. Messages another client holds unacked at
 * that moment (a concurrent list) are not seen.
 */
export class DeadLetterQueue {
  private readonly link: BrokerLink;
  private readonly timeoutMs: number;

  constructor(source: Messaging | string, options: DeadLetterQueueOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.link =
      typeof source === 'string'
        ? ownLink(source, this.timeoutMs, options.connectionName ?? 'warren-dlq')
        : borrowedLink(source, this.timeoutMs);
  }

  /** Messages ready in the DLQ. */
  async count(queue: string): Promise<number> {
    const { dlq } = queueNames(queue);
    return this.withChannel(dlq, (ch) => readyCount(ch, dlq));
  }

  /** The parked messages, oldest first, up to `limit`; they stay in the DLQ, in the same order. */
  async list(queue: string, options: { limit?: number } = {}): Promise<ParkedMessage[]> {
    const { dlq } = queueNames(queue);
    const limit = options.limit ?? Infinity;
    if (!(limit === Infinity || (Number.isInteger(limit) && limit >= 0)))
      throw new RangeError(`limit must be a whole number ≥ 0, got ${options.limit}`);
    let ready = 0;
    const parked = await this.withChannel(dlq, async (ch) => {
      const parked: ParkedMessage[] = [];
      ready = await readyCount(ch, dlq);
      await scan(ch, dlq, ready, limit, (raw) => void parked.push(toParkedMessage(raw)));
      return parked; // closing the channel puts them all back
    });
    if (parked.length > 0) await this.givenBack(dlq, ready);
    return parked;
  }

  /**
   * Sends all parked messages (or those with the given ids) back to their work queue (`x-original-queue`,
   * else `queue`) through the default exchange: ids, type, timestamp, content type, body and headers kept,
   * failure headers removed, `x-attempt` back to 1, `x-replay-count` + 1, `x-replayed-at` set. Each leaves
   * the DLQ only after the broker confirmed its copy, so a crash in between duplicates it, never loses it.
   * Throws ReplayFailedError (with the count so far) if a copy is refused, e.g. the work queue is gone.
   */
  async replay(queue: string, options: { ids?: string[] } = {}): Promise<ReplayResult> {
    const { work, dlq } = queueNames(queue);
    const selection = select(options.ids);
    let left = 0;
    const result = await this.withChannel(dlq, async (ch) => {
      const total = await readyCount(ch, dlq);
      const returned = trackReturns(ch);
      let batch: Copy[] = [];
      let replayed = 0;
      const settle = async (): Promise<void> => {
        const copies = batch;
        batch = [];
        const failure = await confirmed(copies, this.timeoutMs);
        // ack every confirmed copy, even past a failure: its message is in the work queue already
        for (const c of copies) {
          if (!c.confirmed) continue;
          ch.ack(c.raw);
          replayed++;
        }
        if (failure) throw failure;
      };
      try {
        await scan(ch, dlq, total, Infinity, async (raw) => {
          if (!selection.matches(raw)) return; // stays unacked: back in its place when the channel closes
          batch.push(republish(ch, returned, raw, originalQueue(raw) ?? work));
          if (batch.length >= BATCH) await settle();
        });
        await settle();
      } catch (err) {
        throw new ReplayFailedError(dlq, replayed, translate(err, dlq));
      }
      left = total - replayed;
      return { replayed, notFound: selection.notFound() };
    });
    if (left > 0) await this.givenBack(dlq, left);
    return result;
  }

  /** Deletes all parked messages, or those with the given ids (the rest keep their order). Returns how many. */
  async purge(queue: string, options: { ids?: string[] } = {}): Promise<number> {
    const { dlq } = queueNames(queue);
    let left = 0;
    const result = await this.withChannel(dlq, async (ch) => {
      const total = await readyCount(ch, dlq);
      if (options.ids === undefined) return (await ch.purgeQueue(dlq)).messageCount;
      const selection = select(options.ids);
      let purged = 0;
      await scan(ch, dlq, total, Infinity, (raw) => {
        if (!selection.matches(raw)) return;
        ch.ack(raw);
        purged++;
      });
      left = total - purged;
      return purged;
    });
    if (left > 0) await this.givenBack(dlq, left);
    return result;
  }

  /** Closes the connection this instance opened itself; a borrowed Messaging connection stays open. */
  close(): Promise<void> {
    return this.link.close();
  }

  /**
   * Waits (up to a second, never failing) until the DLQ holds `ready` messages again: those an operation took and
   * did not remove. A classic queue has them back when the channel's close-ok arrives; a quorum queue puts them
   * back through its log a moment later, and an operation right after would not see them yet.
   */
  private async givenBack(dlq: string, ready: number): Promise<void> {
    const deadline = Date.now() + 1000;
    try {
      await this.withChannel(dlq, async (ch) => {
        while ((await readyCount(ch, dlq)) < ready && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 10));
      });
    } catch {
      // best effort: the operation itself is done
    }
  }

  private async withChannel<T>(dlq: string, work: (ch: ConfirmChannel) => Promise<T>): Promise<T> {
    const model = await this.link.model();
    let ch: ConfirmChannel;
    try {
      ch = await model.createConfirmChannel();
    } catch (err) {
      throw translate(err, dlq);
    }
    ch.on('error', () => undefined); // the call that failed rejects with the same error
    let result: T;
    try {
      result = await work(ch);
    } catch (err) {
      await ch.close().catch(() => undefined);
      throw translate(err, dlq);
    }
    // Closing puts back, each in its old place, every message taken and not acked; close-ok also tells us
    // the broker has processed the acks sent before it.
    try {
      await ch.close();
    } catch (err) {
      throw translate(err, dlq);
    }
    return result;
  }
}

/** The work queue and its DLQ, from either name. */
export function queueNames(queue: string): { work: string; dlq: string } {
  if (typeof queue !== 'string' || queue === '') throw new TypeError('a queue name is required');
  const suffix = deadLetterQueueName('');
  return queue.endsWith(suffix) && queue.length > suffix.length
    ? { work: queue.slice(0, -suffix.length), dlq: queue }
    : { work: queue, dlq: deadLetterQueueName(queue) };
}

/** Passive declare: 404 (as DeadLetterQueueNotFoundError) when the DLQ does not exist. */
async function readyCount(ch: ConfirmChannel, dlq: string): Promise<number> {
  return (await ch.checkQueue(dlq)).messageCount;
}

/**
 * Takes up to min(total, limit) messages from the head, unacked. `total` is the ready count at the start,
 * so messages parked meanwhile (a replayed message failing again) are not visited.
 */
async function scan(
  ch: ConfirmChannel,
  dlq: string,
  total: number,
  limit: number,
  visit: (raw: GetMessage) => void | Promise<void>,
): Promise<void> {
  for (let seen = 0; seen < Math.min(total, limit); seen++) {
    const raw = await ch.get(dlq, { noAck: false });
    if (raw === false) return;
    await visit(raw);
  }
}

function select(ids: string[] | undefined) {
  const wanted = ids === undefined ? undefined : new Set(ids);
  const found = new Set<string>();
  return {
    matches(raw: Message): boolean {
      if (!wanted) return true;
      const id = raw.properties.messageId as unknown;
      if (typeof id !== 'string' || !wanted.has(id)) return false;
      found.add(id);
      return true;
    },
    notFound: (): string[] => (wanted ? [...wanted].filter((id) => !found.has(id)) : []),
  };
}

/** Where a replay sends it: the consumer's x-original-queue, else the queue the broker dead-lettered it from. */
function originalQueue(raw: Message): string | undefined {
  const headers = raw.properties.headers as Record<string, unknown> | undefined;
  const q = headers?.[Headers.originalQueue];
  if (typeof q === 'string' && q !== '') return q;
  const died = deathRecords(headers?.['x-death'])[0]?.queue;
  return died !== undefined && died !== '' ? died : undefined;
}

/** The replayed copy's properties: the parked message's, with a fresh start in the headers. */
function replayProperties(raw: Message, replayedAt: string): Options.Publish {
  const p = raw.properties;
  const headers: Record<string, unknown> = { ...(p.headers as Record<string, unknown> | undefined) };
  for (const h of FAILURE_HEADERS) delete headers[h];
  headers[Headers.attempt] = 1;
  headers[Headers.replayCount] = (Number(headers[Headers.replayCount]) || 0) + 1;
  headers[Headers.replayedAt] = replayedAt;
  // userId is checked against the login and expiration would let the broker drop it again: both left out
  return {
    persistent: true,
    mandatory: true,
    contentType: p.contentType,
    contentEncoding: p.contentEncoding,
    priority: p.priority,
    correlationId: p.correlationId,
    replyTo: p.replyTo,
    messageId: p.messageId,
    timestamp: p.timestamp,
    type: p.type,
    appId: p.appId,
    headers,
  };
}

interface Copy {
  raw: GetMessage;
  confirmed: boolean;
  error?: Error;
  settled: Promise<void>;
}

/**
 * basic.return arrives before the confirm of the same publish; the confirm callback looks here to tell
 * "routed" from "returned". Keyed by routing key and message id, counted, since ids may repeat in a DLQ.
 */
function trackReturns(ch: ConfirmChannel) {
  const pending = new Map<string, string[]>();
  ch.on('return', (msg: Message) => {
    const f = msg.fields as unknown as { routingKey: string; replyCode?: number; replyText?: string };
    const key = returnKey(f.routingKey, msg.properties.messageId as string | undefined);
    pending.set(key, [...(pending.get(key) ?? []), `${f.replyCode ?? 312} ${f.replyText ?? 'NO_ROUTE'}`]);
  });
  return {
    take(routingKey: string, messageId: string | undefined): string | undefined {
      const key = returnKey(routingKey, messageId);
      const replies = pending.get(key);
      const reply = replies?.shift();
      if (replies?.length === 0) pending.delete(key);
      return reply;
    },
  };
}

const returnKey = (routingKey: string, messageId: string | undefined): string =>
  `${routingKey}\u0000${messageId ?? ''}`;

function republish(
  ch: ConfirmChannel,
  returned: ReturnType<typeof trackReturns>,
  raw: GetMessage,
  target: string,
): Copy {
  const options = replayProperties(raw, new Date().toISOString());
  const copy = { raw, confirmed: false } as Copy;
  copy.settled = new Promise<void>((resolve) => {
    const fail = (error: Error) => {
      copy.error = error;
      resolve();
    };
    try {
      ch.publish('', target, raw.content, options, (err: Error | null) => {
        const reply = returned.take(target, options.messageId);
        if (err)
          fail(
            err.message === 'message nacked'
              ? new PublishNackedError('', target)
              : new BrokerUnavailableError(`no confirm for the copy sent to '${target}': ${err.message}`, {
                  cause: err,
                }),
          );
        else if (reply) fail(new UnroutableError('', target, `${reply}: the work queue '${target}' does not exist`));
        else {
          copy.confirmed = true;
          resolve();
        }
      });
    } catch (err) {
      fail(err as Error); // the channel closed under us
    }
  });
  return copy;
}

/** Waits for every copy's confirm (or the timeout); the first failure, if any. */
async function confirmed(copies: Copy[], timeoutMs: number): Promise<Error | undefined> {
  if (copies.length === 0) return undefined;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
  const outcome = await Promise.race([Promise.all(copies.map((c) => c.settled)), timeout]);
  clearTimeout(timer);
  if (outcome === 'timeout') return new BrokerUnavailableError(`no confirm from the broker within ${timeoutMs} ms`);
  return copies.find((c) => c.error)?.error;
}

/** The broker's words, as errors callers can branch on. */
function translate(err: unknown, dlq: string): Error {
  if (err instanceof MessagingError) return err;
  const e = err as Error & { code?: unknown };
  if (e?.code === 404) return new DeadLetterQueueNotFoundError(dlq, { cause: err });
  // a server's channel error carries its reply code (403, 406...): that is an answer, not a lost connection
  if (
    err instanceof IllegalOperationError ||
    (typeof e?.code !== 'number' && /(channel|connection) (closed|ended)/i.test(e?.message ?? ''))
  ) {
    return new BrokerUnavailableError(`lost the connection to the broker: ${e.message}`, { cause: err });
  }
  return err instanceof Error ? err : new Error(String(err));
}
