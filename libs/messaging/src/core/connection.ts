import { GOODBYE_MS, settleWithin } from './settle';
import { EventEmitter } from 'node:events';
import { connect, type ChannelModel, type RecoveringChannelModel } from 'amqplib';
import { BrokerUnavailableError } from '../errors';
import { fullJitterDelay } from './backoff';
import type { MessagingLogger } from './options';

/** Work to redo on every (re)connection: open channels, declare topology, resubscribe. Runs in order. */
export type ConnectHook = (model: ChannelModel) => Promise<void>;

export interface ConnectionOptions {
  url: string;
  /** The client property connection_name: what the broker's management views call this connection. */
  connectionName: string;
  heartbeatSeconds: number;
  reconnect: { initialDelayMs: number; maxDelayMs: number };
  logger: MessagingLogger;
}

/**
 * One AMQP connection that comes back by itself. amqplib's recovery reconnects with exponential backoff
 * (we give it full jitter, so a fleet of services does not reconnect in lock step); channels do not survive
 * a connection, so every user of the connection registers a hook that rebuilds its part after each connect.
 *
 * Events: 'connected', 'disconnected' (err), 'blocked' (reason), 'unblocked', 'setup-failed' (err).
 */
export class AmqpConnection extends EventEmitter {
  private recovering?: RecoveringChannelModel;
  /** The newest connection amqplib made, ready or still being set up: what close() drops if the broker is silent. */
  private lastModel?: ChannelModel;
  private current?: ChannelModel;
  private readonly hooks: ConnectHook[] = [];
  private waiters: Array<{ resolve: (model: ChannelModel) => void; reject: (err: Error) => void }> = [];
  private closed = false;
  /** The first connection's setup: rejects if a hook fails (a topology conflict is a configuration error). */
  private firstSetup?: Promise<void>;
  blocked = false;

  constructor(private readonly options: ConnectionOptions) {
    super();
  }

  get model(): ChannelModel | undefined {
    return this.current;
  }

  get isConnected(): boolean {
    return this.current !== undefined;
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
    const { initialDelayMs, maxDelayMs } = this.options.reconnect;
    this.firstSetup = new Promise<void>((resolve, reject) => {
      let first = true;
      connect(withHeartbeat(this.options.url, this.options.heartbeatSeconds), {
        clientProperties: { connection_name: this.options.connectionName },
        noDelay: true,
        recovery: {
          waitForConnect: false,
          calculateDelay: (attempt: number) => Math.max(initialDelayMs / 4, fullJitterDelay(attempt, initialDelayMs, maxDelayMs)),
        },
      })
        .then((recovering) => {
          this.recovering = recovering;
          recovering.on('connect', (model: ChannelModel) => {
            this.lastModel = model;
            void this.onConnect(model).then(
              () => {
                if (!first) return;
                first = false;
                resolve();
              },
              (err: Error) => {
                this.emit('setup-failed', err);
                if (!first) return;
                first = false;
                reject(err);
              },
            );
          });
          recovering.on('disconnect', (err: Error) => {
            this.current = undefined;
            this.options.logger.warn(`connection to the broker lost (${err.message}); reconnecting`);
            this.emit('disconnected', err);
          });
          recovering.on('reconnect-scheduled', ({ attempt, delay }: { attempt: number; delay: number }) => {
            if (attempt === 1 || attempt % 10 === 0) this.options.logger.warn(`broker unreachable; attempt ${attempt}, next in ${delay} ms`);
          });
          recovering.on('blocked', (reason: string) => {
            this.blocked = true;
            this.options.logger.warn(`the broker blocked publishing: ${reason}`);
            this.emit('blocked', reason);
          });
          recovering.on('unblocked', () => {
            this.blocked = false;
            this.emit('unblocked');
          });
          recovering.on('error', () => undefined); // 'disconnect' follows; this only keeps errors off the process
        })
        .catch(reject);
    });
    return this.firstSetup;
  }

  private async onConnect(model: ChannelModel): Promise<void> {
    // A connection error during setup closes the model and recovery calls us again. Any other failure (a
    // declaration the broker refuses) closes it too, so recovery keeps retrying with backoff while the
    // 'setup-failed' event and the health indicator say why.
    try {
      for (const hook of [...this.hooks]) await hook(model);
    } catch (err) {
      this.options.logger.error(`setting up after connecting failed: ${(err as Error).message}`);
      await model.close().catch(() => undefined);
      throw err;
    }
    if (this.closed) return;
    this.current = model;
    this.blocked = false;
    this.options.logger.log(`connected to the broker`);
    for (const w of this.waiters.splice(0)) w.resolve(model);
    this.emit('connected');
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
    const model = this.lastModel;
    this.current = undefined;
    for (const w of this.waiters.splice(0)) w.reject(new BrokerUnavailableError('the messaging connection was closed'));
    // a broker that stopped answering never sends close-ok: then the socket is dropped instead
    if (!(await settleWithin(this.recovering?.close(), goodbyeMs))) {
      const connection = model?.connection as unknown as { stream?: { destroy(): void }; heartbeater?: { clear(): void } } | undefined;
      connection?.stream?.destroy();
      // amqplib stops its heartbeat timers on the socket's 'end' or 'error', which destroy() does not emit: left
      // running, they would keep the process alive for up to two heartbeat intervals after close() returned
      connection?.heartbeater?.clear();
      this.options.logger.warn(`the broker did not answer the connection close within ${goodbyeMs} ms; dropped the connection`);
    }
  }
}

/** amqplib takes the heartbeat from the URL; a value already there wins. */
function withHeartbeat(url: string, seconds: number): string {
  if (/[?&]heartbeat=/.test(url)) return url;
  return `${url}${url.includes('?') ? '&' : '?'}heartbeat=${seconds}`;
}
