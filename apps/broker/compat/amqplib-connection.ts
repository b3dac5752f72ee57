// amqplib connections for the scenarios, recording what the server closed them with.

import * as amqp from 'amqplib';
import type { Channel, ChannelModel, ConfirmChannel, Options, SocketOptions } from 'amqplib';
import * as path from 'node:path';
import { errorOutcome, type ErrorOutcome } from './outcomes';
import { raceTimer, sleep } from './timing';

// amqplib's generated protocol definitions; used to send methods the public API
// doesn't expose (channel.flow, basic.recover requeue=false, qos prefetch_size, ...).
// The package `exports` map hides lib/, so resolve by absolute path.
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const defs: any = require(path.join(path.dirname(require.resolve('amqplib')), 'lib', 'defs.js'));

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

/** Send any method on an amqplib channel (fire and forget). */
export function sendMethod(ch: Channel, method: string, fields: Record<string, unknown>): void {
  (ch as any).sendImmediately(defs[method], fields);
}

/** Perform any synchronous method on an amqplib channel; resolves with the reply fields. */
export function rpc(ch: Channel, method: string, fields: Record<string, unknown>, reply: string): Promise<any> {
  return (ch as any).rpc(defs[method], fields, defs[reply]);
}
