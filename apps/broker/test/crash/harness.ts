// Crash-safety harness: for many cycles, publishers send persistent messages on confirm channels while
// consumers ack some deliveries (at once, a little later, or never), and the broker is SIGKILLed by PID at a
// seeded random moment and restarted on the same --data-dir and port. The harness process keeps the ledger
// (ledger.ts) of what was confirmed, delivered and acked, drains every queue at the end (or after every
// cycle), and judges: no confirmed message lost; no message delivered again after its ack was proven
// processed; redelivered=true on messages delivered before; never-delivered messages in publish order.
//
// How repeats are classified (ledger.ts), per (queue, message) copy delivered again after a restart:
//   - proven-acked redelivered (violation): an earlier delivery was acked, and a later round trip on the same
//     channel (queue.declare passive; the broker handles a channel's frames in order) got its reply before the
//     kill: the ack was complete, yet the message came back;
//   - in-flight duplicate (allowed, RabbitMQ's window): the ack was sent but no reply proved it processed before
//     the kill. Counted within it, "processed at kill": a reply did prove it processed, but reached the harness
//     only after the kill (it was in the socket when the broker died);
//   - recovered delivered-unacked (expected): delivered before, never acked.
// Every repeat must carry redelivered=true, unless its earlier delivery itself reached the harness only after
// the kill (then counted apart, allowed).
//
// With `uri` set the harness runs against an external broker it cannot kill (e.g. the system RabbitMQ): each
// "crash" then destroys the clients' sockets instead, which exercises the same bookkeeping (RabbitMQ requeues
// unacked messages with redelivered=true and keeps processed acks) without a restart.
//
// Synchronisation is by events and round trips (the "listening on" line, confirms, deliveries, queue.declare
// replies, polled with timeouts); timers only pace publishers, space the ack-proving round trips, delay some
// acks, and pick the kill moment.
import * as amqp from 'amqplib';
import { once } from 'node:events';
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrokerProcess, bundleBroker, Exit, findRoot, startBroker } from './broker-process';
import { ChannelLog, DeliveryRecord, Ledger, messageBody, SessionKind, Summary } from './ledger';
import { Prng } from '../../../../tools/testing/prng';

export const TORN_LOG = /corrupt|torn|truncat/i;
const MAX_PRIORITY = 5;
const CONNECT_TIMEOUT_MS = 10_000;
const CLOSE_TIMEOUT_MS = 5_000;

export interface CrashOptions {
  cycles?: number;
  seed?: string;
  /** Drain all queues after every restart, or only once at the end (default). */
  drain?: 'end' | 'every';
  /** External broker (no kill: the clients drop their sockets instead); no bundling, no data dir. */
  uri?: string;
  /** Kill moment, in ms after the cycle's traffic starts. */
  minKillMs?: number;
  maxKillMs?: number;
  publishers?: number;
  /** Messages per ms per publisher (pacing), and per-publisher cap per cycle. */
  ratePerMs?: number;
  maxPerPublisher?: number;
  /** Unconfirmed publishes allowed per publisher. */
  window?: number;
  prefetch?: number;
  /** Deliveries a consumer channel keeps unacked on purpose. */
  holdMax?: number;
  drainTimeoutMs?: number;
  /** Workspace root (found from this file if absent), work dir (a fresh temp dir if absent). */
  root?: string;
  workDir?: string;
  /** An already bundled broker main.js; bundled into the work dir if absent. */
  brokerMain?: string;
  log?: (line: string) => void;
}

export interface CycleStats {
  cycle: number;
  session: number;
  killAtMs: number;
  /** Time from spawn to "listening on" for the broker this cycle ran on (0 if it was already up). */
  startMs: number;
  /** The broker logged a damaged tail (corrupt/torn/truncated) at that start-up. */
  tornLogAtStart: boolean;
  published: number;
  confirmed: number;
  delivered: number;
  acksSent: number;
  acksProven: number;
  /** Data dir after the kill: what the next start recovers from. */
  dataFiles: number;
  dataBytes: number;
}

export interface DataDirStats {
  files: number;
  bytes: number;
  /** Files whose name starts with "msgs" (the segment naming the broker uses). */
  segments: number;
}

export interface CrashRunResult {
  mode: 'bundled' | 'uri';
  seed: string;
  cycles: CycleStats[];
  summary: Summary;
  elapsedMs: number;
  workDir: string;
  dataDir: string;
  /** Largest data dir seen after a kill, and the data dir at the end. */
  dataPeak: DataDirStats;
  dataEnd: DataDirStats;
  /** Start-ups whose log mentioned a damaged tail. */
  tornLogStartups: number;
  brokerStarts: number;
  /** Per-session broker logs (stderr), one file per session. */
  logDir: string;
  prefix: string;
}

export function dataDirStats(dir: string): DataDirStats {
  const stats: DataDirStats = { files: 0, bytes: 0, segments: 0 };
  const walk = (d: string) => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        stats.files++;
        try {
          stats.bytes += statSync(p).size;
        } catch {
          // removed meanwhile
        }
        if (e.name.startsWith('msgs')) stats.segments++;
      }
    }
  };
  walk(dir);
  return stats;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const noop = () => undefined;

/** Wake-ups for loops that wait on callbacks (confirms). */
class Signal {
  private waiters: (() => void)[] = [];
  next(): Promise<void> {
    return new Promise<void>((resolve) => this.waiters.push(resolve));
  }
  notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

/** One broker lifetime as the clients see it: its connections, loops and timers, and the moment it ends. */
class Session {
  dying = false;
  private resolveDead!: () => void;
  readonly dead = new Promise<void>((resolve) => (this.resolveDead = resolve));
  readonly conns: amqp.ChannelModel[] = [];
  private readonly closed: Promise<void>[] = [];
  readonly tasks: Promise<unknown>[] = [];
  readonly channels: ChannelLog[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    readonly index: number,
    readonly kind: SessionKind,
    readonly url: string,
  ) {}

  die(): void {
    if (this.dying) return;
    this.dying = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.resolveDead();
  }

  /** Resolves after ms, or as soon as the session ends. */
  pause(ms: number): Promise<void> {
    if (this.dying) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
      void this.dead.then(resolve);
    });
  }

  /** Runs fn after ms unless the session has ended by then. */
  later(ms: number, fn: () => void): void {
    if (this.dying) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.dying) fn();
    }, ms);
    this.timers.add(timer);
  }

  /** The promise, or undefined once the session ends. */
  race<T>(promise: Promise<T>): Promise<T | undefined> {
    return Promise.race([promise, this.dead.then(() => undefined)]);
  }

  task(promise: Promise<unknown>): void {
    this.tasks.push(promise.catch(noop));
  }

  async connect(): Promise<amqp.ChannelModel> {
    const conn = await withTimeout(
      amqp.connect(this.url, { noDelay: true }),
      CONNECT_TIMEOUT_MS,
      `connecting to ${this.url}`,
    );
    conn.on('error', noop);
    this.closed.push(new Promise<void>((resolve) => conn.once('close', () => resolve())));
    this.conns.push(conn);
    return conn;
  }

  /** Drops every client socket without a goodbye (what a crashed broker looks like from the other side). */
  destroySockets(): void {
    // With an error: amqplib learns of a socket's end from 'end' or 'error', and a plain destroy() emits neither.
    for (const conn of this.conns)
      (conn as any).connection?.stream?.destroy(new Error('crash harness: connection dropped'));
  }

  /** Waits for every connection to report close; destroys the stragglers' sockets after ms. */
  async allClosed(ms = CLOSE_TIMEOUT_MS): Promise<void> {
    try {
      await withTimeout(Promise.all(this.closed), ms, 'client connections to close');
    } catch {
      this.destroySockets();
      await Promise.race([Promise.all(this.closed), new Promise((resolve) => setTimeout(resolve, 1000))]);
    }
  }

  async closeGracefully(): Promise<void> {
    await Promise.all(
      this.conns.map((conn) => withTimeout(conn.close(), CLOSE_TIMEOUT_MS, 'closing a connection').catch(noop)),
    );
  }
}

interface QueueDef {
  name: string;
  args?: Record<string, unknown>;
  /** Bound to the fanout exchange. */
  fanout?: boolean;
}

interface Target {
  exchange: string;
  routingKey: string;
  queues: string[];
  priority: boolean;
  weight: number;
  /** Published with delivery-mode 1 (the quorum queue's target). */
  transient?: boolean;
}

type Optional = 'uri' | 'root' | 'workDir' | 'brokerMain';
type Resolved = Required<Omit<CrashOptions, Optional>> & Pick<CrashOptions, Optional>;

export const DEFAULTS: Omit<Resolved, 'seed' | Optional> = {
  cycles: 20,
  drain: 'end',
  minKillMs: 50,
  maxKillMs: 800,
  publishers: 3,
  ratePerMs: 0.6,
  maxPerPublisher: 600,
  window: 32,
  prefetch: 64,
  holdMax: 12,
  drainTimeoutMs: 60_000,
  log: noop,
};

function isNotFound(error: unknown): boolean {
  return (error as { code?: number })?.code === 404;
}

export async function runCrashCycles(options: CrashOptions = {}): Promise<CrashRunResult> {
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as CrashOptions;
  const o: Resolved = { ...DEFAULTS, seed: String(Date.now()), ...defined };
  const started = Date.now();
  const mode: 'bundled' | 'uri' = o.uri ? 'uri' : 'bundled';
  const root = o.root ?? findRoot();
  const workDir = o.workDir ?? mkdtempSync(join(tmpdir(), 'warren-crash-'));
  const dataDir = join(workDir, 'data');
  const logDir = join(workDir, 'logs');
  mkdirSync(dataDir, { recursive: true });
  mkdirSync(logDir, { recursive: true });
  const main = mode === 'bundled' ? (o.brokerMain ?? bundleBroker(root, join(workDir, 'broker', 'main.js'))) : '';

  const prng = new Prng(o.seed);
  const ledger = new Ledger();
  // Unique names per run: against an external broker several runs may share it.
  const prefix = `crash-${process.pid}-${Date.now().toString(36)}`;
  const fanout = `${prefix}.fanout`;
  const queues: QueueDef[] = [
    { name: `${prefix}.q1` },
    { name: `${prefix}.q2` },
    { name: `${prefix}.prio`, args: { 'x-max-priority': MAX_PRIORITY } },
    { name: `${prefix}.f1`, fanout: true },
    { name: `${prefix}.f2`, fanout: true },
    // a quorum queue: its transient messages must survive as persistent ones do, and its delivery counts too
    { name: `${prefix}.quorum`, args: { 'x-queue-type': 'quorum' } },
  ];
  const [q1, q2, prio, f1, f2, quorum] = queues.map((q) => q.name);
  ledger.quorumQueues.add(quorum);
  const targets: Target[] = [
    { exchange: '', routingKey: q1, queues: [q1], priority: false, weight: 0.3 },
    { exchange: '', routingKey: q2, queues: [q2], priority: false, weight: 0.15 },
    { exchange: '', routingKey: prio, queues: [prio], priority: true, weight: 0.15 },
    { exchange: fanout, routingKey: '', queues: [f1, f2], priority: false, weight: 0.25 },
    { exchange: '', routingKey: quorum, queues: [quorum], priority: false, weight: 0.15, transient: true },
  ];
  // Consumer channels: two on q1 (competing consumers), one on each other queue, over two connections.
  const consumerLayout: { queue: string; name: string; conn: number }[] = [
    { queue: q1, name: 'q1a', conn: 0 },
    { queue: q2, name: 'q2', conn: 0 },
    { queue: prio, name: 'prio', conn: 0 },
    { queue: q1, name: 'q1b', conn: 1 },
    { queue: f1, name: 'f1', conn: 1 },
    { queue: f2, name: 'f2', conn: 1 },
    { queue: quorum, name: 'quorum', conn: 1 },
  ];

  let broker: BrokerProcess | undefined;
  let port = 0;
  let brokerStarts = 0;
  let tornLogStartups = 0;
  let lastStart = { ms: 0, torn: false };
  let current: Session | undefined;
  const expectedExit = new WeakSet<BrokerProcess>();
  let dataPeak: DataDirStats = { files: 0, bytes: 0, segments: 0 };
  let topologyDeclared = false;

  const url = () => (mode === 'uri' ? o.uri! : `amqp://guest:guest@127.0.0.1:${port}`);

  const saveLog = (session: number, text: string) => {
    if (text) appendFileSync(join(logDir, `session-${String(session).padStart(4, '0')}.log`), text);
  };

  /** A running broker (bundled mode), started on the same data dir and port as before; throws if it does not start. */
  async function ensureBroker(session: number): Promise<void> {
    lastStart = { ms: 0, torn: false };
    if (mode === 'uri' || broker?.running) return;
    const t0 = Date.now();
    try {
      let up;
      try {
        up = await startBroker({ main, dataDir, port, root, cwd: workDir });
      } catch (error) {
        // Someone took the port while the broker was down (it is an ephemeral one): any port will do, since
        // the clients connect afresh every session.
        if (port === 0 || !/in use/.test((error as Error).message)) throw error;
        o.log(`port ${port} was taken while the broker was down; moving to a new one`);
        up = await startBroker({ main, dataDir, port: 0, root, cwd: workDir });
      }
      broker = up.broker;
      port = up.port;
    } catch (error) {
      throw new Error(`session ${session}: broker failed to start: ${(error as Error).message}`);
    }
    brokerStarts++;
    const torn = TORN_LOG.test(broker.stderr());
    if (torn) tornLogStartups++;
    lastStart = { ms: Date.now() - t0, torn };
    const b = broker;
    void b.exited.then((exit) => {
      if (expectedExit.has(b)) return;
      ledger.error(
        session,
        `broker exited on its own (${exit.code ?? exit.signal}); stderr: ${b.stderr().trim().split('\n').slice(-5).join(' | ')}`,
      );
      current?.die();
    });
  }

  async function stopBroker(how: 'kill' | 'terminate', session: number): Promise<Exit | undefined> {
    const b = broker;
    if (!b) return undefined;
    expectedExit.add(b);
    const exit = how === 'kill' ? await b.kill() : await b.terminate();
    saveLog(session, b.stderr());
    broker = undefined;
    return exit;
  }

  async function withChannel<T>(conn: amqp.ChannelModel, fn: (ch: amqp.Channel) => Promise<T>): Promise<T> {
    const ch = await conn.createChannel();
    ch.on('error', noop);
    try {
      return await fn(ch);
    } finally {
      await ch.close().catch(noop);
    }
  }

  async function exists(conn: amqp.ChannelModel, fn: (ch: amqp.Channel) => Promise<unknown>): Promise<boolean> {
    try {
      await withChannel(conn, fn);
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  /**
   * Declares the topology the first time; afterwards checks (passively) that the durable queues and the
   * exchange survived, records any that did not, and re-creates them so the run can go on. Re-declaring with
   * the original arguments also catches a queue that came back without its x-max-priority (406).
   */
  async function checkTopology(session: Session, conn: amqp.ChannelModel): Promise<void> {
    const first = !topologyDeclared;
    const rebind: string[] = [];
    for (const q of queues) {
      const there = first ? false : await exists(conn, (ch) => ch.checkQueue(q.name));
      if (!first && !there) ledger.topologyLost(session.index, `durable queue ${q.name} missing after restart`);
      try {
        await withChannel(conn, (ch) => ch.assertQueue(q.name, { durable: true, arguments: q.args }));
      } catch (error) {
        ledger.topologyLost(
          session.index,
          `durable queue ${q.name} cannot be re-declared as before: ${(error as Error).message}`,
        );
      }
      if (!there && q.fanout) rebind.push(q.name);
    }
    const exchangeThere = first ? false : await exists(conn, (ch) => ch.checkExchange(fanout));
    if (!first && !exchangeThere)
      ledger.topologyLost(session.index, `durable exchange ${fanout} missing after restart`);
    if (!exchangeThere) {
      await withChannel(conn, (ch) => ch.assertExchange(fanout, 'fanout', { durable: true }));
      rebind.splice(0, rebind.length, ...queues.filter((q) => q.fanout).map((q) => q.name));
    }
    for (const name of rebind) await withChannel(conn, (ch) => ch.bindQueue(name, fanout, ''));
    topologyDeclared = true;
    // An external broker notices dropped sockets asynchronously: wait until the last session's consumers are
    // gone, which is when their unacked messages are back in the queues.
    const deadline = Date.now() + 15_000;
    await withChannel(conn, async (ch) => {
      for (const q of queues) {
        for (;;) {
          const { consumerCount } = await ch.checkQueue(q.name);
          if (consumerCount === 0) break;
          if (Date.now() > deadline)
            throw new Error(`${q.name} still has ${consumerCount} consumers from an earlier session`);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
    });
  }

  function deliveryOf(m: amqp.ConsumeMessage) {
    return {
      messageId: m.properties.messageId,
      content: m.content,
      redelivered: m.fields.redelivered,
      deliveryTag: m.fields.deliveryTag,
      deliveryMode: m.properties.deliveryMode,
      priority: m.properties.priority,
      deliveryCount: m.properties.headers?.['x-delivery-count'] as number | undefined,
    };
  }

  /** A cycle's consumer: acks 55% at once (8% of those with multiple=true), 30% after 1-150 ms, holds up to holdMax. */
  async function startConsumer(
    session: Session,
    conn: amqp.ChannelModel,
    queue: string,
    name: string,
    rng: Prng,
  ): Promise<void> {
    const ch = await conn.createChannel();
    ch.on('error', noop);
    const log = ledger.channel(`s${session.index}/${name}`, session.index);
    session.channels.push(log);
    await ch.prefetch(o.prefetch);
    const pending = new Map<number, { d: DeliveryRecord; m: amqp.ConsumeMessage }>();
    const held = new Set<number>();
    const ack = (tag: number, multiple: boolean) => {
      const entry = pending.get(tag);
      if (session.dying || !entry) return;
      try {
        ch.ack(entry.m, multiple);
      } catch {
        return; // channel already closed: not sent
      }
      const covered = multiple ? [...pending.keys()].filter((t) => t <= tag) : [tag];
      ledger.acked(
        log,
        covered.map((t) => pending.get(t)!.d),
      );
      for (const t of covered) {
        pending.delete(t);
        held.delete(t);
      }
    };
    await ch.consume(
      queue,
      (m) => {
        if (!m) return;
        const tag = m.fields.deliveryTag;
        pending.set(tag, { d: ledger.delivered(session.index, queue, log, deliveryOf(m)), m });
        if (session.dying) return;
        const r = rng.next();
        if (r < 0.55) ack(tag, rng.chance(0.08));
        else if (r < 0.85) session.later(rng.int(1, 150), () => ack(tag, false));
        else if (held.size < o.holdMax) held.add(tag);
        else ack(tag, false);
      },
      { noAck: false },
    );
    session.task(prove(session, ch, log, queue, rng));
  }

  /** Round trips on a consumer channel: each reply proves the broker processed every ack sent before it. */
  async function prove(session: Session, ch: amqp.Channel, log: ChannelLog, queue: string, rng: Prng): Promise<void> {
    while (!session.dying) {
      await session.pause(rng.int(5, 40));
      if (session.dying) return;
      const mark = log.mark();
      await ch.checkQueue(queue); // a reply that arrives even after the kill was still sent by the broker
      log.proved(mark);
    }
  }

  function pickTarget(rng: Prng): Target {
    let r = rng.next();
    for (const t of targets) {
      if (r < t.weight) return t;
      r -= t.weight;
    }
    return targets[0];
  }

  function pickSize(rng: Prng): number {
    const r = rng.next();
    if (r < 0.9) return rng.int(64, 512);
    if (r < 0.99) return rng.int(1024, 32 * 1024);
    return rng.int(100 * 1024, 200 * 1024); // more than one frame
  }

  async function runPublisher(
    session: Session,
    conn: amqp.ChannelModel,
    cycle: number,
    p: number,
    rng: Prng,
  ): Promise<void> {
    const ch = await conn.createConfirmChannel();
    ch.on('error', noop);
    ch.on('return', (m: amqp.Message) => ledger.returned(m.properties.messageId));
    const confirmed = new Signal();
    const publisher = `c${cycle}-p${p}`;
    let outstanding = 0;
    let seq = 0;
    const t0 = Date.now();
    while (!session.dying && seq < o.maxPerPublisher) {
      if (outstanding >= o.window) {
        await session.race(confirmed.next());
        continue;
      }
      const due = (Date.now() - t0) * o.ratePerMs;
      if (seq >= due) {
        await session.pause(Math.max(1, Math.ceil((seq + 1 - due) / o.ratePerMs)));
        continue;
      }
      seq++;
      const id = `${publisher}-${seq}`;
      const target = pickTarget(rng);
      const priority = target.priority ? rng.int(0, MAX_PRIORITY) : 0;
      const body = messageBody(id, pickSize(rng));
      const persistent = !target.transient;
      ledger.published({
        id,
        session: session.index,
        publisher,
        seq,
        queues: target.queues,
        priority,
        size: body.length,
        persistent,
      });
      outstanding++;
      let ok: boolean;
      try {
        ok = ch.publish(
          target.exchange,
          target.routingKey,
          body,
          { persistent, mandatory: true, messageId: id, ...(target.priority ? { priority } : {}) },
          (err: unknown) => {
            outstanding--;
            ledger.settled(id, !err ? 'ack' : /nack/i.test((err as Error).message ?? '') ? 'nack' : 'closed');
            confirmed.notify();
          },
        );
      } catch {
        outstanding--;
        ledger.settled(id, 'closed');
        return;
      }
      if (!ok) await session.race(once(ch, 'drain').catch(noop));
    }
  }

  async function runCycle(cycle: number): Promise<CycleStats> {
    const index = ledger.newSession('cycle');
    const stats: CycleStats = {
      cycle,
      session: index,
      killAtMs: o.minKillMs + Math.floor(prng.next() * (o.maxKillMs - o.minKillMs + 1)),
      startMs: 0,
      tornLogAtStart: false,
      published: 0,
      confirmed: 0,
      delivered: 0,
      acksSent: 0,
      acksProven: 0,
      dataFiles: 0,
      dataBytes: 0,
    };
    const rng = prng.fork(`cycle-${cycle}`);
    await ensureBroker(index);
    stats.startMs = lastStart.ms;
    stats.tornLogAtStart = lastStart.torn;
    const session = new Session(index, 'cycle', url());
    current = session;
    try {
      const control = await session.connect();
      await checkTopology(session, control);
      const consumerConns = [await session.connect(), await session.connect()];
      const publisherConns = [await session.connect(), await session.connect()];
      for (const c of consumerLayout)
        await startConsumer(session, consumerConns[c.conn], c.queue, c.name, rng.fork(c.name));
      for (let p = 0; p < o.publishers; p++)
        session.task(runPublisher(session, publisherConns[p % 2], cycle, p, rng.fork(`p${p}`)));
      await session.pause(stats.killAtMs);
    } catch (error) {
      if (!session.dying) ledger.error(index, `cycle ${cycle}: ${(error as Error).message}`);
    } finally {
      session.die();
      ledger.sessionEnded(index);
      if (mode === 'uri') session.destroySockets();
      else await stopBroker('kill', index);
      await session.allClosed();
      await withTimeout(Promise.all(session.tasks), CLOSE_TIMEOUT_MS, 'publisher and consumer loops to end').catch(
        (error: Error) => ledger.error(index, error.message),
      );
      current = undefined;
    }
    if (mode === 'bundled') {
      const data = dataDirStats(dataDir);
      stats.dataFiles = data.files;
      stats.dataBytes = data.bytes;
      if (data.bytes > dataPeak.bytes) dataPeak = data;
    }
    for (const m of ledger.messages.values()) {
      if (m.session !== index) continue;
      stats.published++;
      if (m.status === 'confirmed') stats.confirmed++;
    }
    stats.delivered = ledger.deliveries.filter((d) => d.session === index).length;
    for (const log of session.channels) {
      stats.acksSent += log.acksSent;
      stats.acksProven += log.provenUpTo;
    }
    o.log(
      `cycle ${cycle}: ` +
        (mode === 'bundled'
          ? `start ${stats.startMs} ms${stats.tornLogAtStart ? ' (torn tail logged)' : ''}, kill at ${stats.killAtMs} ms, `
          : `disconnect at ${stats.killAtMs} ms, `) +
        `published ${stats.published}, confirmed ${stats.confirmed}, delivered ${stats.delivered}, acks ${stats.acksSent} (${stats.acksProven} proven)` +
        (mode === 'bundled' ? `, data dir ${stats.dataFiles} files / ${stats.dataBytes} bytes` : ''),
    );
    return stats;
  }

  /** Consumes every queue to empty, acking everything, and proves the acks. */
  async function drainAll(kind: 'drain' | 'verify'): Promise<void> {
    const index = ledger.newSession(kind);
    await ensureBroker(index);
    const session = new Session(index, kind, url());
    current = session;
    try {
      const control = await session.connect();
      await checkTopology(session, control);
      const conn = await session.connect();
      await Promise.all(
        queues.map(async (q) => {
          const ch = await conn.createChannel();
          ch.on('error', noop);
          const log = ledger.channel(`s${index}/${kind}-${q.name.slice(prefix.length + 1)}`, index);
          session.channels.push(log);
          await ch.prefetch(500);
          await ch.consume(
            q.name,
            (m) => {
              if (!m) return;
              const d = ledger.delivered(index, q.name, log, deliveryOf(m));
              try {
                ch.ack(m);
              } catch {
                return; // channel gone
              }
              ledger.acked(log, [d]);
            },
            { noAck: false },
          );
          // Deliveries precede the declare-ok on the same channel: once it reports 0 ready, we have them all.
          const deadline = Date.now() + o.drainTimeoutMs;
          for (;;) {
            const mark = log.mark();
            const { messageCount } = await ch.checkQueue(q.name);
            log.proved(mark);
            if (messageCount === 0) break;
            if (Date.now() > deadline) {
              ledger.error(
                index,
                `${kind}: ${q.name} still has ${messageCount} ready messages after ${o.drainTimeoutMs} ms`,
              );
              break;
            }
            await session.pause(10);
          }
          const mark = log.mark();
          await ch.checkQueue(q.name);
          log.proved(mark);
        }),
      );
      await session.closeGracefully();
    } catch (error) {
      ledger.error(index, `${kind}: ${(error as Error).message}`);
    } finally {
      session.die();
      if (mode === 'uri') session.destroySockets();
      await session.allClosed();
      current = undefined;
    }
    const got = ledger.deliveries.filter((d) => d.session === index).length;
    o.log(`${kind}: ${got} deliveries`);
  }

  const cycles: CycleStats[] = [];
  try {
    for (let c = 0; c < o.cycles; c++) {
      cycles.push(await runCycle(c));
      if (o.drain === 'every') await drainAll('drain');
    }
    if (o.drain !== 'every' || o.cycles === 0) await drainAll('drain');
    if (mode === 'bundled') {
      // A clean stop after everything was acked, and a start: nothing may come back.
      const index = ledger.sessionKinds.length - 1;
      const exit = await stopBroker('terminate', index);
      if (exit && (exit.code !== 0 || exit.signal))
        ledger.error(index, `clean stop (SIGTERM) ended with ${exit.code ?? exit.signal}`);
      await drainAll('verify');
    }
  } catch (error) {
    ledger.error(ledger.sessionKinds.length - 1, (error as Error).message);
  } finally {
    if (mode === 'bundled') await stopBroker('terminate', ledger.sessionKinds.length - 1);
    if (mode === 'uri')
      await deleteTopology().catch((error: Error) => o.log(`clean-up of ${prefix}.* failed: ${error.message}`));
  }

  async function deleteTopology(): Promise<void> {
    const conn = await withTimeout(
      amqp.connect(o.uri!, { noDelay: true }),
      CONNECT_TIMEOUT_MS,
      'connecting for clean-up',
    );
    conn.on('error', noop);
    try {
      for (const q of queues) await withChannel(conn, (ch) => ch.deleteQueue(q.name)).catch(noop);
      await withChannel(conn, (ch) => ch.deleteExchange(fanout)).catch(noop);
    } finally {
      await conn.close().catch(noop);
    }
  }

  return {
    mode,
    seed: o.seed,
    cycles,
    summary: ledger.verify(),
    elapsedMs: Date.now() - started,
    workDir,
    dataDir,
    dataPeak,
    dataEnd: mode === 'bundled' ? dataDirStats(dataDir) : { files: 0, bytes: 0, segments: 0 },
    tornLogStartups,
    brokerStarts,
    logDir,
    prefix,
  };
}

export function removeWorkDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

const MUST_BE_ZERO: [keyof Summary, string][] = [
  ['lost', 'LOST: confirmed copies never delivered'],
  ['provenAckedRedelivered', 'proven-acked redelivered'],
  ['redeliveredFlagViolations', 'redelivered-flag violations'],
  ['orderViolations', 'order violations'],
  ['sameSessionDuplicates', 'same-session duplicates'],
  ['corrupt', 'corrupt/unknown/misrouted deliveries'],
  ['unroutable', 'confirmed but unroutable'],
  ['topologyLost', 'durable topology lost'],
  ['deliveryCountViolations', 'quorum delivery counts reset or inconsistent'],
  ['afterCleanRestart', 'back after the final clean restart'],
  ['errors', 'harness errors (start-up, broker death, drain)'],
];

export function formatSummary(result: CrashRunResult): string {
  const s = result.summary;
  const pad = (label: string) => `  ${label.padEnd(50)}`;
  const lines = [
    `crash-safety run: ${result.mode === 'uri' ? 'external broker (client-side disconnects, no kill)' : 'bundled broker, SIGKILL'}; seed ${result.seed}; ` +
      `${result.cycles.length} cycles, ${s.sessions} sessions, ${result.brokerStarts} broker starts; ${(result.elapsedMs / 1000).toFixed(1)} s`,
  ];
  if (result.mode === 'bundled') {
    const peak = result.dataPeak;
    lines.push(
      `  data dir after kills: peak ${peak.files} files / ${peak.bytes} bytes (${peak.segments} msgs* segments)` +
        (peak.files === 0 ? ' -- nothing on disk: durable storage is not in place' : '') +
        `; start-ups logging a damaged tail: ${result.tornLogStartups}`,
    );
  }
  lines.push(
    `  published ${s.published} messages (${s.copies} queue copies): confirmed ${s.confirmed}, nacked ${s.nacked}, unconfirmed ${s.unconfirmed}`,
    `  deliveries ${s.deliveries}; unconfirmed copies delivered ${s.unconfirmedDelivered}, missing ${s.unconfirmedMissing} (both allowed)`,
  );
  for (const [key, label] of MUST_BE_ZERO)
    lines.push(`${pad(label)}${s[key]}${(s[key] as number) > 0 ? '   <-- must be 0' : ''}`);
  lines.push(
    `${pad('in-flight duplicates (ack unproven; allowed)')}${s.inFlightDuplicates}`,
    `${pad('  of which: ack processed, reply after kill')}${s.processedAtKillDuplicates}`,
    `${pad('redelivered=false, first seen after kill (ok)')}${s.redeliveredFlagLostAtKill}`,
    `${pad('recovered delivered-unacked (expected)')}${s.recoveredUnacked}`,
    `${pad('redelivered=true on first delivery (allowed)')}${s.spuriousRedeliveredFlags}`,
    s.violations === 0 ? '  RESULT: OK' : `  RESULT: FAIL (${s.violations} violations)`,
  );
  for (const [kind, examples] of Object.entries(s.examples)) {
    if (!examples.length) continue;
    lines.push(`  e.g. ${kind}:`);
    for (const e of examples) lines.push(`    ${e}`);
  }
  return lines.join('\n');
}
