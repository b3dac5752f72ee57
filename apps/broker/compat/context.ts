// The per-scenario context: unique names, the connections a scenario opens, and the clean-up after it.

import type { Channel, ConfirmChannel } from 'amqplib';
import { randomBytes } from 'node:crypto';
import { RawClient } from '../test/support/raw-client';
import { connect, parseUrl, type Conn, type ConnectOpts } from './amqplib-connection';
import type { Target } from './scenario';

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

  /** A channel on a connection of its own (a second client, next to the one from open()). */
  async channel(opts: ConnectOpts = {}): Promise<Channel> {
    return (await this.connect(opts)).channel();
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
    const r = await RawClient.connect(p.port, p.host);
    this.raws.push(r);
    return r;
  }

  get credentials(): { user: string; pass: string; vhost: string } {
    const p = parseUrl(this.url);
    return { user: p.user, pass: p.pass, vhost: p.vhost };
  }

  /** Close every connection and delete everything named with ctx.name()/track(). */
  async cleanup(): Promise<void> {
    for (const r of this.raws) r.close();
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
