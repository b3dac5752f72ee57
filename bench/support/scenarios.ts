// The broker bench's scenarios, each runnable with amqplib clients (in the bench's own process, the way
// services use the broker) or with the perf tool (a separate process, raw pipelined client).
//
// An amqplib scenario is set up first (connections, queues, consumers), then run (the measured part), then
// torn down; the bench samples the broker's CPU time around run(). A scenario is bounded by its message
// count and by the time cap, whichever comes first.

import * as amqp from 'amqplib';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { summariseLatencies, type LatencySummary } from '../perf/stats';
import { queuesOfConsumer } from '../perf/topology';
import { delayedScenario, RABBIT_NA, type DelayedSummary } from './delayed';
import { FailureLatch } from './failure-latch';

export interface Limits {
  /** Multiplies every message count. */
  scale: number;
  /** Time cap of one run, seconds. */
  maxSeconds: number;
}

export interface Measurement {
  /** Messages that went all the way through (consumed), or measured round trips. */
  messages: number;
  /** Wall time of the measured part, seconds. */
  seconds: number;
  published: number;
  latency?: LatencySummary;
  /** The delayed-message scenario's lateness figures. */
  delayed?: DelayedSummary;
  /** Stopped by the time cap rather than by count. */
  capped: boolean;
}

export interface ScenarioRun {
  run(): Promise<Measurement>;
  teardown(): Promise<void>;
}

export interface Scenario {
  key: string;
  title: string;
  /** What the row measures, for the README-style notes. */
  description: string;
  latency: boolean;
  /** Reported in a section of its own (lateness, CPU, peak RSS) rather than in the msg/s tables. */
  delayed?: boolean;
  /** Runs on the bundled broker only; what to print for RabbitMQ instead. */
  bundledOnly?: string;
  /** Not part of the default set: run with --scenarios <key> (or all). */
  optIn?: boolean;
  /** Also measure the broker's peak RSS over the run (from /proc). */
  memory?: boolean;
  amqplib(url: string, limits: Limits): Promise<ScenarioRun>;
  /** perf tool arguments (mode first), without --uri and --json; null when the perf tool cannot run it. */
  perf: ((limits: Limits) => string[]) | null;
}

const count = (n: number, limits: Limits) => Math.max(1, Math.round(n * limits.scale));

interface PipelineConfig {
  key: string;
  size: number;
  /** Messages per publisher. */
  perPublisher: number;
  publishers: number;
  consumers: number;
  queues: number;
  ack: boolean;
  prefetch: number;
  persistent: boolean;
  /** Max unconfirmed messages per publisher; 0 = plain channels. */
  confirmWindow: number;
}

/** Connects with error listeners attached (amqplib throws unhandled 'error' events otherwise). */
async function connect(url: string, onError: (e: Error) => void): Promise<amqp.ChannelModel> {
  const conn = await amqp.connect(url);
  conn.on('error', onError);
  return conn;
}

/** Fresh queue names for one run: bench-<scenario>-<pid>-<random>[-<n>]. */
function queueNames(key: string, n: number): string[] {
  const stem = `bench-${key}-${process.pid}-${randomBytes(3).toString('hex')}`;
  return n === 1 ? [stem] : Array.from({ length: n }, (_, i) => `${stem}-${i + 1}`);
}

/** x publishers -> queues -> y consumers, with amqplib as an application would use it. */
async function pipeline(url: string, cfg: PipelineConfig, limits: Limits): Promise<ScenarioRun> {
  const latch = new FailureLatch();
  const fail = latch.fail;
  const onError = (e: Error) => fail(e);
  const conns: amqp.ChannelModel[] = [];
  const admin = await connect(url, onError);
  const adminCh = await admin.createChannel();
  adminCh.on('error', onError);
  const names = queueNames(cfg.key, cfg.queues);
  for (const q of names) await adminCh.assertQueue(q, { durable: cfg.persistent, autoDelete: false });

  const total = cfg.perPublisher * cfg.publishers;
  let consumed = 0;
  let confirmed = 0;
  let published = 0;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  const check = () => {
    if (consumed >= total && (cfg.confirmWindow === 0 || confirmed >= total)) done();
  };

  for (let j = 0; j < cfg.consumers; j++) {
    const conn = await connect(url, onError);
    conns.push(conn);
    const ch = await conn.createChannel();
    ch.on('error', onError);
    if (cfg.ack) await ch.prefetch(cfg.prefetch);
    for (const q of queuesOfConsumer(names, j, cfg.consumers)) {
      await ch.consume(
        q,
        (msg) => {
          if (msg === null) return fail(new Error(`consumer of ${q} cancelled by the broker`));
          consumed++;
          if (cfg.ack) ch.ack(msg);
          if (consumed >= total) check();
        },
        { noAck: !cfg.ack },
      );
    }
  }
  const publishers: Array<amqp.Channel | amqp.ConfirmChannel> = [];
  for (let i = 0; i < cfg.publishers; i++) {
    const conn = await connect(url, onError);
    conns.push(conn);
    const ch = cfg.confirmWindow > 0 ? await conn.createConfirmChannel() : await conn.createChannel();
    ch.on('error', onError);
    publishers.push(ch);
  }
  const body = Buffer.alloc(cfg.size, 0x78);
  const options: amqp.Options.Publish = cfg.persistent ? { persistent: true } : {};

  return {
    async run() {
      let stopped = false;
      let stop: () => void = () => undefined;
      const stopping = new Promise<void>((resolve) => {
        stop = () => {
          stopped = true;
          resolve();
        };
      });
      const failed = latch.failed();
      const start = process.hrtime.bigint();
      let capped = false;
      const cap = setTimeout(() => {
        capped = true;
        stop();
      }, limits.maxSeconds * 1000);

      const publish = async (ch: amqp.Channel | amqp.ConfirmChannel, index: number) => {
        let outstanding = 0;
        let wake: (() => void) | null = null;
        const onConfirm = (err: unknown) => {
          outstanding--;
          if (err) fail(new Error('a publish was nacked'));
          else confirmed++;
          if (confirmed >= total) check();
          wake?.();
        };
        for (let k = 0; k < cfg.perPublisher && !stopped; k++) {
          const q = names[(index + k) % names.length];
          if (cfg.confirmWindow > 0) {
            while (outstanding >= cfg.confirmWindow && !stopped) {
              await Promise.race([new Promise<void>((resolve) => (wake = resolve)), stopping]);
              wake = null;
            }
            outstanding++;
            published++;
            if (!(ch as amqp.ConfirmChannel).sendToQueue(q, body, options, onConfirm))
              await Promise.race([once(ch, 'drain'), stopping]);
          } else {
            published++;
            if (!ch.sendToQueue(q, body, options)) await Promise.race([once(ch, 'drain'), stopping]);
          }
        }
      };
      try {
        await Promise.race([Promise.all(publishers.map((ch, i) => publish(ch, i))), failed]);
        await Promise.race([finished, stopping, failed]);
      } finally {
        clearTimeout(cap);
        stop();
      }
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      return { messages: consumed, seconds, published, capped };
    },
    async teardown() {
      await Promise.allSettled(conns.map((c) => c.close()));
      for (const q of names) await adminCh.deleteQueue(q).catch(() => undefined);
      await admin.close().catch(() => undefined);
    },
  };
}

/** One message at a time: publish, wait for its delivery, repeat. */
async function roundTrips(
  url: string,
  size: number,
  measured: number,
  warmup: number,
  limits: Limits,
): Promise<ScenarioRun> {
  let fail: (e: Error) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => {
    fail = reject;
  });
  failed.catch(() => undefined);
  const onError = (e: Error) => fail(e);
  const admin = await connect(url, onError);
  const adminCh = await admin.createChannel();
  adminCh.on('error', onError);
  const [q] = queueNames('d', 1);
  await adminCh.assertQueue(q, { durable: false, autoDelete: false });
  const pubConn = await connect(url, onError);
  const pub = await pubConn.createChannel();
  pub.on('error', onError);
  const subConn = await connect(url, onError);
  const sub = await subConn.createChannel();
  sub.on('error', onError);
  let delivered: () => void = () => undefined;
  await sub.consume(q, () => delivered(), { noAck: true });
  const body = Buffer.alloc(size, 0x78);
  return {
    async run() {
      const samples: number[] = [];
      const deadline = process.hrtime.bigint() + BigInt(Math.round(limits.maxSeconds * 1e9));
      let start = process.hrtime.bigint();
      let capped = false;
      for (let i = 0; i < warmup + measured; i++) {
        if (i === warmup) start = process.hrtime.bigint();
        const arrived = new Promise<void>((resolve) => (delivered = resolve));
        const t0 = process.hrtime.bigint();
        pub.sendToQueue(q, body);
        await Promise.race([arrived, failed]);
        const t1 = process.hrtime.bigint();
        if (i >= warmup) samples.push(Number(t1 - t0) / 1000);
        if (t1 > deadline) {
          capped = true;
          break;
        }
      }
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      return {
        messages: samples.length,
        seconds,
        published: samples.length,
        latency: summariseLatencies(samples),
        capped,
      };
    },
    async teardown() {
      await Promise.allSettled([pubConn.close(), subConn.close()]);
      await adminCh.deleteQueue(q).catch(() => undefined);
      await admin.close().catch(() => undefined);
    },
  };
}

const single = { publishers: 1, consumers: 1, queues: 1, ack: false, prefetch: 0, persistent: false, confirmWindow: 0 };

export const SCENARIOS: Scenario[] = [
  {
    key: 'a',
    title: '(a) 16 B, no-ack',
    description: '1 publisher and 1 no-ack consumer (own connections), 16-byte transient messages through one queue.',
    latency: false,
    amqplib: (url, l) => pipeline(url, { ...single, key: 'a', size: 16, perPublisher: count(100_000, l) }, l),
    perf: (l) => ['throughput', '-x', '1', '-y', '1', '-s', '16', '--no-ack', '--pmessages', `${count(300_000, l)}`],
  },
  {
    key: 'b',
    title: '(b) 16 B, acks, prefetch 100',
    description:
      'as (a) with manual acks and prefetch 100 (amqplib acks each message; perf acks every 50 with multiple).',
    latency: false,
    amqplib: (url, l) =>
      pipeline(url, { ...single, key: 'b', size: 16, ack: true, prefetch: 100, perPublisher: count(100_000, l) }, l),
    perf: (l) => [
      'throughput',
      '-x',
      '1',
      '-y',
      '1',
      '-s',
      '16',
      '--ack',
      '--prefetch',
      '100',
      '--pmessages',
      `${count(200_000, l)}`,
    ],
  },
  {
    key: 'c',
    title: '(c) persistent, durable, confirms',
    description:
      'persistent 16-byte messages into a durable queue, publisher confirms (at most 100 unconfirmed), acking consumer with prefetch 100.',
    latency: false,
    amqplib: (url, l) =>
      pipeline(
        url,
        {
          ...single,
          key: 'c',
          size: 16,
          ack: true,
          prefetch: 100,
          persistent: true,
          confirmWindow: 100,
          perPublisher: count(20_000, l),
        },
        l,
      ),
    perf: (l) => [
      'throughput',
      '-x',
      '1',
      '-y',
      '1',
      '-s',
      '16',
      '--persistent',
      '--confirm',
      '100',
      '--ack',
      '--prefetch',
      '100',
      '--pmessages',
      `${count(30_000, l)}`,
    ],
  },
  {
    key: 'd',
    title: '(d) round trip, one at a time',
    description:
      'one 16-byte message in flight: publish on one connection, wait for its delivery on another, repeat; msg/s = round trips/s.',
    latency: true,
    amqplib: (url, l) => roundTrips(url, 16, count(2_000, l), 200, l),
    perf: (l) => ['latency', '-s', '16', '--count', `${count(2_000, l)}`, '--warmup', '200'],
  },
  {
    key: 'e',
    title: '(e) 1 KB, no-ack',
    description: 'as (a) with 1024-byte bodies.',
    latency: false,
    amqplib: (url, l) => pipeline(url, { ...single, key: 'e', size: 1024, perPublisher: count(50_000, l) }, l),
    perf: (l) => ['throughput', '-x', '1', '-y', '1', '-s', '1024', '--no-ack', '--pmessages', `${count(100_000, l)}`],
  },
  {
    key: 'f',
    title: '(f) 100 queues, 50+25 connections',
    description:
      '50 publisher connections spreading messages round-robin over 100 queues, 25 consumer connections (4 queues each), acks, prefetch 100.',
    latency: false,
    amqplib: (url, l) =>
      pipeline(
        url,
        {
          ...single,
          key: 'f',
          size: 16,
          publishers: 50,
          consumers: 25,
          queues: 100,
          ack: true,
          prefetch: 100,
          perPublisher: count(1_000, l),
        },
        l,
      ),
    perf: (l) => [
      'throughput',
      '-x',
      '50',
      '-y',
      '25',
      '--queues',
      '100',
      '-s',
      '16',
      '--ack',
      '--prefetch',
      '100',
      '--pmessages',
      `${count(2_000, l)}`,
    ],
  },
  {
    key: 'g',
    title: '(g) delayed messages',
    description:
      'bundled broker only (RabbitMQ needs the delayed-message plugin): 100k persistent 12-byte messages published (confirms, at most 500 unconfirmed) with a random x-delay of 0 .. 10 s to a durable x-delayed-message exchange (x-delayed-type direct) bound to a durable queue; an acking consumer (prefetch 1000) records each arrival. Lateness = arrival - (publish + x-delay), whole ms from Date.now(); the run waits for every message, at most 10 s + 5 s after the last publish. Not in the default set: --scenarios g.',
    latency: false,
    delayed: true,
    bundledOnly: RABBIT_NA,
    optIn: true,
    memory: true,
    amqplib: (url, l) =>
      delayedScenario(
        url,
        {
          messages: count(100_000, l),
          spreadMs: 10_000,
          graceMs: 5_000,
          confirmWindow: 500,
          prefetch: 1000,
          seed: 0x5eed,
        },
        l,
      ),
    perf: null,
  },
];
