// The broker bench's delayed-message scenario: persistent messages published with random `x-delay` headers to
// a durable `x-delayed-message` exchange bound to a durable queue; a consumer records when each one arrives
// and how late that was. The bundled broker has the exchange type built in; RabbitMQ has it only with the
// rabbitmq-delayed-message-exchange plugin, which the reference RabbitMQ does not run, so the bench runs this
// scenario on the bundled broker only.

import * as amqp from 'amqplib';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { percentile } from '../perf/stats';
import type { Limits, ScenarioRun } from './scenarios';
import { FailureLatch } from './failure-latch';

/** What the bench prints for RabbitMQ in this scenario. */
export const RABBIT_NA = 'RabbitMQ: n/a (no x-delayed-message without the plugin)';

/** Arrivals later than this count as "late" in the summary. */
export const LATE_MS = 50;

export interface DelayedConfig {
  /** Messages to publish. */
  messages: number;
  /** Each message's x-delay is drawn uniformly from 0 .. spreadMs (whole milliseconds). */
  spreadMs: number;
  /** After the last publish, how long past spreadMs to wait for the last arrivals before giving up (the wait is
   *  spreadMs + graceMs, at least 0). */
  graceMs: number;
  /** Max unconfirmed publishes. */
  confirmWindow: number;
  prefetch: number;
  /** Seeds the delays, so every round and every run draws the same ones. */
  seed: number;
}

export interface DelayedSummary {
  published: number;
  /** Distinct messages that arrived. */
  arrived: number;
  /** Published messages that had not arrived when the run ended. */
  missing: number;
  /** Deliveries of a message that had already arrived. */
  duplicates: number;
  /** Arrivals before the publish time + x-delay (both read from Date.now(), whole ms): must be 0. */
  early: number;
  /** Arrivals more than LATE_MS after their due time. */
  lateOver50: number;
  /** Lateness (arrival - due) in ms, nearest-rank percentiles over the distinct arrivals. */
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** How long publishing took, seconds. */
  publishSeconds: number;
}

/** Summarises the lateness (ms) of each distinct arrival. */
export function summariseLateness(
  latenessMs: ArrayLike<number>,
  counts: { published: number; duplicates: number; publishSeconds: number },
): DelayedSummary {
  const sorted = Float64Array.from(latenessMs).sort();
  let early = 0;
  let late = 0;
  for (const v of sorted) {
    if (v < 0) early++;
    else if (v > LATE_MS) late++;
  }
  return {
    published: counts.published,
    arrived: sorted.length,
    missing: counts.published - sorted.length,
    duplicates: counts.duplicates,
    early,
    lateOver50: late,
    p50Ms: percentile(sorted, 50),
    p90Ms: percentile(sorted, 90),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted.length ? sorted[sorted.length - 1] : NaN,
    publishSeconds: counts.publishSeconds,
  };
}

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Message body: the due time (epoch ms, f64) and the message's index (u32). */
const BODY_SIZE = 12;

/**
 * Sets up the exchange, the queue, the consumer and the publisher; run() publishes (bounded by
 * limits.maxSeconds: the rest is not published, the run is marked capped) and then waits for every published
 * message to arrive, at most spreadMs + graceMs after the last publish.
 */
export async function delayedScenario(
  url: string,
  cfg: DelayedConfig,
  limits: Limits,
): Promise<ScenarioRun & { exchange: string; queue: string }> {
  const latch = new FailureLatch();
  const fail = latch.fail;
  const onError = (e: Error) => fail(e);
  const connect = async () => {
    const conn = await amqp.connect(url);
    conn.on('error', onError);
    return conn;
  };
  const stem = `bench-g-${process.pid}-${randomBytes(3).toString('hex')}`;
  const exchange = `${stem}-x`;
  const queue = stem;
  const admin = await connect();
  const adminCh = await admin.createChannel();
  adminCh.on('error', onError);
  const conns: amqp.ChannelModel[] = [];
  try {
    await adminCh.assertExchange(exchange, 'x-delayed-message', {
      durable: true,
      arguments: { 'x-delayed-type': 'direct' },
    });
    await adminCh.assertQueue(queue, { durable: true });
    await adminCh.bindQueue(queue, exchange, 'k');
  } catch (error) {
    // RabbitMQ without the plugin closes the connection (503 unknown exchange type): the pending call only
    // says "Channel ended"; the connection's error, emitted in the same turn or the next, says why
    await new Promise((resolve) => setImmediate(resolve));
    await admin.close().catch(() => undefined);
    throw latch.first ?? error;
  }

  const seen = new Uint8Array(cfg.messages);
  const lateness = new Float64Array(cfg.messages);
  let arrived = 0;
  let duplicates = 0;
  let published = 0;
  let lastArrival = 0n;
  let publishingDone = false;
  let allArrived: () => void = () => undefined;

  const subConn = await connect();
  conns.push(subConn);
  const sub = await subConn.createChannel();
  sub.on('error', onError);
  await sub.prefetch(cfg.prefetch);
  await sub.consume(
    queue,
    (msg) => {
      if (msg === null) return fail(new Error(`consumer of ${queue} cancelled by the broker`));
      const now = Date.now();
      sub.ack(msg);
      if (msg.content.length !== BODY_SIZE) return fail(new Error(`unexpected body of ${msg.content.length} bytes`));
      const index = msg.content.readUInt32BE(8);
      if (index >= cfg.messages) return fail(new Error(`unexpected message index ${index}`));
      if (seen[index]) {
        duplicates++;
        return;
      }
      seen[index] = 1;
      lateness[arrived++] = now - msg.content.readDoubleBE(0);
      lastArrival = process.hrtime.bigint();
      if (arrived >= published && publishingDone) allArrived();
    },
    { noAck: false },
  );

  const pubConn = await connect();
  conns.push(pubConn);
  const pub = await pubConn.createConfirmChannel();
  pub.on('error', onError);

  return {
    exchange,
    queue,
    async run() {
      const failed = latch.failed();
      const random = seededRandom(cfg.seed);
      const start = process.hrtime.bigint();
      const publishDeadline = Date.now() + limits.maxSeconds * 1000;
      let capped = false;
      let outstanding = 0;
      let wake: (() => void) | null = null;
      const onConfirm = (err: unknown) => {
        outstanding--;
        if (err) fail(new Error('a publish was nacked'));
        wake?.();
      };
      for (let i = 0; i < cfg.messages; i++) {
        if (Date.now() >= publishDeadline) {
          capped = true;
          break;
        }
        while (outstanding >= cfg.confirmWindow) {
          await Promise.race([new Promise<void>((resolve) => (wake = resolve)), failed]);
          wake = null;
        }
        const delay = Math.floor(random() * (cfg.spreadMs + 1));
        const body = Buffer.allocUnsafe(BODY_SIZE);
        // the broker takes its own Date.now() when the message arrives, which is no earlier than this one
        body.writeDoubleBE(Date.now() + delay, 0);
        body.writeUInt32BE(i, 8);
        outstanding++;
        published++;
        if (!pub.publish(exchange, 'k', body, { persistent: true, headers: { 'x-delay': delay } }, onConfirm)) {
          await Promise.race([once(pub, 'drain'), failed]);
        }
      }
      await Promise.race([pub.waitForConfirms(), failed]);
      const publishSeconds = Number(process.hrtime.bigint() - start) / 1e9;
      publishingDone = true;
      const arrivals = new Promise<void>((resolve) => {
        allArrived = resolve;
        if (arrived >= published) resolve();
      });
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>(
        (resolve) => (timer = setTimeout(() => resolve('timeout'), Math.max(0, cfg.spreadMs + cfg.graceMs))),
      );
      try {
        if ((await Promise.race([arrivals, timedOut, failed])) === 'timeout') capped = true;
      } finally {
        clearTimeout(timer);
      }
      const end = arrived > 0 ? lastArrival : process.hrtime.bigint();
      const delayed = summariseLateness(lateness.subarray(0, arrived), { published, duplicates, publishSeconds });
      return { messages: arrived, seconds: Number(end - start) / 1e9, published, capped, delayed };
    },
    async teardown() {
      await Promise.allSettled(conns.map((c) => c.close()));
      await adminCh.deleteQueue(queue).catch(() => undefined);
      await adminCh.deleteExchange(exchange).catch(() => undefined);
      await admin.close().catch(() => undefined);
    },
  };
}
