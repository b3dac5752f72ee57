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
    client.write(P.PROTOCOL_HEADER);
    await client.waitForMethod(P.CONNECTION_START);
    client.method(0, P.CONNECTION_START_OK, {
      clientProperties: tableFromPlain({ capabilities: { authentication_failure_close: true, consumer_cancel_notify: true } }),
      mechanism: 'PLAIN',
      response: Buffer.from('\u0000guest\u0000guest'),
      locale: 'en_US',
    });
    await client.waitForMethod(P.CONNECTION_TUNE);
    client.method(0, P.CONNECTION_TUNE_OK, { channelMax: 0, frameMax: 131072, heartbeat: 0 });
    client.method(0, P.CONNECTION_OPEN, { virtualHost: '/' });
    await client.waitForMethod(P.CONNECTION_OPEN_OK);
    client.method(1, P.CHANNEL_OPEN, {});
    await client.waitForMethod(P.CHANNEL_OPEN_OK);
    return client;
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
