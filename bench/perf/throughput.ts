// Throughput mode: x publishers and y consumers, each on its own connection, as fast as the broker takes
// them (or at --rate per publisher), for --time seconds or until --pmessages per publisher went through.
//
// Publishers write big batches: the frames of one message are encoded once (FrameWriter) and repeated to fill
// ~128 KiB, sent with one socket.write; the next batch goes out when the socket has drained (TCP backpressure)
// and, with --confirm N, while fewer than N messages await their confirm. Consumers count deliveries and, with
// --ack, acknowledge every --ack-every deliveries with one basic.ack(multiple) per batch of reads.

import {
  CONFIRM_SELECT,
  CONFIRM_SELECT_OK,
  BASIC_CONSUME,
  BASIC_CONSUME_OK,
  BASIC_QOS,
  BASIC_QOS_OK,
} from '@warren/amqp-protocol';
import { setImmediate as yieldToIo, setTimeout as sleep } from 'node:timers/promises';
import { AmqpError, Channel, Connection, publishTemplate, type PublishTemplate } from './client';
import { declareTopology, deleteTopology, queuesOfConsumer, type Topology } from './topology';

export interface ThroughputOptions {
  uri: string;
  /** -x: publisher connections. */
  publishers: number;
  /** -y: consumer connections. */
  consumers: number;
  /** -s: body size in bytes. */
  size: number;
  /** Stop after this many seconds (undefined: only by count). */
  timeSeconds?: number;
  /** Messages per publisher (undefined: only by time). */
  pmessages?: number;
  /** Manual acks (false: no-ack consumers). */
  ack: boolean;
  prefetch: number;
  /** With ack: one basic.ack(multiple) per this many deliveries (at most prefetch). */
  ackEvery: number;
  /** Max unconfirmed messages per publisher; 0 = no publisher confirms. */
  confirm: number;
  /** delivery-mode 2 (and durable queues). */
  persistent: boolean;
  /** Durable queues even without --persistent. */
  durable: boolean;
  queue?: string;
  queues: number;
  exchange: string;
  /** Messages per second per publisher; 0 = unlimited. */
  rate: number;
  /** Give up when nothing moved for this long (only matters for count-bounded runs). */
  stallSeconds: number;
  /** Called once a second with the last second's rates. */
  onTick?: (tick: ThroughputTick) => void;
  /** Stops the run early (Ctrl-C); the result is reported as usual. */
  signal?: AbortSignal;
  /** Called when measuring starts (everything is connected and declared) and when it ends (before teardown). */
  onPhase?: (phase: 'start' | 'end') => void;
}

export interface ThroughputTick {
  second: number;
  publishRate: number;
  consumeRate: number;
  confirmRate: number;
}

export interface ThroughputResult {
  publishers: number;
  consumers: number;
  size: number;
  published: number;
  confirmed: number;
  nacked: number;
  consumed: number;
  /** From the first publish (or consume) to the end of the run. */
  elapsedSeconds: number;
  /** Until the last publisher had sent (and had confirmed) all it was to send; elapsedSeconds for timed runs. */
  publishSeconds: number;
  /** Until the last delivery. */
  consumeSeconds: number;
  publishRate: number;
  confirmRate: number;
  consumeRate: number;
  stoppedBy: 'time' | 'count' | 'stall' | 'signal';
  queues: string[];
  ticks: ThroughputTick[];
}

export const THROUGHPUT_DEFAULTS: Omit<ThroughputOptions, 'uri'> = {
  publishers: 1,
  consumers: 1,
  size: 16,
  ack: false,
  prefetch: 100,
  ackEvery: 50,
  confirm: 0,
  persistent: false,
  durable: false,
  queues: 1,
  exchange: '',
  rate: 0,
  stallSeconds: 10,
};

interface PublisherState {
  conn: Connection;
  ch: Channel;
  templates: PublishTemplate[];
  /** Index of the first queue this publisher sends to; message k goes to queue (offset + k) % queues. */
  offset: number;
  sent: number;
  confirmed: number;
  /** Confirms are tracked as: every tag <= confirmedUpTo, plus single acks above it. */
  confirmedUpTo: number;
  singles: Set<number>;
  wake: (() => void) | null;
  done: boolean;
}

interface ConsumerState {
  conn: Connection;
  ch: Channel;
  unacked: number;
  lastTag: number;
}

/** Runs one throughput test; resolves with the totals when it stops by time, count or stall. */
export async function runThroughput(input: Partial<ThroughputOptions> & { uri: string }): Promise<ThroughputResult> {
  const o: ThroughputOptions = { ...THROUGHPUT_DEFAULTS, ...input };
  validate(o);
  const run = new ThroughputRun(o);
  try {
    return await run.execute();
  } finally {
    await run.teardown();
  }
}

function validate(o: ThroughputOptions): void {
  const ints: Array<[string, number]> = [
    ['publishers', o.publishers],
    ['consumers', o.consumers],
    ['size', o.size],
    ['prefetch', o.prefetch],
    ['confirm', o.confirm],
    ['queues', o.queues],
  ];
  for (const [name, v] of ints)
    if (!Number.isInteger(v) || v < 0) throw new Error(`${name} must be a non-negative integer`);
  if (o.queues < 1) throw new Error('queues must be at least 1');
  if (o.publishers === 0 && o.consumers === 0) throw new Error('nothing to run: no publishers and no consumers');
  if (o.timeSeconds === undefined && o.pmessages === undefined)
    throw new Error('unbounded run: give a time or a message count');
  if (o.timeSeconds !== undefined && !(o.timeSeconds > 0)) throw new Error('time must be positive');
  if (o.pmessages !== undefined && !(Number.isInteger(o.pmessages) && o.pmessages > 0))
    throw new Error('pmessages must be a positive integer');
  if (o.publishers === 0 && o.timeSeconds === undefined) throw new Error('a consume-only run needs a time');
  if (o.publishers === 0) o.pmessages = undefined;
  if (o.ack && o.prefetch > 0xffff) throw new Error('prefetch must be at most 65535');
  if (!(o.ackEvery >= 1)) throw new Error('ack-every must be at least 1');
  if (o.ack && o.prefetch > 0) o.ackEvery = Math.min(o.ackEvery, o.prefetch);
}

class ThroughputRun {
  private admin: Connection | null = null;
  private adminCh: Channel | null = null;
  private topology: Topology | null = null;
  private readonly publishers: PublisherState[] = [];
  private readonly consumerStates: ConsumerState[] = [];
  private readonly connections: Connection[] = [];

  private published = 0;
  private confirmed = 0;
  private nacked = 0;
  private consumed = 0;
  private start = 0n;
  private lastConsumeAt = 0n;
  private publishersDoneAt = 0n;
  private stopping = false;
  private stoppedBy: ThroughputResult['stoppedBy'] = 'time';
  private finish: (() => void) | null = null;
  private fail: ((error: Error) => void) | null = null;
  private failure: Error | null = null;

  constructor(private readonly o: ThroughputOptions) {}

  async execute(): Promise<ThroughputResult> {
    const o = this.o;
    this.admin = await this.connect('perf-admin');
    this.adminCh = await this.admin.openChannel({ onClose: (e) => this.abort(e) });
    this.topology = await declareTopology(this.adminCh, {
      queue: o.queue,
      queues: o.queues,
      durable: o.durable || o.persistent,
      exchange: o.exchange,
    });
    for (let j = 0; j < o.consumers; j++) await this.addConsumer(j);
    for (let i = 0; i < o.publishers; i++) await this.addPublisher(i);

    const done = new Promise<void>((resolve, reject) => {
      this.finish = resolve;
      this.fail = reject;
    });
    if (this.failure) throw this.failure;
    o.onPhase?.('start');
    this.start = process.hrtime.bigint();
    this.lastConsumeAt = this.start;
    const timers: NodeJS.Timeout[] = [];
    if (o.timeSeconds !== undefined) timers.push(setTimeout(() => this.stop('time'), o.timeSeconds * 1000));
    const onSignal = () => this.stop('signal');
    o.signal?.addEventListener('abort', onSignal);
    if (o.signal?.aborted) this.stop('signal');
    const ticks: ThroughputTick[] = [];
    let last = { published: 0, consumed: 0, confirmed: 0, at: this.start };
    let idleSeconds = 0;
    timers.push(
      setInterval(() => {
        const now = process.hrtime.bigint();
        const dt = Number(now - last.at) / 1e9;
        const tick: ThroughputTick = {
          second: ticks.length + 1,
          publishRate: (this.published - last.published) / dt,
          consumeRate: (this.consumed - last.consumed) / dt,
          confirmRate: (this.confirmed - last.confirmed) / dt,
        };
        const moved =
          this.published !== last.published || this.consumed !== last.consumed || this.confirmed !== last.confirmed;
        idleSeconds = moved ? 0 : idleSeconds + dt;
        last = { published: this.published, consumed: this.consumed, confirmed: this.confirmed, at: now };
        ticks.push(tick);
        o.onTick?.(tick);
        if (idleSeconds >= o.stallSeconds) this.stop('stall');
      }, 1000),
    );
    const loops = this.publishers.map((p) => this.publishLoop(p));
    let end = 0n;
    try {
      await done;
    } finally {
      end = process.hrtime.bigint();
      o.onPhase?.('end');
      for (const t of timers) clearTimeout(t);
      o.signal?.removeEventListener('abort', onSignal);
      this.stopping = true;
      for (const p of this.publishers) p.wake?.();
      await Promise.allSettled(loops);
    }
    const secs = (t: bigint) => Math.max(Number(t - this.start) / 1e9, 1e-9);
    const elapsedSeconds = secs(end);
    const publishSeconds = this.publishersDoneAt > 0n ? secs(this.publishersDoneAt) : elapsedSeconds;
    const consumeSeconds = this.consumed > 0 ? secs(this.lastConsumeAt) : elapsedSeconds;
    return {
      publishers: o.publishers,
      consumers: o.consumers,
      size: o.size,
      published: this.published,
      confirmed: this.confirmed,
      nacked: this.nacked,
      consumed: this.consumed,
      elapsedSeconds,
      publishSeconds,
      consumeSeconds,
      publishRate: this.published / publishSeconds,
      confirmRate: this.confirmed / publishSeconds,
      consumeRate: this.consumed / consumeSeconds,
      stoppedBy: this.stoppedBy,
      queues: this.topology.queues,
      ticks,
    };
  }

  private async connect(name: string): Promise<Connection> {
    const conn = await Connection.open(this.o.uri, { name });
    conn.onClose = (e) => this.abort(e);
    this.connections.push(conn);
    return conn;
  }

  private async addConsumer(index: number): Promise<void> {
    const o = this.o;
    const conn = await this.connect(`perf-consumer-${index + 1}`);
    const state: ConsumerState = { conn, ch: null as unknown as Channel, unacked: 0, lastTag: 0 };
    const ackEvery = o.ackEvery;
    const onDelivery = o.ack
      ? (tag: number) => {
          this.consumed++;
          state.lastTag = tag;
          if (++state.unacked >= ackEvery) {
            state.ch.ack(tag, true);
            state.unacked = 0;
          }
        }
      : () => {
          this.consumed++;
        };
    state.ch = await conn.openChannel({
      onDelivery,
      onCancel: (tag) => this.abort(new AmqpError(`the broker cancelled consumer ${tag}`)),
      onClose: (e) => this.abort(e),
    });
    let seen = 0;
    conn.afterRead = () => {
      if (this.consumed !== seen) {
        seen = this.consumed;
        this.lastConsumeAt = process.hrtime.bigint();
        this.checkDone();
      }
    };
    if (o.ack)
      await state.ch.rpc(BASIC_QOS, { prefetchSize: 0, prefetchCount: o.prefetch, global: false }, BASIC_QOS_OK);
    const topology = this.topology as Topology;
    for (const queue of queuesOfConsumer(topology.queues, index, o.consumers)) {
      await state.ch.rpc(
        BASIC_CONSUME,
        { queue, consumerTag: `perf-${index + 1}-${queue}`, noAck: !o.ack, exclusive: false, arguments: new Map() },
        BASIC_CONSUME_OK,
      );
    }
    this.consumerStates.push(state);
  }

  private async addPublisher(index: number): Promise<void> {
    const o = this.o;
    const conn = await this.connect(`perf-publisher-${index + 1}`);
    const state: PublisherState = {
      conn,
      ch: null as unknown as Channel,
      templates: [],
      offset: index,
      sent: 0,
      confirmed: 0,
      confirmedUpTo: 0,
      singles: new Set(),
      wake: null,
      done: false,
    };
    state.ch = await conn.openChannel({
      onConfirm: (tag, multiple, nack) => this.confirm(state, tag, multiple, nack),
      onClose: (e) => this.abort(e),
    });
    conn.onBlocked = (blocked) => {
      if (!blocked) state.wake?.();
    };
    if (o.confirm > 0) await state.ch.rpc(CONFIRM_SELECT, { nowait: false }, CONFIRM_SELECT_OK);
    const body = Buffer.alloc(o.size, 0x78);
    const topology = this.topology as Topology;
    state.templates = topology.routingKeys.map((key) =>
      publishTemplate(state.ch.id, topology.exchange, key, body, o.persistent, conn.frameMax),
    );
    this.publishers.push(state);
  }

  private confirm(p: PublisherState, tag: number, multiple: boolean, nack: boolean): void {
    let newly = 0;
    if (multiple) {
      if (tag > p.confirmedUpTo) {
        newly = tag - p.confirmedUpTo;
        for (const single of p.singles) {
          if (single <= tag) {
            p.singles.delete(single);
            newly--;
          }
        }
        p.confirmedUpTo = tag;
      }
    } else if (tag > p.confirmedUpTo && !p.singles.has(tag)) {
      p.singles.add(tag);
      newly = 1;
      while (p.singles.delete(p.confirmedUpTo + 1)) p.confirmedUpTo++;
    }
    if (newly === 0) return;
    p.confirmed += newly;
    if (nack) this.nacked += newly;
    else this.confirmed += newly;
    p.wake?.();
  }

  private async publishLoop(p: PublisherState): Promise<void> {
    const o = this.o;
    const limit = o.pmessages ?? Infinity;
    const n = p.templates.length;
    const single = n === 1 ? p.templates[0] : null;
    const perBatch = Math.min(...p.templates.map((t) => t.perBatch));
    const wait = () =>
      new Promise<void>((resolve) => {
        p.wake = () => {
          p.wake = null;
          resolve();
        };
      });
    while (!this.stopping && p.sent < limit) {
      if (p.conn.blocked) {
        await wait();
        continue;
      }
      let count = Math.min(perBatch, limit - p.sent);
      if (o.confirm > 0) {
        count = Math.min(count, o.confirm - (p.sent - p.confirmed));
        if (count <= 0) {
          await wait();
          continue;
        }
      }
      if (o.rate > 0) {
        const elapsed = Number(process.hrtime.bigint() - this.start) / 1e9;
        const allowed = Math.floor(elapsed * o.rate) + 1 - p.sent;
        if (allowed <= 0) {
          await sleep(Math.max(1, Math.ceil(((p.sent + 1) / o.rate - elapsed) * 1000)));
          continue;
        }
        count = Math.min(count, allowed);
      }
      let batch: Buffer;
      if (single !== null) {
        batch = Buffer.allocUnsafe(single.frames.length * count).fill(single.frames);
      } else {
        let bytes = 0;
        for (let k = 0; k < count; k++) bytes += p.templates[(p.offset + p.sent + k) % n].frames.length;
        batch = Buffer.allocUnsafe(bytes);
        let at = 0;
        for (let k = 0; k < count; k++) at += p.templates[(p.offset + p.sent + k) % n].frames.copy(batch, at);
      }
      p.sent += count;
      this.published += count;
      if (p.conn.write(batch)) await yieldToIo();
      else await Promise.race([p.conn.drained(), wait()]);
    }
    if (o.confirm > 0) {
      while (!this.stopping && p.confirmed < p.sent) await wait();
    }
    p.done = true;
    this.checkDone();
  }

  private checkDone(): void {
    if (this.stopping || this.o.pmessages === undefined) return;
    if (!this.publishers.every((p) => p.done)) return;
    if (this.publishersDoneAt === 0n) this.publishersDoneAt = process.hrtime.bigint();
    const expected = this.o.pmessages * this.o.publishers;
    if (this.o.consumers === 0 || this.consumed >= expected) this.stop('count');
  }

  private stop(reason: ThroughputResult['stoppedBy']): void {
    if (this.stopping) return;
    this.stopping = true;
    this.stoppedBy = reason;
    for (const p of this.publishers) p.wake?.();
    this.finish?.();
  }

  private abort(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    this.stopping = true;
    for (const p of this.publishers) p.wake?.();
    this.fail?.(error);
  }

  /** Acks what was counted, deletes the tool's own queues, closes every connection. */
  async teardown(): Promise<void> {
    this.stopping = true;
    for (const c of this.consumerStates) {
      if (c.unacked > 0 && !c.ch.closed) {
        c.ch.ack(c.lastTag, true);
        c.conn.flush();
      }
    }
    const others = this.connections.filter((c) => c !== this.admin);
    await Promise.allSettled(others.map((c) => c.close()));
    if (this.adminCh && this.topology && !this.adminCh.closed) {
      await deleteTopology(this.adminCh, this.topology).catch(() => undefined);
    }
    await this.admin?.close().catch(() => undefined);
  }
}
