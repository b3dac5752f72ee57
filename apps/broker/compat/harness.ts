/*
 * Harness for the side-by-side compatibility scenarios.
 *
 * A scenario is a small amqplib (or raw-socket) program that exercises one
 * behaviour and returns an *outcome*: plain data describing what was observed.
 * The runner (compat.spec.ts) runs every scenario against each broker target,
 * normalises the outcomes (server-generated names, consumer tags, timestamps,
 * the per-run name prefix) and checks (1) the scenario's own expectations and
 * (2) that both brokers produced deep-equal outcomes.
 */
import * as amqp from 'amqplib';
import type {
  Channel,
  ChannelModel,
  ConfirmChannel,
  ConsumeMessage,
  GetMessage,
  Message,
  Options,
  SocketOptions,
} from 'amqplib';
import * as net from 'node:net';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';

// amqplib's generated protocol definitions; used to send methods the public API
// doesn't expose (channel.flow, basic.recover requeue=false, qos prefetch_size, ...).
// The package `exports` map hides lib/, so resolve by absolute path.
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const defs: any = require(path.join(path.dirname(require.resolve('amqplib')), 'lib', 'defs.js'));

export type Target = 'bundled' | 'rabbitmq';

/* ------------------------------------------------------------------------ */
/* Scenario types                                                            */
/* ------------------------------------------------------------------------ */

export interface Scenario {
  /** Unique within its area. */
  name: string;
  /** Run against one target only (keep these few). */
  only?: Target;
  /** Compare error `text` fields between brokers (otherwise only codes/ids are compared). */
  compareText?: boolean;
  /** Per-scenario timeout (default 15 s). */
  timeoutMs?: number;
  /** The program. Returns the outcome (plain, JSON-like data). */
  run(ctx: Ctx): Promise<unknown>;
  /** Explicit expectations, run on the normalised outcome of every target. */
  check?(outcome: any, target: Target): void;
  /**
   * Set (to the reason) when the two brokers are *meant* to differ: a feature RabbitMQ has only with a plugin
   * that the reference RabbitMQ does not run (e.g. x-delayed-message). Both targets still run; `check` must then
   * assert each target's own expected outcome (RabbitMQ's refusal, the plugin's documented behaviour on the
   * bundled broker), and instead of "bundled matches rabbitmq" the runner asserts that the outcomes do differ.
   */
  differsFromRabbitmq?: string;
}

export interface Area {
  area: string;
  scenarios: Scenario[];
}

export function area(name: string, scenarios: Scenario[]): Area {
  return { area: name, scenarios };
}

/* ------------------------------------------------------------------------ */
/* Outcomes                                                                  */
/* ------------------------------------------------------------------------ */

export interface ErrorOutcome {
  kind: 'error';
  /** 'channel' (channel.close from the server), 'connection' (connection.close from the
   *  server), 'socket' (socket dropped without a close method), or 'client' (amqplib refused). */
  level: 'channel' | 'connection' | 'socket' | 'client';
  code?: number;
  classId?: number;
  methodId?: number;
  /** reply-text; compared between brokers only for scenarios with compareText. */
  text?: string;
}

export interface OkOutcome {
  kind: 'ok';
  value?: unknown;
}

export type Result = OkOutcome | ErrorOutcome;

function textOf(message: string): string | undefined {
  const m = /with message "([\s\S]*)"\s*$/.exec(message);
  return m ? m[1] : undefined;
}

/** Turn a thrown amqplib error into an ErrorOutcome, consulting the connection for hard errors. */
export function errorOutcome(e: any, conn?: Conn): ErrorOutcome {
  if (conn && conn.serverClose) return { ...conn.serverClose };
  if (e && typeof e.code === 'number') {
    return {
      kind: 'error',
      level: 'channel',
      code: e.code,
      classId: e.classId,
      methodId: e.methodId,
      text: textOf(String(e.message)),
    };
  }
  if (conn && conn.closed) return { kind: 'error', level: 'socket', text: String(e && e.message) };
  return { kind: 'error', level: 'client', text: String(e && e.message) };
}

/** Await a promise; return {kind:'ok', value} or the ErrorOutcome it failed with. */
export async function captureError(p: Promise<unknown> | (() => Promise<unknown>), conn?: Conn): Promise<Result> {
  try {
    const value = await (typeof p === 'function' ? p() : p);
    return { kind: 'ok', value: value === undefined ? undefined : plain(value) };
  } catch (e) {
    return errorOutcome(e, conn);
  }
}

/** Like captureError but drops the ok value (for RPCs whose reply carries nothing interesting). */
export async function attempt(p: Promise<unknown> | (() => Promise<unknown>), conn?: Conn): Promise<Result> {
  const r = await captureError(p, conn);
  return r.kind === 'ok' ? { kind: 'ok' } : r;
}

/** JSON-ish copy: Buffers become {$bytes: hex}; functions dropped. */
export function plain(v: any): any {
  if (v === null || v === undefined) return v;
  if (Buffer.isBuffer(v)) return { $bytes: v.toString('hex') };
  if (Array.isArray(v)) return v.map(plain);
  if (typeof v === 'object') {
    const out: any = {};
    for (const k of Object.keys(v)) {
      if (typeof v[k] === 'function') continue;
      out[k] = plain(v[k]);
    }
    return out;
  }
  if (typeof v === 'bigint') return v.toString();
  return v;
}

/**
 * Normalise an outcome: replace the run prefix with 'P', server-generated names,
 * consumer tags and reply-to names with placeholders, and x-death `time` values
 * with '<time>' (after checking they look like a recent timestamp).
 */
export function normalise(v: any, prefix: string): any {
  const str = (s: string) =>
    s
      .split(prefix)
      .join('P')
      .replace(/amq\.gen-[A-Za-z0-9_-]+/g, 'amq.gen-*')
      .replace(/amq\.ctag-[A-Za-z0-9_-]+/g, 'amq.ctag-*')
      .replace(/amq\.rabbitmq\.reply-to\.[A-Za-z0-9_.=+/-]+/g, 'amq.rabbitmq.reply-to.*');
  const walk = (x: any, key?: string): any => {
    if (x === null || x === undefined) return x;
    if (typeof x === 'string') return str(x);
    if (Buffer.isBuffer(x)) return { $bytes: x.toString('hex') };
    if (Array.isArray(x)) return x.map((e) => walk(e));
    if (typeof x === 'object') {
      if (key === 'time' && x['!'] === 'timestamp') {
        const secs = Number(x.value);
        const now = Date.now() / 1000;
        return Math.abs(now - secs) < 600 ? '<time>' : `<bad time ${secs}>`;
      }
      const out: any = {};
      for (const k of Object.keys(x)) out[str(k)] = walk(x[k], k);
      return out;
    }
    return x;
  };
  return walk(v);
}

/** Remove error `text` fields (used when a scenario does not opt into text comparison). */
export function stripTexts(v: any): any {
  if (v === null || v === undefined || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(stripTexts);
  const out: any = {};
  for (const k of Object.keys(v)) {
    if (k === 'text' && v.kind === 'error') continue;
    out[k] = stripTexts(v[k]);
  }
  return out;
}

/* ------------------------------------------------------------------------ */
/* Timing helpers                                                            */
/* ------------------------------------------------------------------------ */

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** A timer for Promise.race that does not keep the process alive. */
const raceTimer = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/** Poll until pred() is truthy. Throws on timeout. */
export async function waitUntil(
  pred: () => boolean | Promise<boolean>,
  timeoutMs = 3000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await pred()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

/** A short bounded wait used only to show that something does NOT happen, after a sync point. */
export const QUIET_MS = 150;
export const quiet = (ms = QUIET_MS) => sleep(ms);

/* ------------------------------------------------------------------------ */
/* Connections                                                               */
/* ------------------------------------------------------------------------ */

export interface ConnectOpts {
  user?: string;
  pass?: string;
  vhost?: string;
  heartbeat?: number;
  frameMax?: number;
  channelMax?: number;
  mechanism?: 'PLAIN' | 'AMQPLAIN';
}

export function parseUrl(url: string): { host: string; port: number; user: string; pass: string; vhost: string } {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port) || 5672,
    user: decodeURIComponent(u.username || 'guest'),
    pass: decodeURIComponent(u.password || 'guest'),
    vhost: u.pathname && u.pathname.length > 1 ? decodeURIComponent(u.pathname.slice(1)) : '/',
  };
}

/** amqplib connection wrapper that records the server's connection.close and heartbeats. */
export class Conn {
  serverClose?: ErrorOutcome;
  heartbeatsReceived = 0;
  closed = false;
  readonly closedP: Promise<void>;
  readonly errors: Error[] = [];
  private readonly chErrors = new Map<Channel, ErrorOutcome>();

  constructor(readonly model: ChannelModel) {
    const c: any = (model as any).connection;
    const ch0 = c.channels[0].channel;
    const orig = ch0.accept;
    ch0.accept = (f: any) => {
      if (f && f.id === defs.ConnectionClose) {
        this.serverClose = {
          kind: 'error',
          level: 'connection',
          code: f.fields.replyCode,
          classId: f.fields.classId,
          methodId: f.fields.methodId,
          text: f.fields.replyText,
        };
      } else if (f && f.id === undefined && f.fields === undefined && f.content === undefined) {
        this.heartbeatsReceived++;
      }
      return orig.call(ch0, f);
    };
    model.on('error', (e: Error) => this.errors.push(e));
    this.closedP = new Promise((resolve) =>
      model.once('close', () => {
        this.closed = true;
        resolve();
      }),
    );
  }

  /** The underlying amqplib Connection (frameMax, channelMax, sendMethod ...). */
  get raw(): any {
    return (this.model as any).connection;
  }

  private watch<T extends Channel>(ch: T): T {
    ch.on('error', (e: any) => this.chErrors.set(ch, errorOutcome(e)));
    return ch;
  }

  async channel(): Promise<Channel> {
    return this.watch(await this.model.createChannel());
  }

  async confirmChannel(): Promise<ConfirmChannel> {
    return this.watch(await this.model.createConfirmChannel());
  }

  /** The error the server closed `ch` with, if any. */
  channelError(ch: Channel): ErrorOutcome | undefined {
    return this.chErrors.get(ch);
  }

  /**
   * Wait for `ch` to be closed by the server (channel.close or connection.close).
   * Resolves with the ErrorOutcome, or null if nothing happened within timeoutMs.
   */
  async waitChannelError(ch: Channel, timeoutMs = 2000): Promise<ErrorOutcome | null> {
    const existing = this.chErrors.get(ch) ?? this.serverClose;
    if (existing) return existing;
    let done = false;
    const closed = new Promise<void>((r) => ch.once('close', () => r()));
    const result = await Promise.race([
      closed.then(() => true),
      this.closedP.then(() => true),
      raceTimer(timeoutMs).then(() => false),
    ]);
    done = result;
    if (!done) return null;
    // let the 'error' event (emitted before 'close' for channel errors) be recorded
    await sleep(0);
    return this.serverClose ?? this.chErrors.get(ch) ?? { kind: 'error', level: 'socket' };
  }

  /** Wait for the connection to be closed (by the server). Returns serverClose or a socket-level outcome. */
  async waitClosed(timeoutMs = 2000): Promise<ErrorOutcome | null> {
    const ok = await Promise.race([this.closedP.then(() => true), raceTimer(timeoutMs).then(() => false)]);
    if (!ok) return null;
    return this.serverClose ?? { kind: 'error', level: 'socket' };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await Promise.race([this.model.close(), raceTimer(2000)]);
    } catch {
      /* already closed */
    }
  }
}

export async function connect(url: string, opts: ConnectOpts = {}): Promise<Conn> {
  const p = parseUrl(url);
  const user = opts.user ?? p.user;
  const pass = opts.pass ?? p.pass;
  const o: Options.Connect = {
    protocol: 'amqp',
    hostname: p.host,
    port: p.port,
    username: user,
    password: pass,
    vhost: opts.vhost ?? p.vhost,
  };
  if (opts.heartbeat !== undefined) o.heartbeat = opts.heartbeat;
  if (opts.frameMax !== undefined) o.frameMax = opts.frameMax;
  if (opts.channelMax !== undefined) o.channelMax = opts.channelMax;
  const sock: SocketOptions = { noDelay: true };
  if (opts.mechanism === 'AMQPLAIN') sock.credentials = amqp.credentials.amqplain(user, pass);
  const model = await amqp.connect(o, sock);
  return new Conn(model);
}

/* ------------------------------------------------------------------------ */
/* Per-scenario context                                                      */
/* ------------------------------------------------------------------------ */

export class Ctx {
  readonly prefix: string;
  private readonly conns: Conn[] = [];
  private readonly raws: RawClient[] = [];
  private readonly names = new Set<string>();

  constructor(
    readonly target: Target,
    readonly url: string,
  ) {
    this.prefix = `cx${randomBytes(4).toString('hex')}`;
  }

  /** A unique name (queue / exchange) for this run: `<prefix>-<suffix>`. Deleted at cleanup. */
  name(suffix = 'q'): string {
    const n = `${this.prefix}-${suffix}`;
    this.names.add(n);
    return n;
  }

  /** Register a server-named queue for deletion at cleanup. */
  track(name: string): string {
    this.names.add(name);
    return name;
  }

  async connect(opts: ConnectOpts = {}): Promise<Conn> {
    const c = await connect(this.url, opts);
    this.conns.push(c);
    return c;
  }

  /** A connection plus one channel on it. */
  async open(opts: ConnectOpts = {}): Promise<{ conn: Conn; ch: Channel }> {
    const conn = await this.connect(opts);
    return { conn, ch: await conn.channel() };
  }

  /** A connection plus one confirm channel on it. */
  async openConfirm(opts: ConnectOpts = {}): Promise<{ conn: Conn; ch: ConfirmChannel }> {
    const conn = await this.connect(opts);
    return { conn, ch: await conn.confirmChannel() };
  }

  async raw(): Promise<RawClient> {
    const p = parseUrl(this.url);
    const r = await RawClient.connect(p.host, p.port);
    this.raws.push(r);
    return r;
  }

  get credentials(): { user: string; pass: string; vhost: string } {
    const p = parseUrl(this.url);
    return { user: p.user, pass: p.pass, vhost: p.vhost };
  }

  /** Close every connection and delete everything named with ctx.name()/track(). */
  async cleanup(): Promise<void> {
    for (const r of this.raws) r.destroy();
    await Promise.all(this.conns.map((c) => c.close()));
    if (this.names.size === 0) return;
    let conn: Conn | undefined;
    try {
      conn = await connect(this.url);
      let ch = await conn.channel();
      for (const n of this.names) {
        for (const kind of ['queue', 'exchange'] as const) {
          try {
            if (kind === 'queue') await ch.deleteQueue(n);
            else await ch.deleteExchange(n);
          } catch {
            ch = await conn.channel();
          }
        }
      }
    } finally {
      if (conn) await conn.close();
    }
  }
}

/* ------------------------------------------------------------------------ */
/* Consuming                                                                 */
/* ------------------------------------------------------------------------ */

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

/** Sync point: a round trip on the channel (queue.declare passive of a queue that exists). */
/** A queue's message count by passive declare (which counts as use for x-expires), or 'gone'. */
export async function queueCount(conn: Conn, q: string): Promise<number | 'gone'> {
  const ch = await conn.channel();
  const r = await attempt(ch.checkQueue(q), conn);
  if (r.kind !== 'ok') return 'gone';
  const ok = await ch.checkQueue(q);
  await ch.close();
  return ok.messageCount;
}

export async function roundTrip(ch: Channel, queue: string): Promise<{ messageCount: number; consumerCount: number }> {
  const ok = await ch.checkQueue(queue);
  return { messageCount: ok.messageCount, consumerCount: ok.consumerCount };
}

/** Send any method on an amqplib channel (fire and forget). */
export function sendMethod(ch: Channel, method: string, fields: Record<string, unknown>): void {
  (ch as any).sendImmediately(defs[method], fields);
}

/** Perform any synchronous method on an amqplib channel; resolves with the reply fields. */
export function rpc(ch: Channel, method: string, fields: Record<string, unknown>, reply: string): Promise<any> {
  return (ch as any).rpc(defs[method], fields, defs[reply]);
}

/* ------------------------------------------------------------------------ */
/* Raw AMQP socket client (for frame-level scenarios)                        */
/* ------------------------------------------------------------------------ */

export const PROTOCOL_HEADER = Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1]);
export const FRAME_METHOD = 1;
export const FRAME_HEADER = 2;
export const FRAME_BODY = 3;
export const FRAME_HEARTBEAT = 8;
export const FRAME_END = 0xce;

/** A typed field-table value, for exact control of wire types. */
export interface Typed {
  t: string;
  v: any;
}
export const typed = (t: string, v: any): Typed => ({ t, v });

/** Minimal big-endian writer for method arguments, properties and tables. */
export class W {
  private parts: Buffer[] = [];
  private bitsPending: boolean[] | null = null;

  private flushBits() {
    if (this.bitsPending) {
      const bits = this.bitsPending;
      this.bitsPending = null;
      for (let i = 0; i < bits.length; i += 8) {
        let b = 0;
        for (let j = 0; j < 8 && i + j < bits.length; j++) if (bits[i + j]) b |= 1 << j;
        this.parts.push(Buffer.from([b]));
      }
    }
  }
  private push(b: Buffer) {
    this.flushBits();
    this.parts.push(b);
    return this;
  }
  u8(n: number) {
    const b = Buffer.alloc(1);
    b.writeUInt8(n);
    return this.push(b);
  }
  i8(n: number) {
    const b = Buffer.alloc(1);
    b.writeInt8(n);
    return this.push(b);
  }
  u16(n: number) {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(n);
    return this.push(b);
  }
  i16(n: number) {
    const b = Buffer.alloc(2);
    b.writeInt16BE(n);
    return this.push(b);
  }
  u32(n: number) {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return this.push(b);
  }
  i32(n: number) {
    const b = Buffer.alloc(4);
    b.writeInt32BE(n);
    return this.push(b);
  }
  u64(n: number | bigint) {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt(n));
    return this.push(b);
  }
  i64(n: number | bigint) {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(BigInt(n));
    return this.push(b);
  }
  bytes(b: Buffer) {
    return this.push(b);
  }
  shortstr(s: string) {
    const b = Buffer.from(s, 'utf8');
    this.u8(b.length);
    return this.push(b);
  }
  longstr(s: string | Buffer) {
    const b = Buffer.isBuffer(s) ? s : Buffer.from(s, 'utf8');
    this.u32(b.length);
    return this.push(b);
  }
  bit(v: boolean) {
    if (!this.bitsPending) this.bitsPending = [];
    this.bitsPending.push(v);
    return this;
  }
  table(t: Record<string, unknown>) {
    const inner = new W();
    for (const [k, v] of Object.entries(t)) {
      inner.shortstr(k);
      inner.value(v);
    }
    return this.longstr(inner.build());
  }
  /** A tagged field value. Plain JS values get a natural type; Typed values are exact. */
  value(v: unknown): this {
    if (v && typeof v === 'object' && 't' in (v as any) && 'v' in (v as any) && Object.keys(v as any).length === 2) {
      const { t, v: x } = v as Typed;
      this.push(Buffer.from(t, 'latin1'));
      switch (t) {
        case 't':
          return this.u8(x ? 1 : 0);
        case 'b':
          return this.i8(x);
        case 'B':
          return this.u8(x);
        case 's':
          return this.i16(x);
        case 'u':
          return this.u16(x);
        case 'I':
          return this.i32(x);
        case 'i':
          return this.u32(x);
        case 'l':
          return this.i64(x);
        case 'f': {
          const b = Buffer.alloc(4);
          b.writeFloatBE(x);
          return this.push(b);
        }
        case 'd': {
          const b = Buffer.alloc(8);
          b.writeDoubleBE(x);
          return this.push(b);
        }
        case 'D':
          return this.u8(x.places).u32(x.digits);
        case 'S':
        case 'x':
          return this.longstr(x);
        case 'T':
          return this.u64(x);
        case 'F':
          return this.table(x);
        case 'A': {
          const inner = new W();
          for (const e of x) inner.value(e);
          return this.longstr(inner.build());
        }
        case 'V':
          return this;
        default:
          throw new Error(`unknown field type ${t}`);
      }
    }
    if (v === null || v === undefined) return this.value(typed('V', null));
    if (typeof v === 'string') return this.value(typed('S', v));
    if (typeof v === 'boolean') return this.value(typed('t', v));
    if (typeof v === 'number') {
      if (!Number.isInteger(v)) return this.value(typed('d', v));
      if (v >= -0x80000000 && v < 0x80000000) return this.value(typed('I', v));
      return this.value(typed('l', v));
    }
    if (Buffer.isBuffer(v)) return this.value(typed('x', v));
    if (Array.isArray(v)) return this.value(typed('A', v));
    return this.value(typed('F', v as Record<string, unknown>));
  }
  build(): Buffer {
    this.flushBits();
    return Buffer.concat(this.parts);
  }
}

/** Minimal reader for the same types. */
export class R {
  off = 0;
  private bitByte = 0;
  private bitPos = 8;
  constructor(readonly b: Buffer) {}
  private nb() {
    this.bitPos = 8;
  }
  u8() {
    this.nb();
    return this.b.readUInt8(this.off++);
  }
  u16() {
    this.nb();
    const v = this.b.readUInt16BE(this.off);
    this.off += 2;
    return v;
  }
  u32() {
    this.nb();
    const v = this.b.readUInt32BE(this.off);
    this.off += 4;
    return v;
  }
  u64() {
    this.nb();
    const v = this.b.readBigUInt64BE(this.off);
    this.off += 8;
    return Number(v);
  }
  shortstr() {
    const n = this.u8();
    const s = this.b.toString('utf8', this.off, this.off + n);
    this.off += n;
    return s;
  }
  longstrBuf() {
    const n = this.u32();
    const s = this.b.subarray(this.off, this.off + n);
    this.off += n;
    return s;
  }
  longstr() {
    return this.longstrBuf().toString('utf8');
  }
  bit(): boolean {
    if (this.bitPos >= 8) {
      this.bitByte = this.b.readUInt8(this.off++);
      this.bitPos = 0;
    }
    return (this.bitByte & (1 << this.bitPos++)) !== 0;
  }
  table(): Record<string, any> {
    const body = this.longstrBuf();
    const r = new R(body);
    const out: Record<string, any> = {};
    while (r.off < body.length) {
      const k = r.shortstr();
      out[k] = r.value();
    }
    return out;
  }
  /** Decoded field value; `typedValues` keeps the wire tag. */
  value(typedValues = false): any {
    const tag = String.fromCharCode(this.u8());
    const wrap = (v: any) => (typedValues ? { t: tag, v } : v);
    switch (tag) {
      case 't':
        return wrap(this.u8() !== 0);
      case 'b':
        return wrap(this.b.readInt8(this.off++));
      case 'B':
        return wrap(this.u8());
      case 's': {
        const v = this.b.readInt16BE(this.off);
        this.off += 2;
        return wrap(v);
      }
      case 'u':
        return wrap(this.u16());
      case 'I': {
        const v = this.b.readInt32BE(this.off);
        this.off += 4;
        return wrap(v);
      }
      case 'i':
        return wrap(this.u32());
      case 'l': {
        const v = this.b.readBigInt64BE(this.off);
        this.off += 8;
        return wrap(Number(v));
      }
      case 'f': {
        const v = this.b.readFloatBE(this.off);
        this.off += 4;
        return wrap(v);
      }
      case 'd': {
        const v = this.b.readDoubleBE(this.off);
        this.off += 8;
        return wrap(v);
      }
      case 'D': {
        const places = this.u8();
        return wrap({ places, digits: this.u32() });
      }
      case 'S':
        return wrap(this.longstr());
      case 'x':
        return wrap(this.longstrBuf().toString('hex'));
      case 'T':
        return wrap(this.u64());
      case 'F':
        return wrap(this.table());
      case 'A': {
        const body = this.longstrBuf();
        const r = new R(body);
        const arr: any[] = [];
        while (r.off < body.length) arr.push(r.value(typedValues));
        return wrap(arr);
      }
      case 'V':
        return wrap(null);
      default:
        throw new Error(`unknown field tag ${tag}`);
    }
  }
}

export interface RawFrame {
  type: number;
  channel: number;
  payload: Buffer;
  /** for method frames */
  classId?: number;
  methodId?: number;
  /** decoded arguments for the methods the raw client knows */
  args?: any;
}

function decodeArgs(classId: number, methodId: number, r: R): any {
  switch (`${classId}.${methodId}`) {
    case '10.10':
      return {
        versionMajor: r.u8(),
        versionMinor: r.u8(),
        serverProperties: r.table(),
        mechanisms: r.longstr(),
        locales: r.longstr(),
      };
    case '10.30':
      return { channelMax: r.u16(), frameMax: r.u32(), heartbeat: r.u16() };
    case '10.41':
      return { knownHosts: r.shortstr() };
    case '10.50':
    case '20.40':
      return { replyCode: r.u16(), replyText: r.shortstr(), classId: r.u16(), methodId: r.u16() };
    case '20.11':
      return { channelId: r.longstr() };
    case '20.21':
      return { active: r.bit() };
    case '50.11':
      return { queue: r.shortstr(), messageCount: r.u32(), consumerCount: r.u32() };
    case '60.71':
      return {
        deliveryTag: r.u64(),
        redelivered: r.bit(),
        exchange: r.shortstr(),
        routingKey: r.shortstr(),
        messageCount: r.u32(),
      };
    case '60.72':
      return { clusterId: r.shortstr() };
    case '60.21':
      return { consumerTag: r.shortstr() };
    case '60.60':
      return {
        consumerTag: r.shortstr(),
        deliveryTag: r.u64(),
        redelivered: r.bit(),
        exchange: r.shortstr(),
        routingKey: r.shortstr(),
      };
    case '60.80':
      return { deliveryTag: r.u64(), multiple: r.bit() };
    default:
      return undefined;
  }
}

export function frame(type: number, channel: number, payload: Buffer, end = FRAME_END): Buffer {
  const h = Buffer.alloc(7);
  h.writeUInt8(type, 0);
  h.writeUInt16BE(channel, 1);
  h.writeUInt32BE(payload.length, 3);
  return Buffer.concat([h, payload, Buffer.from([end])]);
}

export function methodFrame(
  channel: number,
  classId: number,
  methodId: number,
  args: Buffer = Buffer.alloc(0),
): Buffer {
  return frame(FRAME_METHOD, channel, Buffer.concat([new W().u16(classId).u16(methodId).build(), args]));
}

/** Content header frame for class 60 with a pre-encoded property flags+list. */
export function headerFrame(channel: number, bodySize: number, props: Buffer = Buffer.from([0, 0])): Buffer {
  return frame(FRAME_HEADER, channel, Buffer.concat([new W().u16(60).u16(0).u64(bodySize).build(), props]));
}

export function bodyFrame(channel: number, body: Buffer): Buffer {
  return frame(FRAME_BODY, channel, body);
}

export interface RawHandshakeOpts {
  mechanism?: string;
  /** SASL response; default PLAIN for user/pass */
  response?: Buffer;
  user?: string;
  pass?: string;
  vhost?: string;
  /** values for tune-ok; default: echo the server's tune */
  tuneOk?: { channelMax?: number; frameMax?: number; heartbeat?: number };
  clientProperties?: Record<string, unknown>;
}

export interface RawHandshakeResult {
  start?: any;
  tune?: any;
  openOk?: boolean;
  /** connection.close received during the handshake */
  close?: any;
  /** socket closed during handshake without a close method */
  dropped?: boolean;
}

/** A raw AMQP socket: write bytes, read frames. */
export class RawClient {
  received = Buffer.alloc(0);
  private parseOff = 0;
  private frames: RawFrame[] = [];
  private wake: (() => void) | null = null;
  ended = false;
  endedAt = 0;
  frameError?: string;

  private constructor(readonly sock: net.Socket) {
    sock.on('data', (d) => {
      this.received = Buffer.concat([this.received, d]);
      this.parse();
      this.notify();
    });
    const end = () => {
      if (!this.ended) {
        this.ended = true;
        this.endedAt = Date.now();
      }
      this.notify();
    };
    sock.on('end', end);
    sock.on('close', end);
    sock.on('error', end);
  }

  static connect(host: string, port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host, port, noDelay: true }, () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  private notify() {
    const w = this.wake;
    this.wake = null;
    if (w) w();
  }

  private parse() {
    // a protocol header sent back by the server is not a frame
    if (
      this.parseOff === 0 &&
      this.received.length >= 4 &&
      this.received.subarray(0, 4).toString('latin1') === 'AMQP'
    ) {
      if (this.received.length < 8) return;
      this.parseOff = 8;
    }
    while (this.received.length - this.parseOff >= 8) {
      const type = this.received.readUInt8(this.parseOff);
      const channel = this.received.readUInt16BE(this.parseOff + 1);
      const size = this.received.readUInt32BE(this.parseOff + 3);
      if (this.received.length - this.parseOff < size + 8) return;
      const payload = this.received.subarray(this.parseOff + 7, this.parseOff + 7 + size);
      const end = this.received.readUInt8(this.parseOff + 7 + size);
      this.parseOff += size + 8;
      if (end !== FRAME_END) {
        this.frameError = `bad frame end ${end}`;
        return;
      }
      const f: RawFrame = { type, channel, payload };
      if (type === FRAME_METHOD) {
        const r = new R(payload);
        f.classId = r.u16();
        f.methodId = r.u16();
        try {
          f.args = decodeArgs(f.classId, f.methodId, r);
        } catch {
          f.args = undefined;
        }
      }
      this.frames.push(f);
    }
  }

  write(b: Buffer): void {
    if (!this.sock.destroyed) this.sock.write(b);
  }

  /** Next frame (heartbeats skipped unless includeHeartbeats); null if the socket ended or timed out. */
  async next(timeoutMs = 2000, includeHeartbeats = false): Promise<RawFrame | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.frames.length) {
        const f = this.frames.shift()!;
        if (f.type === FRAME_HEARTBEAT && !includeHeartbeats) continue;
        return f;
      }
      if (this.ended) return null;
      const left = deadline - Date.now();
      if (left <= 0) return null;
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.wake = () => {
          clearTimeout(t);
          r();
        };
      });
    }
  }

  /** Next method frame matching classId.methodId (other frames are discarded). */
  async expectMethod(classId: number, methodId: number, timeoutMs = 2000): Promise<RawFrame | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const f = await this.next(Math.max(1, deadline - Date.now()));
      if (!f) return null;
      if (f.type === FRAME_METHOD && f.classId === classId && f.methodId === methodId) return f;
    }
  }

  /** Wait for the server to close the socket. Returns true if it did within timeoutMs. */
  async waitEnd(timeoutMs = 2000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.wake = () => {
          clearTimeout(t);
          r();
        };
      });
    }
    return true;
  }

  /**
   * Read frames until the server sends connection.close (replying close-ok) or drops the socket.
   * Returns the close outcome, or null on timeout. Channel-level closes are returned too.
   */
  async awaitClose(timeoutMs = 2000): Promise<ErrorOutcome | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const f = await this.next(Math.max(1, deadline - Date.now()));
      if (!f) {
        if (this.ended) return { kind: 'error', level: 'socket' };
        return null;
      }
      if (
        f.type === FRAME_METHOD &&
        (f.classId === 10 || f.classId === 20) &&
        f.methodId === 50 - (f.classId === 20 ? 10 : 0)
      ) {
        const a = f.args;
        if (f.classId === 10) this.write(methodFrame(0, 10, 51));
        else this.write(methodFrame(f.channel, 20, 41));
        return {
          kind: 'error',
          level: f.classId === 10 ? 'connection' : 'channel',
          code: a.replyCode,
          classId: a.classId,
          methodId: a.methodId,
          text: a.replyText,
        };
      }
    }
  }

  sendMethod(channel: number, classId: number, methodId: number, args: Buffer = Buffer.alloc(0)): void {
    this.write(methodFrame(channel, classId, methodId, args));
  }

  /** Full opening handshake. Stops early (returning what was seen) if the server closes. */
  async handshake(
    opts: RawHandshakeOpts = {},
    header: Buffer = PROTOCOL_HEADER,
    timeoutMs = 3000,
  ): Promise<RawHandshakeResult> {
    const res: RawHandshakeResult = {};
    this.write(header);
    const start = await this.expectMethod(10, 10, timeoutMs);
    if (!start) return { dropped: true };
    res.start = start.args;
    const mechanism = opts.mechanism ?? 'PLAIN';
    const response = opts.response ?? Buffer.from(`\u0000${opts.user ?? 'guest'}\u0000${opts.pass ?? 'guest'}`, 'utf8');
    const props = opts.clientProperties ?? {
      product: 'warren-compat-raw',
      capabilities: {
        authentication_failure_close: true,
        'connection.blocked': true,
        'basic.nack': true,
        consumer_cancel_notify: true,
      },
    };
    this.sendMethod(0, 10, 11, new W().table(props).shortstr(mechanism).longstr(response).shortstr('en_US').build());
    const f = await this.next(timeoutMs);
    if (!f) return { ...res, dropped: true };
    if (f.classId === 10 && f.methodId === 50) {
      this.write(methodFrame(0, 10, 51));
      return { ...res, close: f.args };
    }
    if (!(f.classId === 10 && f.methodId === 30))
      throw new Error(`unexpected frame in handshake: ${f.classId}.${f.methodId}`);
    res.tune = f.args;
    const t = { ...f.args, ...(opts.tuneOk ?? {}) };
    this.sendMethod(0, 10, 31, new W().u16(t.channelMax).u32(t.frameMax).u16(t.heartbeat).build());
    this.sendMethod(
      0,
      10,
      40,
      new W()
        .shortstr(opts.vhost ?? '/')
        .shortstr('')
        .bit(false)
        .build(),
    );
    const o = await this.next(timeoutMs);
    if (!o) return { ...res, dropped: true };
    if (o.classId === 10 && o.methodId === 50) {
      this.write(methodFrame(0, 10, 51));
      return { ...res, close: o.args };
    }
    if (o.classId === 10 && o.methodId === 41) return { ...res, openOk: true };
    throw new Error(`unexpected frame after connection.open: ${o.classId}.${o.methodId}`);
  }

  /** channel.open on `channel` and wait for open-ok. */
  async openChannel(channel: number): Promise<boolean> {
    this.sendMethod(channel, 20, 10, new W().shortstr('').build());
    return !!(await this.expectMethod(20, 11));
  }

  destroy(): void {
    this.sock.destroy();
  }
}

/* ------------------------------------------------------------------------ */
/* Routing helper                                                            */
/* ------------------------------------------------------------------------ */

export type BindSpec = string | [string, Record<string, unknown>];
export type PublishSpec = string | { rk: string; body?: string; options?: Options.Publish };

/**
 * Declare one queue per key of `bindings` (named ctx.name(key)), bind it to `exchange` with
 * each of its binding keys (optionally with arguments), publish `messages` on a confirm
 * channel (so routing is complete once they are confirmed), then drain every queue.
 * Returns {key: [bodies...]}; a message's body defaults to its routing key. The queues are
 * declared with `queueOptions` (default: transient classic queues).
 */
export async function routeAndDrain(
  ctx: Ctx,
  ch: ConfirmChannel,
  exchange: string,
  bindings: Record<string, BindSpec[]>,
  messages: PublishSpec[],
  queueOptions: Options.AssertQueue = { durable: false },
): Promise<Record<string, string[]>> {
  const names: Record<string, string> = {};
  for (const [k, specs] of Object.entries(bindings)) {
    const q = ctx.name(`q-${k}`);
    names[k] = q;
    await ch.assertQueue(q, queueOptions);
    for (const spec of specs) {
      const [key, args] = typeof spec === 'string' ? [spec, undefined] : spec;
      await ch.bindQueue(q, exchange, key, args);
    }
  }
  for (const m of messages) {
    const spec = typeof m === 'string' ? { rk: m } : m;
    ch.publish(exchange, spec.rk, Buffer.from(spec.body ?? spec.rk), spec.options ?? {});
  }
  await ch.waitForConfirms();
  const out: Record<string, string[]> = {};
  for (const [k, q] of Object.entries(names)) out[k] = await bodies(ch, q);
  return out;
}

/* ------------------------------------------------------------------------ */
/* Raw-socket shortcuts                                                      */
/* ------------------------------------------------------------------------ */

export const rawArgs = {
  queueDeclare: (
    queue: string,
    o: {
      passive?: boolean;
      durable?: boolean;
      exclusive?: boolean;
      autoDelete?: boolean;
      args?: Record<string, unknown>;
    } = {},
  ) =>
    new W()
      .u16(0)
      .shortstr(queue)
      .bit(!!o.passive)
      .bit(!!o.durable)
      .bit(!!o.exclusive)
      .bit(!!o.autoDelete)
      .bit(false)
      .table(o.args ?? {})
      .build(),
  basicPublish: (exchange: string, routingKey: string, mandatory = false, immediate = false) =>
    new W().u16(0).shortstr(exchange).shortstr(routingKey).bit(mandatory).bit(immediate).build(),
  basicGet: (queue: string, noAck = true) => new W().u16(0).shortstr(queue).bit(noAck).build(),
  basicConsume: (queue: string, tag = '', noAck = true) =>
    new W().u16(0).shortstr(queue).shortstr(tag).bit(false).bit(noAck).bit(false).bit(false).table({}).build(),
};

/** Raw client after handshake with channel 1 open. */
export async function rawOpen(ctx: Ctx, tuneOk?: RawHandshakeOpts['tuneOk']): Promise<RawClient> {
  const r = await ctx.raw();
  const p = ctx.credentials;
  const res = await r.handshake({ user: p.user, pass: p.pass, vhost: p.vhost, tuneOk });
  if (!res.openOk) throw new Error(`raw handshake failed: ${JSON.stringify(res.close ?? res)}`);
  if (!(await r.openChannel(1))) throw new Error('raw channel.open failed');
  return r;
}

/** Publish a message on a raw connection: method, content header (with pre-encoded properties), body frames. */
export function rawPublish(
  r: RawClient,
  channel: number,
  exchange: string,
  routingKey: string,
  body: Buffer,
  props: Buffer = Buffer.from([0, 0]),
  frameMax = 131072,
): void {
  r.sendMethod(channel, 60, 40, rawArgs.basicPublish(exchange, routingKey));
  r.write(headerFrame(channel, body.length, props));
  const max = frameMax - 8;
  for (let off = 0; off < body.length; off += max) r.write(bodyFrame(channel, body.subarray(off, off + max)));
}

export interface RawMessage {
  method: RawFrame;
  header: RawFrame;
  bodyFrames: number[];
  body: Buffer;
}

/** Read a get-ok/deliver + header + bodies (get-empty resolves null). */
export async function rawReadMessage(r: RawClient, timeoutMs = 3000): Promise<RawMessage | null> {
  const method = await r.next(timeoutMs);
  if (!method || method.type !== FRAME_METHOD) throw new Error(`expected a method frame, got ${method && method.type}`);
  if (method.classId === 60 && method.methodId === 72) return null;
  if (!(method.classId === 60 && (method.methodId === 71 || method.methodId === 60))) {
    throw new Error(`expected get-ok/deliver, got ${method.classId}.${method.methodId} ${JSON.stringify(method.args)}`);
  }
  const header = await r.next(timeoutMs);
  if (!header || header.type !== FRAME_HEADER) throw new Error('expected a content header frame');
  const size = Number(header.payload.readBigUInt64BE(4));
  const parts: Buffer[] = [];
  let got = 0;
  const bodyFrames: number[] = [];
  while (got < size) {
    const b = await r.next(timeoutMs);
    if (!b || b.type !== FRAME_BODY) throw new Error('expected a body frame');
    parts.push(b.payload);
    bodyFrames.push(b.payload.length);
    got += b.payload.length;
  }
  return { method, header, bodyFrames, body: Buffer.concat(parts) };
}

/** Encode BasicProperties (flags + values) the way the wire carries them. */
export function encodeProps(p: {
  contentType?: string;
  contentEncoding?: string;
  headers?: Record<string, unknown>;
  deliveryMode?: number;
  priority?: number;
  correlationId?: string;
  replyTo?: string;
  expiration?: string;
  messageId?: string;
  timestamp?: number;
  type?: string;
  userId?: string;
  appId?: string;
  clusterId?: string;
}): Buffer {
  let flags = 0;
  const w = new W();
  const order: Array<[keyof typeof p, number, (v: any) => void]> = [
    ['contentType', 15, (v) => w.shortstr(v)],
    ['contentEncoding', 14, (v) => w.shortstr(v)],
    ['headers', 13, (v) => w.table(v)],
    ['deliveryMode', 12, (v) => w.u8(v)],
    ['priority', 11, (v) => w.u8(v)],
    ['correlationId', 10, (v) => w.shortstr(v)],
    ['replyTo', 9, (v) => w.shortstr(v)],
    ['expiration', 8, (v) => w.shortstr(v)],
    ['messageId', 7, (v) => w.shortstr(v)],
    ['timestamp', 6, (v) => w.u64(v)],
    ['type', 5, (v) => w.shortstr(v)],
    ['userId', 4, (v) => w.shortstr(v)],
    ['appId', 3, (v) => w.shortstr(v)],
    ['clusterId', 2, (v) => w.shortstr(v)],
  ];
  for (const [k, bit, enc] of order) {
    if (p[k] !== undefined) {
      flags |= 1 << bit;
      enc(p[k]);
    }
  }
  return Buffer.concat([new W().u16(flags).build(), w.build()]);
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
