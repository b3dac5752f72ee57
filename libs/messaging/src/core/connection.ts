import { GOODBYE_MS, settleWithin } from './settle';
import { EventEmitter } from 'node:events';
import { connect, type ChannelModel } from 'amqplib';
import { BrokerUnavailableError } from '../errors';
import { delay, fullJitterDelay } from './backoff';
import { parseBrokerUrls, redactUrl, redactUrls } from './broker-urls';
import type { MessagingLogger } from './options';

/** Work to redo on every (re)connection: open channels, declare topology, resubscribe. Runs in order. */
export type ConnectHook = (model: ChannelModel) => Promise<void>;

export interface ConnectionOptions {
  /** One broker URL, or several separated by commas (see AmqpConnection for the order they are tried in). */
  url: string;
  /** The client property connection_name: what the broker's management views call this connection. */
  connectionName: string;
  heartbeatSeconds: number;
  reconnect: { initialDelayMs: number; maxDelayMs: number };
  logger: MessagingLogger;
}

/** How long one attempt may take, TCP connect and AMQP handshake together, before the next URL is tried. */
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * One AMQP connection that comes back by itself, to one broker of a list.
 *
 * We own the reconnect loop rather than amqplib's `recovery` option, which reconnects to the one URL it was given:
 * the attempts walk the list in order, starting with the first URL; after a failed attempt the next one takes the
 * next URL (wrapping around), and after a lost connection the first attempt goes to the URL after the one that was
 * in use, so a broker that just went away is tried last. Before every attempt but the very first we wait a full-jitter
 * backoff (backoff.ts; at least a quarter of the first delay, so a failing broker is never hammered), growing with
 * the attempts since the last connection and reset once one is up: a fleet of services does not come back in lock
 * step. Channels do not survive a connection, so every user of the connection registers a hook that rebuilds its
 * part after each connect.
 *
 * Events: 'connected', 'disconnected' (err), 'blocked' (reason), 'unblocked', 'setup-failed' (err). Log lines
 * name the broker by its URL with the password masked.
 */
export class AmqpConnection extends EventEmitter {
  readonly urls: readonly string[];
  /** The newest connection made, ready or still being set up: what close() drops if the broker is silent. */
  private lastModel?: ChannelModel;
  private current?: ChannelModel;
  private currentUrl?: string;
  private readonly hooks: ConnectHook[] = [];
  private waiters: Array<{ resolve: (model: ChannelModel) => void; reject: (err: Error) => void }> = [];
  private closed = false;
  private readonly stop = new AbortController();
  /** The first connection's setup: rejects if a hook fails (a topology conflict is a configuration error). */
  private firstSetup?: Promise<void>;
  blocked = false;

  constructor(private readonly options: ConnectionOptions) {
    super();
    this.urls = parseBrokerUrls(options.url);
  }

  get model(): ChannelModel | undefined {
    return this.current;
  }

  get isConnected(): boolean {
    return this.current !== undefined;
  }

  /** The broker URL of the connection in use, or being set up (hooks see the one they run for). */
  get url(): string {
    return this.currentUrl ?? this.urls[0];
  }

  /** Registers work to run now (if connected) and after every reconnection. */
  async addHook(hook: ConnectHook): Promise<void> {
    this.hooks.push(hook);
    if (this.current) await hook(this.current);
  }

  removeHook(hook: ConnectHook): void {
    const i = this.hooks.indexOf(hook);
    if (i >= 0) this.hooks.splice(i, 1);
  }

  /** Starts connecting; resolves after the first connection and its hooks, or never gives up trying. */
  start(): Promise<void> {
    if (this.firstSetup) return this.firstSetup;
    this.firstSetup = new Promise<void>((resolve, reject) => {
      void this.run({ resolve, reject });
    });
    return this.firstSetup;
  }

  /** Connects, sets up, waits for the connection to end, and again, until close(). */
  private async run(first: { resolve: () => void; reject: (err: Error) => void }): Promise<void> {
    let settled = false;
    let attempt = 0; // attempts since the last connection was up
    let next = 0; // index of the URL the next attempt uses
    const { initialDelayMs, maxDelayMs } = this.options.reconnect;
    while (!this.closed) {
      if (attempt > 0) {
        const wait = Math.max(Math.floor(initialDelayMs / 4), fullJitterDelay(attempt, initialDelayMs, maxDelayMs));
        await delay(wait, this.stop.signal);
        if (this.closed) break;
      }
      const index = next;
      const url = this.urls[index];
      next = (index + 1) % this.urls.length;
      attempt++;
      let model: ChannelModel;
      try {
        model = await connect(withHeartbeat(url, this.options.heartbeatSeconds), {
          clientProperties: { connection_name: this.options.connectionName },
          noDelay: true,
          timeout: CONNECT_TIMEOUT_MS,
        });
      } catch (err) {
        if (attempt === 1 || attempt % 10 === 0 || this.urls.length > 1) {
          this.options.logger.warn(
            `broker ${redactUrl(url)} unreachable (${redactUrls((err as Error).message)}); attempt ${attempt}${this.urls.length > 1 ? `, next: ${redactUrl(this.urls[next])}` : ''}`,
          );
        }
        continue;
      }
      this.lastModel = model;
      if (this.closed) {
        await settleWithin(model.close(), GOODBYE_MS);
        break;
      }
      let gone: Error | undefined;
      const ended = new Promise<Error>((resolve) => {
        model.on('error', () => undefined); // 'close' follows with the reason; this keeps errors off the process
        model.once('close', (err?: Error) => {
          if (this.current === model) this.current = undefined;
          gone = err ?? new Error('connection closed');
          resolve(gone);
        });
      });
      model.on('blocked', (reason: string) => {
        this.blocked = true;
        this.options.logger.warn(`the broker blocked publishing: ${reason}`);
        this.emit('blocked', reason);
      });
      model.on('unblocked', () => {
        this.blocked = false;
        this.emit('unblocked');
      });
      this.currentUrl = url;
      try {
        await this.runHooks(model);
        if (gone) throw gone;
      } catch (err) {
        if (gone) {
          // the connection went away during setup: an outage, not a refusal; the next attempt sets up again
          this.options.logger.warn(`connection to ${redactUrl(url)} lost during setup (${redactUrls(gone.message)})`);
          continue;
        }
        // Any other failure (a declaration the broker refuses) closes the connection, so the loop keeps retrying
        // with backoff while 'setup-failed' and the health indicator say why; the first start() rejects with it (a
        // topology conflict is a configuration error).
        this.options.logger.error(
          `setting up after connecting to ${redactUrl(url)} failed: ${redactUrls((err as Error).message)}`,
        );
        await settleWithin(model.close(), GOODBYE_MS);
        this.emit('setup-failed', err);
        if (!settled) {
          settled = true;
          first.reject(err as Error);
        }
        next = index; // the broker is there: the same one again, after the backoff
        continue;
      }
      if (this.closed) break;
      this.current = model;
      attempt = 0;
      this.blocked = false;
      this.options.logger.log(`connected to the broker at ${redactUrl(url)}`);
      for (const w of this.waiters.splice(0)) w.resolve(model);
      this.emit('connected');
      if (!settled) {
        settled = true;
        first.resolve();
      }
      const err = await ended;
      this.current = undefined;
      if (this.closed) break;
      this.options.logger.warn(
        `connection to the broker at ${redactUrl(url)} lost (${redactUrls(err.message)}); reconnecting${this.urls.length > 1 ? `, first to ${redactUrl(this.urls[next])}` : ''}`,
      );
      this.emit('disconnected', err);
      attempt = 1; // wait a backoff before the first attempt: every client of a restarting broker comes back at once otherwise
    }
  }

  /**
   * Runs every hook on a new connection, in order, and then the hooks added while those ran (a consume() during
   * start-up or a reconnection): addHook runs a hook at once only on a connection that is already set up, so one
   * added meanwhile would otherwise wait for the next reconnection, which may never come.
   */
  private async runHooks(model: ChannelModel): Promise<void> {
    const ran = new Set<ConnectHook>();
    for (;;) {
      const pending = this.hooks.filter((h) => !ran.has(h));
      if (pending.length === 0) return;
      for (const hook of pending) {
        ran.add(hook);
        await hook(model);
      }
    }
  }

  /** The live connection, waiting for a reconnection up to `timeoutMs`. */
  waitForConnection(timeoutMs: number): Promise<ChannelModel> {
    if (this.current) return Promise.resolve(this.current);
    if (this.closed) return Promise.reject(new BrokerUnavailableError('the messaging connection is closed'));
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: (model: ChannelModel) => {
          clearTimeout(timer);
          resolve(model);
        },
        reject: (err: Error) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new BrokerUnavailableError(`no connection to the broker within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Closes the connection; waits at most `goodbyeMs` for the broker's close-ok, then drops the socket. */
  async close(goodbyeMs = GOODBYE_MS): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stop.abort();
    const model = this.lastModel;
    this.current = undefined;
    for (const w of this.waiters.splice(0)) w.reject(new BrokerUnavailableError('the messaging connection was closed'));
    // a broker that stopped answering never sends close-ok: then the socket is dropped instead
    if (!(await settleWithin(model?.close(), goodbyeMs))) {
      const connection = model?.connection as unknown as
        { stream?: { destroy(): void }; heartbeater?: { clear(): void } } | undefined;
      connection?.stream?.destroy();
      // amqplib stops its heartbeat timers on the socket's 'end' or 'error', which destroy() does not emit: left
      // running, they would keep the process alive for up to two heartbeat intervals after close() returned
      connection?.heartbeater?.clear();
      this.options.logger.warn(
        `the broker did not answer the connection close within ${goodbyeMs} ms; dropped the connection`,
      );
    }
    // an attempt still connecting closes what it gets when it gets it (the loop sees `closed`)
  }
}

/** amqplib takes the heartbeat from the URL; a value already there wins. */
function withHeartbeat(url: string, seconds: number): string {
  if (/[?&]heartbeat=/.test(url)) return url;
  return `${url}${url.includes('?') ? '&' : '?'}heartbeat=${seconds}`;
}
