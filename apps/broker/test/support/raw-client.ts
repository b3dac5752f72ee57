import * as P from '@warren/amqp-protocol';
import { FrameParser, tableFromPlain } from '@warren/amqp-protocol';
import { connect, Socket } from 'node:net';

export interface Frame {
  type: number;
  channel: number;
  payload: Buffer;
  method?: P.Method;
}

/**
 * A bare AMQP peer for tests that must send what no well-behaved client would: it speaks through the
 * protocol library's encoder, records every frame the server sends, and lets a test await a given one.
 */
export class RawClient {
  readonly frames: Frame[] = [];
  sent: Buffer[] = [];
  closed = false;
  private readonly parser = new FrameParser(1024 * 1024);
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk) => {
      try {
        this.parser.push(chunk, (type, channel, payload) => {
          const frame: Frame = { type, channel, payload: Buffer.from(payload) };
          if (type === P.FRAME_METHOD) frame.method = P.decodeMethod(frame.payload);
          this.frames.push(frame);
        });
      } catch {
        socket.destroy();
      }
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static async connect(port: number): Promise<RawClient> {
    const socket = connect({ host: '127.0.0.1', port });
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

  /**
   * The handshake, as `user` into `vhost` (guest into '/' by default), up to connection.open-ok, or only up to
   * connection.tune with `stopAfterTune`. Resolves with the connection.close the server sent instead, if any.
   */
  async login(
    opts: { user?: string; password?: string; vhost?: string; heartbeat?: number; stopAfterTune?: boolean } = {},
  ): Promise<P.ConnectionCloseArgs | undefined> {
    const closed = (f: Frame | undefined) =>
      f?.method?.id === P.CONNECTION_CLOSE ? (f.method.args as P.ConnectionCloseArgs) : undefined;
    this.write(P.PROTOCOL_HEADER);
    await this.waitForMethod(P.CONNECTION_START);
    this.method(0, P.CONNECTION_START_OK, {
      clientProperties: tableFromPlain({
        capabilities: { authentication_failure_close: true, consumer_cancel_notify: true },
      }),
      mechanism: 'PLAIN',
      response: Buffer.from(`\u0000${opts.user ?? 'guest'}\u0000${opts.password ?? 'guest'}`),
      locale: 'en_US',
    });
    const tune = await this.waitFor((f) => f.method?.id === P.CONNECTION_TUNE || f.method?.id === P.CONNECTION_CLOSE);
    if (!tune || closed(tune)) return closed(tune);
    if (opts.stopAfterTune) return undefined;
    this.method(0, P.CONNECTION_TUNE_OK, { channelMax: 0, frameMax: 131072, heartbeat: opts.heartbeat ?? 0 });
    this.method(0, P.CONNECTION_OPEN, { virtualHost: opts.vhost ?? '/' });
    const open = await this.waitFor(
      (f) => f.method?.id === P.CONNECTION_OPEN_OK || f.method?.id === P.CONNECTION_CLOSE,
    );
    if (!open) throw new Error('no connection.open-ok from the server');
    return closed(open);
  }

  /** basic.publish with its content header (properties as raw bytes) and body, as one write. */
  publish(channel: number, exchange: string, routingKey: string, properties: Buffer, body: Buffer): void {
    const writer = new P.FrameWriter();
    writer.method(channel, P.BASIC_PUBLISH, { exchange, routingKey, mandatory: false, immediate: false });
    writer.headerRaw(channel, P.ClassId.basic, body.length, properties);
    writer.body(channel, body, 131072);
    this.write(writer.take());
  }

  write(bytes: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  method(channel: number, methodId: number, args: object): void {
    this.write(P.encodeMethodFrame(channel, methodId, args));
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
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now());
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async waitClosed(timeoutMs = 3000): Promise<boolean> {
    await this.waitFor(() => false, timeoutMs);
    return this.closed;
  }

  close(): void {
    this.socket.destroy();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
