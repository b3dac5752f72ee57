import * as P from '@warren/amqp-protocol';
import { connect, Socket } from 'node:net';

/** A frame as received. Method frames carry their ids and, when the protocol library can decode them, the method. */
export interface Frame {
  type: number;
  channel: number;
  payload: Buffer;
  method?: P.Method;
  classId?: number;
  methodId?: number;
  /** The method's arguments as plain data: tables as objects, longstrs as text (what outcomes compare). */
  args?: any;
}

/** The reason a server closed a connection or channel, in the shape the compatibility outcomes use. */
export interface CloseOutcome {
  kind: 'error';
  level: 'connection' | 'channel' | 'socket';
  code?: number;
  classId?: number;
  methodId?: number;
  text?: string;
}

export interface HandshakeOpts {
  mechanism?: string;
  /** SASL response; default PLAIN for user/pass */
  response?: Buffer;
  user?: string;
  pass?: string;
  vhost?: string;
  /** Values for tune-ok; by default the server's tune is echoed. */
  tuneOk?: { channelMax?: number; frameMax?: number; heartbeat?: number };
  clientProperties?: Record<string, unknown>;
  /** Stop once connection.tune arrived: send neither tune-ok nor connection.open. */
  stopAfterTune?: boolean;
}

export interface HandshakeResult {
  start?: any;
  tune?: any;
  openOk?: boolean;
  /** connection.close received during the handshake (its arguments) */
  close?: any;
  /** socket closed during handshake without a close method */
  dropped?: boolean;
}

const DEFAULT_CLIENT_PROPERTIES = {
  product: 'warren-raw-client',
  capabilities: {
    authentication_failure_close: true,
    'connection.blocked': true,
    'basic.nack': true,
    consumer_cancel_notify: true,
  },
};

/**
 * A bare AMQP peer for tests that must send what no well-behaved client would, and see every frame the server
 * sends back. Well-formed methods go through the protocol library's encoder (method()); anything else is
 * written as bytes (write(), sendMethod() with hand-made arguments). Received frames are split and decoded by
 * the library too, and kept in order in `frames`: a test either awaits a given frame (waitFor, from an index)
 * or reads them one after another (next, expectMethod).
 */
export class RawClient {
  /** Every frame received, in order. */
  readonly frames: Frame[] = [];
  private readonly chunks: Buffer[] = [];
  /** What the test sent, when it chooses to record it (for failure messages). */
  sent: Buffer[] = [];
  closed = false;
  /** Set when the server's byte stream could not be split into frames (the socket is then destroyed). */
  frameError?: string;
  /** Index in `frames` of the next frame next() returns. */
  private cursor = 0;
  // Frame sizes are not limited: a test must see whatever the server sends.
  private readonly parser = new P.FrameParser(Number.MAX_SAFE_INTEGER);
  /** What arrived before the first 8 bytes: a refusing server answers with a protocol header, not a frame. */
  private head: Buffer | null = Buffer.alloc(0);
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk) => {
      this.chunks.push(chunk);
      this.parse(chunk);
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static async connect(port: number, host = '127.0.0.1'): Promise<RawClient> {
    const socket = connect({ host, port, noDelay: true });
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    return new RawClient(socket);
  }

  /** Connects and performs the handshake as guest, leaving channel 1 open. */
  static async open(port: number): Promise<RawClient> {
    const client = await RawClient.connect(port);
    const refused = await client.login();
    if (refused) throw new Error(`handshake refused: ${refused.replyCode} ${refused.replyText}`);
    client.method(1, P.CHANNEL_OPEN, {});
    await client.waitForMethod(P.CHANNEL_OPEN_OK);
    return client;
  }

  /** Every byte received, the server's protocol header included. */
  get received(): Buffer {
    return Buffer.concat(this.chunks);
  }

  private parse(chunk: Buffer): void {
    if (this.head) {
      // a frame is at least 8 bytes long too, so nothing is lost by waiting for them
      const head = Buffer.concat([this.head, chunk]);
      if (head.length < 8) {
        this.head = head;
        return;
      }
      this.head = null;
      chunk = head.toString('latin1', 0, 4) === 'AMQP' ? head.subarray(8) : head;
    }
    try {
      this.parser.push(chunk, (type, channel, payload) => this.frames.push(toFrame(type, channel, payload)));
    } catch (err) {
      this.frameError = (err as Error).message;
      this.socket.destroy();
    }
  }

  write(bytes: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  /** A method encoded by the protocol library (missing arguments as 0 / false / '' / empty table). */
  method(channel: number, methodId: number, args: object): void {
    this.write(P.encodeMethodFrame(channel, methodId, args));
  }

  /** A method frame with hand-made argument bytes. */
  sendMethod(channel: number, classId: number, methodId: number, args: Buffer = Buffer.alloc(0)): void {
    this.write(rawFrame(P.FRAME_METHOD, channel, Buffer.concat([u16(classId), u16(methodId), args])));
  }

  /** basic.publish with its content header (properties as raw bytes) and body, as one write. */
  publish(
    channel: number,
    exchange: string,
    routingKey: string,
    properties: Buffer,
    body: Buffer,
    frameMax = 131072,
  ): void {
    const writer = new P.FrameWriter();
    writer.method(channel, P.BASIC_PUBLISH, { exchange, routingKey, mandatory: false, immediate: false });
    writer.headerRaw(channel, P.ClassId.basic, body.length, properties);
    writer.body(channel, body, frameMax);
    this.write(writer.take());
  }

  /**
   * The opening handshake up to connection.open-ok (or connection.tune with stopAfterTune). Stops early,
   * returning what was seen, when the server closes the connection or drops the socket.
   */
  async handshake(
    opts: HandshakeOpts = {},
    header: Buffer = P.PROTOCOL_HEADER,
    timeoutMs = 3000,
  ): Promise<HandshakeResult> {
    const res: HandshakeResult = {};
    this.write(header);
    const start = await this.expectMethod(10, 10, timeoutMs);
    if (!start) return { dropped: true };
    res.start = start.args;
    const startOk = P.startOkArgs({
      user: opts.user ?? 'guest',
      password: opts.pass ?? 'guest',
      clientProperties: opts.clientProperties ?? DEFAULT_CLIENT_PROPERTIES,
      mechanism: opts.mechanism,
      response: opts.response,
    });
    this.method(0, P.CONNECTION_START_OK, startOk);
    const tune = await this.next(timeoutMs);
    if (!tune) return { ...res, dropped: true };
    if (tune.method?.id === P.CONNECTION_CLOSE) return { ...res, close: this.closeOk(tune) };
    if (tune.method?.id !== P.CONNECTION_TUNE)
      throw new Error(`unexpected frame in handshake: ${tune.classId}.${tune.methodId}`);
    res.tune = tune.args;
    if (opts.stopAfterTune) return res;
    this.method(0, P.CONNECTION_TUNE_OK, { ...tune.args, ...(opts.tuneOk ?? {}) });
    this.method(0, P.CONNECTION_OPEN, { virtualHost: opts.vhost ?? '/' });
    const open = await this.next(timeoutMs);
    if (!open) return { ...res, dropped: true };
    if (open.method?.id === P.CONNECTION_CLOSE) return { ...res, close: this.closeOk(open) };
    if (open.method?.id === P.CONNECTION_OPEN_OK) return { ...res, openOk: true };
    throw new Error(`unexpected frame after connection.open: ${open.classId}.${open.methodId}`);
  }

  /**
   * The handshake as `user` into `vhost` (guest into '/' by default), tuned to no channel limit, 128 KiB frames
   * and no heartbeats unless asked. Resolves with the connection.close the server sent instead, if any.
   */
  async login(
    opts: { user?: string; password?: string; vhost?: string; heartbeat?: number; stopAfterTune?: boolean } = {},
  ): Promise<P.ConnectionCloseArgs | undefined> {
    const res = await this.handshake({
      user: opts.user,
      pass: opts.password,
      vhost: opts.vhost,
      stopAfterTune: opts.stopAfterTune,
      tuneOk: { channelMax: 0, frameMax: 131072, heartbeat: opts.heartbeat ?? 0 },
      clientProperties: { capabilities: { authentication_failure_close: true, consumer_cancel_notify: true } },
    });
    if (!res.start) throw new Error('no connection.start from the server');
    if (res.close) return res.close;
    if (res.tune && !opts.stopAfterTune && !res.openOk) throw new Error('no connection.open-ok from the server');
    return undefined;
  }

  /** channel.open on `channel`; true once open-ok arrived. */
  async openChannel(channel: number): Promise<boolean> {
    this.method(channel, P.CHANNEL_OPEN, {});
    return !!(await this.expectMethod(20, 11));
  }

  /** The next frame not yet read by next() (heartbeats skipped unless asked for); null on close or timeout. */
  async next(timeoutMs = 2000, includeHeartbeats = false): Promise<Frame | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.cursor < this.frames.length) {
        const f = this.frames[this.cursor++];
        if (f.type === P.FRAME_HEARTBEAT && !includeHeartbeats) continue;
        return f;
      }
      if (this.closed || Date.now() >= deadline) return null;
      await this.sleepUntil(deadline);
    }
  }

  /** The next method frame classId.methodId, read with next() (frames before it are passed over). */
  async expectMethod(classId: number, methodId: number, timeoutMs = 2000): Promise<Frame | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const f = await this.next(Math.max(1, deadline - Date.now()));
      if (!f) return null;
      if (f.type === P.FRAME_METHOD && f.classId === classId && f.methodId === methodId) return f;
    }
  }

  /**
   * Reads frames until the server sends connection.close or channel.close (answering with close-ok) or drops
   * the socket. Resolves with the close, or null on timeout.
   */
  async awaitClose(timeoutMs = 2000): Promise<CloseOutcome | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const f = await this.next(Math.max(1, deadline - Date.now()));
      if (!f) return this.closed ? { kind: 'error', level: 'socket' } : null;
      const id = f.method?.id;
      if (id === P.CONNECTION_CLOSE || id === P.CHANNEL_CLOSE) {
        const a = this.closeOk(f);
        return {
          kind: 'error',
          level: id === P.CONNECTION_CLOSE ? 'connection' : 'channel',
          code: a.replyCode,
          classId: a.classId,
          methodId: a.methodId,
          text: a.replyText,
        };
      }
    }
  }

  /** Answers a connection.close or channel.close with its close-ok; returns the close's arguments. */
  private closeOk(f: Frame): any {
    if (f.method?.id === P.CONNECTION_CLOSE) this.method(0, P.CONNECTION_CLOSE_OK, {});
    else this.method(f.channel, P.CHANNEL_CLOSE_OK, {});
    return f.args;
  }

  /** Resolves with the first frame (after `from`) carrying the method, or rejects on close or timeout. */
  async waitForMethod(methodId: number, timeoutMs = 3000, from = 0): Promise<Frame> {
    const found = await this.waitFor((f) => f.method?.id === methodId, timeoutMs, from);
    if (!found) throw new Error(`no ${P.methodName(methodId)} from the server`);
    return found;
  }

  /** Waits until a frame matches (returns it) or the socket closes or time runs out (returns undefined). */
  async waitFor(match: (f: Frame) => boolean, timeoutMs = 3000, from = 0): Promise<Frame | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.slice(from).find(match);
      if (found || this.closed || Date.now() >= deadline) return found;
      await this.sleepUntil(deadline);
    }
  }

  /** Whether the server closed the socket within timeoutMs. */
  async waitClosed(timeoutMs = 3000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) await this.sleepUntil(deadline);
    return this.closed;
  }

  close(): void {
    this.socket.destroy();
  }

  /** Until something arrives, the socket closes, or the deadline passes. */
  private sleepUntil(deadline: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

function toFrame(type: number, channel: number, view: Buffer): Frame {
  const payload = Buffer.from(view);
  const frame: Frame = { type, channel, payload };
  if (type !== P.FRAME_METHOD || payload.length < 4) return frame;
  frame.classId = payload.readUInt16BE(0);
  frame.methodId = payload.readUInt16BE(2);
  try {
    frame.method = P.decodeMethod(payload);
    frame.args = plainArgs(frame.method.args);
  } catch {
    // a method the library cannot decode is still a frame a test may want to see
  }
  return frame;
}

/** Method arguments as plain data: field tables as objects, longstrs as UTF-8 text. */
function plainArgs(args: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(args)) {
    if (v instanceof Map) out[k] = P.tableToPlain(v as P.FieldTable);
    else if (Buffer.isBuffer(v)) out[k] = v.toString('utf8');
    else out[k] = v;
  }
  return out;
}

const u16 = (n: number) => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
};

/**
 * A frame around any payload, with any frame-end octet: the library's writer only makes well-formed frames,
 * and the hostile-input tests need frames of unknown types, on the wrong channel, or with a bad end.
 */
export function rawFrame(type: number, channel: number, payload: Buffer, end = P.FRAME_END): Buffer {
  const head = Buffer.alloc(7);
  head.writeUInt8(type, 0);
  head.writeUInt16BE(channel, 1);
  head.writeUInt32BE(payload.length, 3);
  return Buffer.concat([head, payload, Buffer.from([end])]);
}
