// A minimal AMQP 0-9-1 client for load generation, built on @warren/amqp-protocol.
//
// It does only what a load tool needs, with as little work per message as possible:
//   - PLAIN handshake, no heartbeats (the tool's runs are short), frame-max up to 128 KiB;
//   - channels with synchronous methods as promises (declare, qos, consume, confirm.select, ...);
//   - outgoing frames are encoded into the connection's FrameWriter and sent with one socket.write per batch
//     (flush()), so a publisher can put thousands of messages on the wire in one write;
//   - the hot incoming methods (basic.deliver, basic.ack / basic.nack confirms) are read in place, without
//     decoding the whole method; content headers and bodies are only counted, never copied.
//
// Deliveries reach ChannelHandlers.onDelivery once their body is complete. The body passed along is the first
// body frame's payload: a view into the socket's read buffer, valid only during the call.

import { connect, type Socket } from 'node:net';
import {
  BASIC_ACK,
  BASIC_CANCEL,
  BASIC_DELIVER,
  BASIC_NACK,
  BASIC_PUBLISH,
  BASIC_RETURN,
  CHANNEL_CLOSE,
  CHANNEL_CLOSE_OK,
  CHANNEL_OPEN,
  CHANNEL_OPEN_OK,
  CONNECTION_BLOCKED,
  CONNECTION_CLOSE,
  CONNECTION_CLOSE_OK,
  CONNECTION_OPEN,
  CONNECTION_OPEN_OK,
  CONNECTION_START,
  CONNECTION_START_OK,
  CONNECTION_TUNE,
  CONNECTION_TUNE_OK,
  CONNECTION_UNBLOCKED,
  FRAME_BODY,
  FRAME_HEADER,
  FRAME_HEARTBEAT,
  FRAME_METHOD,
  FrameParser,
  FrameWriter,
  PROTOCOL_HEADER,
  decodeMethod,
  methodName,
  startOkArgs,
  tableToPlain,
  type Method,
} from '@warren/amqp-protocol';

const TWO_32 = 2 ** 32;
/** The largest frame this client asks for; RabbitMQ's default frame_max. */
export const CLIENT_FRAME_MAX = 131072;
const HANDSHAKE_TIMEOUT_MS = 10_000;
const CLOSE_TIMEOUT_MS = 2_000;

export interface AmqpUri {
  host: string;
  port: number;
  user: string;
  password: string;
  vhost: string;
}

/** amqp://user:pass@host:port/vhost; missing parts default to guest/guest, localhost, 5672 and '/'. */
export function parseUri(uri: string): AmqpUri {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new Error(`not a URI: '${uri}'`);
  }
  if (url.protocol !== 'amqp:') throw new Error(`only amqp:// URIs are supported, got '${url.protocol}//'`);
  const path = url.pathname.replace(/^\//, '');
  return {
    host: (url.hostname || 'localhost').replace(/^\[(.*)\]$/, '$1'),
    port: url.port ? Number(url.port) : 5672,
    user: url.username ? decodeURIComponent(url.username) : 'guest',
    password: url.password ? decodeURIComponent(url.password) : 'guest',
    vhost: path === '' ? '/' : decodeURIComponent(path),
  };
}

/** A connection or channel closed by the broker, or a broken socket. */
export class AmqpError extends Error {
  constructor(
    message: string,
    readonly replyCode?: number,
  ) {
    super(message);
    this.name = 'AmqpError';
  }
}

export interface ChannelHandlers {
  /** A delivery whose body is complete; `body` is its first body frame (null when empty), valid during the call. */
  onDelivery?: (deliveryTag: number, body: Buffer | null) => void;
  /** A publisher confirm (basic.ack or basic.nack from the broker) in confirm mode. */
  onConfirm?: (deliveryTag: number, multiple: boolean, nack: boolean) => void;
  /** The broker cancelled a consumer (its queue was deleted, ...). */
  onCancel?: (consumerTag: string) => void;
  /** The broker closed the channel, or the connection went away. */
  onClose?: (error: AmqpError) => void;
}

interface Waiter {
  expect: number;
  resolve: (method: Method) => void;
  reject: (error: Error) => void;
}

const enum Content {
  None,
  Delivery,
  Ignored,
}

export class Channel {
  closed: AmqpError | null = null;
  private readonly waiters: Waiter[] = [];
  // content being received: what it is, the delivery tag, body bytes still expected, first body frame
  content = Content.None;
  contentTag = 0;
  remaining = 0;
  firstBody: Buffer | null = null;

  constructor(
    readonly connection: Connection,
    readonly id: number,
    public handlers: ChannelHandlers,
  ) {}

  /** Sends a synchronous method and resolves with the broker's reply (`expect`). Flushes. */
  rpc(methodId: number, args: object, expect: number): Promise<Method> {
    if (this.closed) return Promise.reject(this.closed);
    return new Promise<Method>((resolve, reject) => {
      this.waiters.push({ expect, resolve, reject });
      this.connection.writer.method(this.id, methodId, args);
      this.connection.flush();
    });
  }

  /** Waits for a method the broker sends unprompted (connection.start, connection.tune). */
  next(expect: number): Promise<Method> {
    if (this.closed) return Promise.reject(this.closed);
    return new Promise<Method>((resolve, reject) => this.waiters.push({ expect, resolve, reject }));
  }

  /** Encodes a method into the connection's pending batch (not flushed). */
  send(methodId: number, args: object): void {
    this.connection.writer.method(this.id, methodId, args);
  }

  /** basic.ack into the pending batch (not flushed). */
  ack(deliveryTag: number, multiple: boolean): void {
    this.connection.writer.method(this.id, BASIC_ACK, { deliveryTag, multiple });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.rpc(CHANNEL_CLOSE, { replyCode: 200, replyText: 'bye', classId: 0, methodId: 0 }, CHANNEL_CLOSE_OK);
    this.fail(new AmqpError('channel closed by the client', 200), false);
  }

  /** A method reply for a waiter. */
  reply(method: Method): void {
    const waiter = this.waiters.shift();
    if (!waiter) {
      this.connection.fail(new AmqpError(`unexpected ${method.name} on channel ${this.id}`));
      return;
    }
    if (waiter.expect !== method.id) {
      waiter.reject(new AmqpError(`expected ${methodName(waiter.expect)}, got ${method.name} on channel ${this.id}`));
      return;
    }
    waiter.resolve(method);
  }

  fail(error: AmqpError, notify = true): void {
    if (this.closed) return;
    this.closed = error;
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
    if (notify) this.handlers.onClose?.(error);
  }
}

export interface ConnectOptions {
  /** Shown by the broker (client property connection_name). */
  name?: string;
  timeoutMs?: number;
}

export class Connection {
  /** Frames encoded here are sent by the next flush(). */
  readonly writer = new FrameWriter(64 * 1024);
  serverProperties: Record<string, unknown> = {};
  frameMax = CLIENT_FRAME_MAX;
  channelMax = 2047;
  /** connection.blocked received (RabbitMQ's resource alarms): publishers should pause. */
  blocked = false;
  onBlocked: ((blocked: boolean) => void) | null = null;
  /** Called after the frames of each incoming chunk are handled, before the pending batch is flushed. */
  afterRead: (() => void) | null = null;
  closed: AmqpError | null = null;
  onClose: ((error: AmqpError) => void) | null = null;

  private readonly parser = new FrameParser(CLIENT_FRAME_MAX);
  private readonly channel0: Channel;
  private readonly channels = new Map<number, Channel>();
  private nextChannel = 1;
  private closing = false;
  private drainWaiters: Array<() => void> = [];
  private readonly handleFrame = (type: number, channel: number, payload: Buffer) => this.frame(type, channel, payload);

  private constructor(private readonly socket: Socket) {
    this.channel0 = new Channel(this, 0, {});
    socket.setNoDelay(true);
    let first = true;
    socket.on('data', (chunk: Buffer) => {
      if (first) {
        first = false;
        if (chunk.length >= 4 && chunk.toString('latin1', 0, 4) === 'AMQP') {
          this.fail(
            new AmqpError(`the broker refused the protocol header; it speaks ${[...chunk.subarray(4, 8)].join('-')}`),
          );
          return;
        }
      }
      if (this.closed) return;
      try {
        this.parser.push(chunk, this.handleFrame);
      } catch (error) {
        this.fail(new AmqpError(`bad frame from the broker: ${(error as Error).message}`));
        return;
      }
      this.afterRead?.();
      this.flush();
    });
    socket.on('drain', () => this.wakeDrainWaiters());
    socket.on('error', (error) => this.fail(new AmqpError(`socket: ${error.message}`)));
    socket.on('close', () => {
      this.fail(new AmqpError(this.closing ? 'connection closed' : 'connection closed by the broker'));
      this.wakeDrainWaiters();
    });
  }

  /** Connects, performs the handshake and opens the virtual host. */
  static async open(uri: string | AmqpUri, options: ConnectOptions = {}): Promise<Connection> {
    const target = typeof uri === 'string' ? parseUri(uri) : uri;
    const socket = connect({ host: target.host, port: target.port });
    const conn = new Connection(socket);
    const timeoutMs = options.timeoutMs ?? HANDSHAKE_TIMEOUT_MS;
    const timer = setTimeout(
      () => conn.fail(new AmqpError(`handshake with ${target.host}:${target.port} timed out after ${timeoutMs} ms`)),
      timeoutMs,
    );
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('error', reject);
      });
      await conn.handshake(target, options.name ?? 'warren-perf');
      return conn;
    } catch (error) {
      conn.destroy();
      throw error instanceof AmqpError
        ? error
        : new AmqpError(`cannot connect to ${target.host}:${target.port}: ${(error as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }

  private async handshake(target: AmqpUri, name: string): Promise<void> {
    const c0 = this.channel0;
    const started = c0.next(CONNECTION_START);
    this.socket.write(PROTOCOL_HEADER);
    const start = (await started) as Extract<Method, { id: typeof CONNECTION_START }>;
    this.serverProperties = tableToPlain(start.args.serverProperties);
    const mechanisms = start.args.mechanisms.toString('utf8').split(' ');
    if (!mechanisms.includes('PLAIN'))
      throw new AmqpError(`the broker offers no PLAIN login (${mechanisms.join(', ')})`);
    const tuned = c0.next(CONNECTION_TUNE);
    c0.send(
      CONNECTION_START_OK,
      startOkArgs({
        user: target.user,
        password: target.password,
        clientProperties: {
          product: 'warren-perf',
          platform: `Node.js ${process.version}`,
          connection_name: name,
          capabilities: {
            publisher_confirms: true,
            'basic.nack': true,
            consumer_cancel_notify: true,
            'connection.blocked': true,
            authentication_failure_close: true,
          },
        },
      }),
    );
    this.flush();
    const tune = (await tuned) as Extract<Method, { id: typeof CONNECTION_TUNE }>;
    this.frameMax = tune.args.frameMax === 0 ? CLIENT_FRAME_MAX : Math.min(tune.args.frameMax, CLIENT_FRAME_MAX);
    this.channelMax = tune.args.channelMax === 0 ? 2047 : Math.min(tune.args.channelMax, 2047);
    this.parser.maxFrameSize = this.frameMax;
    c0.send(CONNECTION_TUNE_OK, { channelMax: this.channelMax, frameMax: this.frameMax, heartbeat: 0 });
    await c0.rpc(CONNECTION_OPEN, { virtualHost: target.vhost, reserved1: '', reserved2: false }, CONNECTION_OPEN_OK);
  }

  async openChannel(handlers: ChannelHandlers = {}): Promise<Channel> {
    if (this.closed) throw this.closed;
    if (this.nextChannel > this.channelMax) throw new AmqpError(`no channel left (channel-max ${this.channelMax})`);
    const channel = new Channel(this, this.nextChannel++, handlers);
    this.channels.set(channel.id, channel);
    await channel.rpc(CHANNEL_OPEN, { reserved1: '' }, CHANNEL_OPEN_OK);
    return channel;
  }

  /** Writes the pending batch; false when the socket's buffer is over its high-water mark (see drained()). */
  flush(): boolean {
    if (this.writer.length === 0) return !this.socket.writableNeedDrain;
    if (this.closed) {
      this.writer.take();
      return true;
    }
    return this.socket.write(this.writer.take());
  }

  /** Writes a buffer of ready-made frames (after any pending batch). */
  write(frames: Buffer): boolean {
    this.flush();
    if (this.closed) return true;
    return this.socket.write(frames);
  }

  /** Resolves once the socket's write buffer has drained (at once if it needs no draining or is closed). */
  drained(): Promise<void> {
    if (!this.socket.writableNeedDrain || this.closed) return Promise.resolve();
    return new Promise<void>((resolve) => this.drainWaiters.push(resolve));
  }

  /** Bytes accepted by socket.write but not yet handed to the kernel. */
  get writeBacklog(): number {
    return this.socket.writableLength;
  }

  private wakeDrainWaiters(): void {
    for (const wake of this.drainWaiters.splice(0)) wake();
  }

  /** connection.close, waiting up to 2 s for close-ok; then the socket is closed either way. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closing = true;
    const closeOk = this.channel0.rpc(
      CONNECTION_CLOSE,
      { replyCode: 200, replyText: 'bye', classId: 0, methodId: 0 },
      CONNECTION_CLOSE_OK,
    );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, CLOSE_TIMEOUT_MS);
    });
    await Promise.race([
      closeOk.then(
        () => undefined,
        () => undefined,
      ),
      timeout,
    ]);
    clearTimeout(timer);
    this.socket.end();
    this.fail(new AmqpError('connection closed by the client', 200));
  }

  destroy(): void {
    this.socket.destroy();
  }

  fail(error: AmqpError): void {
    if (this.closed) return;
    this.closed = error;
    this.channel0.fail(error, false);
    for (const channel of this.channels.values()) channel.fail(error, !this.closing);
    if (!this.closing) this.onClose?.(error);
    this.socket.destroy();
  }

  private frame(type: number, channelId: number, payload: Buffer): void {
    if (channelId === 0) {
      if (type === FRAME_METHOD) this.connectionMethod(payload);
      else if (type !== FRAME_HEARTBEAT) this.fail(new AmqpError(`frame of type ${type} on channel 0`));
      return;
    }
    const ch = this.channels.get(channelId);
    if (ch === undefined) {
      this.fail(new AmqpError(`frame for channel ${channelId}, which is not open`));
      return;
    }
    switch (type) {
      case FRAME_METHOD:
        this.channelMethod(ch, payload);
        return;
      case FRAME_HEADER: {
        // class-id, weight, body-size (longlong)
        const size = payload.readUInt32BE(4) * TWO_32 + payload.readUInt32BE(8);
        ch.remaining = size;
        ch.firstBody = null;
        if (size === 0) this.contentDone(ch);
        return;
      }
      case FRAME_BODY:
        if (ch.firstBody === null) ch.firstBody = payload;
        ch.remaining -= payload.length;
        if (ch.remaining <= 0) this.contentDone(ch);
        return;
      default:
        this.fail(new AmqpError(`unexpected frame type ${type} on channel ${channelId}`));
    }
  }

  private contentDone(ch: Channel): void {
    const kind = ch.content;
    const body = ch.firstBody;
    ch.content = Content.None;
    ch.firstBody = null;
    if (kind === Content.Delivery) ch.handlers.onDelivery?.(ch.contentTag, body);
  }

  private channelMethod(ch: Channel, p: Buffer): void {
    const id = p.readUInt32BE(0);
    switch (id) {
      case BASIC_DELIVER: {
        // consumer-tag (shortstr), delivery-tag (longlong), ...
        const o = 5 + p[4];
        ch.content = Content.Delivery;
        ch.contentTag = p.readUInt32BE(o) * TWO_32 + p.readUInt32BE(o + 4);
        return;
      }
      case BASIC_ACK:
      case BASIC_NACK: {
        // delivery-tag (longlong), bits: multiple (bit 0), requeue (bit 1, nack only)
        const tag = p.readUInt32BE(4) * TWO_32 + p.readUInt32BE(8);
        ch.handlers.onConfirm?.(tag, (p[12] & 1) === 1, id === BASIC_NACK);
        return;
      }
      case BASIC_RETURN:
        ch.content = Content.Ignored;
        return;
      default:
        break;
    }
    const method = this.decode(p);
    if (method === null) return;
    if (method.id === CHANNEL_CLOSE) {
      const { replyCode, replyText } = method.args;
      ch.send(CHANNEL_CLOSE_OK, {});
      ch.fail(new AmqpError(`channel ${ch.id} closed by the broker: ${replyCode} ${replyText}`, replyCode));
      return;
    }
    if (method.id === BASIC_CANCEL) {
      ch.handlers.onCancel?.(method.args.consumerTag);
      return;
    }
    ch.reply(method);
  }

  /** The method in a frame's payload; null (and the connection failed) when it does not decode. */
  private decode(p: Buffer): Method | null {
    try {
      return decodeMethod(p);
    } catch (error) {
      this.fail(new AmqpError(`undecodable method from the broker: ${(error as Error).message}`));
      return null;
    }
  }

  private connectionMethod(p: Buffer): void {
    const method = this.decode(p);
    if (method === null) return;
    switch (method.id) {
      case CONNECTION_CLOSE: {
        const { replyCode, replyText } = method.args;
        this.channel0.send(CONNECTION_CLOSE_OK, {});
        this.flush();
        this.fail(new AmqpError(`connection closed by the broker: ${replyCode} ${replyText}`, replyCode));
        return;
      }
      case CONNECTION_BLOCKED:
      case CONNECTION_UNBLOCKED:
        this.blocked = method.id === CONNECTION_BLOCKED;
        this.onBlocked?.(this.blocked);
        return;
      default:
        this.channel0.reply(method);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// frames for publishing

export interface PublishTemplate {
  /** basic.publish + content header + body frames of one message, ready to be written. */
  frames: Buffer;
  /** How many times `frames` fits in a batch of about `batchBytes`. */
  perBatch: number;
}

/**
 * The frames of one message, encoded once with a FrameWriter: a batch of n identical messages is then the
 * template repeated n times (Buffer.fill), which costs a memcpy per message and nothing else.
 */
export function publishTemplate(
  channel: number,
  exchange: string,
  routingKey: string,
  body: Buffer,
  persistent: boolean,
  frameMax: number,
  batchBytes = 128 * 1024,
): PublishTemplate {
  const w = new FrameWriter(256 + body.length);
  writePublish(w, channel, exchange, routingKey, body, persistent, frameMax);
  const frames = Buffer.from(w.take());
  return { frames, perBatch: Math.max(1, Math.floor(batchBytes / frames.length)) };
}

/** basic.publish, its content header and body frames, into a FrameWriter. */
export function writePublish(
  w: FrameWriter,
  channel: number,
  exchange: string,
  routingKey: string,
  body: Buffer,
  persistent: boolean,
  frameMax: number,
): void {
  w.method(channel, BASIC_PUBLISH, { exchange, routingKey, mandatory: false, immediate: false });
  w.header(channel, 60, body.length, persistent ? PERSISTENT : TRANSIENT);
  w.body(channel, body, frameMax);
}

const PERSISTENT = { deliveryMode: 2 } as const;
const TRANSIENT = {} as const;
