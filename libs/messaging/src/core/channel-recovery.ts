import type { ChannelModel } from 'amqplib';
import { delay, fullJitterDelay } from './backoff';
import type { AmqpConnection } from './connection';
import type { ChannelEvent, MessagingEventMap } from './events';
import type { MessagingLogger } from './options';

/** What a channel is for: the confirm channel publishes go through, a consumer's (one per work queue), the RPC client's. */
export type ChannelRole = 'publisher' | 'consumer' | 'rpc';

type Emit = <K extends keyof MessagingEventMap>(event: K, ...args: MessagingEventMap[K]) => void;

export interface ChannelRecoveryDeps {
  connection: AmqpConnection;
  /** The connection's backoff: the same first delay and cap, the same full jitter. */
  backoff: { initialDelayMs: number; maxDelayMs: number };
  logger: MessagingLogger;
  emit: Emit;
  /**
   * Declares the messaging-wide topology again (exchanges, Topology's queues and bindings) before each attempt:
   * the channel may have closed because something of it was deleted (a 404 on the events exchange).
   */
  redeclare?: (model: ChannelModel) => Promise<void>;
}

/**
 * Reopens one channel that closed while its connection stayed up: the broker closed it (404 publishing to a
 * missing exchange, 406 redeclaring a queue with other arguments, 403) or its consumer was cancelled (the queue was
 * deleted). Each attempt declares the topology again (`redeclare`), then runs `open`, the owner's connect hook: it
 * opens a channel, declares what it needs and subscribes again.
 * Attempts wait a full-jitter backoff (backoff.ts) and go on for as long as the connection is up; a lost connection
 * ends them, since the connection's hooks rebuild every channel on the next one.
 *
 * Each loss is logged and reported ('channel-closed'), each failed attempt too ('channel-recovery-failed', logged
 * on the first and every tenth), and the channel coming back ('channel-recovered'); metrics.ts counts all three.
 */
export class ChannelRecovery {
  /** The connection a reopening loop runs for: a loss on a newer connection starts its own (the old loop ends). */
  private recovering?: ChannelModel;
  private stopped = false;
  private readonly abort = new AbortController();

  constructor(
    private readonly role: ChannelRole,
    private readonly name: string,
    private readonly deps: ChannelRecoveryDeps,
    private readonly open: (model: ChannelModel) => Promise<void>,
  ) {}

  /**
   * The owner's live channel on `model` closed; `error` is the broker's reason when it closed it (amqplib emits
   * it before 'close'), `reason` the owner's words otherwise. A channel also closes with its connection: that one
   * is not ours to recover, and the check waits a turn for the connection's own 'close' to be seen.
   */
  channelClosed(model: ChannelModel, error?: Error & { code?: number }, reason?: string): void {
    if (this.stopped || this.recovering === model) return;
    this.recovering = model;
    const done = () => {
      if (this.recovering === model) this.recovering = undefined;
    };
    setImmediate(() => {
      if (this.stopped || this.deps.connection.model !== model) return done();
      const event: ChannelEvent = {
        role: this.role,
        name: this.name,
        reason: error?.message ?? reason ?? 'closed',
        ...(error?.code !== undefined ? { code: error.code } : {}),
      };
      this.deps.logger.warn(`${this.describe()} closed (${event.reason}); reopening it`);
      this.deps.emit('channel-closed', event);
      void this.reopen(model).finally(done);
    });
  }

  private async reopen(model: ChannelModel): Promise<void> {
    const { initialDelayMs, maxDelayMs } = this.deps.backoff;
    const since = Date.now();
    for (let attempt = 1; ; attempt++) {
      await delay(
        Math.max(Math.floor(initialDelayMs / 4), fullJitterDelay(attempt - 1, initialDelayMs, maxDelayMs)),
        this.abort.signal,
      );
      if (this.stopped || this.deps.connection.model !== model) return;
      try {
        await this.deps.redeclare?.(model);
        await this.open(model);
      } catch (err) {
        if (this.stopped || this.deps.connection.model !== model) return;
        const error = err as Error & { code?: number };
        if (attempt === 1 || attempt % 10 === 0)
          this.deps.logger.warn(
            `reopening ${this.describe()} failed (attempt ${attempt}: ${error.message}); trying again`,
          );
        this.deps.emit('channel-recovery-failed', {
          role: this.role,
          name: this.name,
          reason: error.message,
          ...(error.code !== undefined ? { code: error.code } : {}),
          attempt,
        });
        continue;
      }
      const downtimeMs = Date.now() - since;
      this.deps.logger.log(
        `${this.describe()} reopened after ${attempt} attempt${attempt === 1 ? '' : 's'} (${downtimeMs} ms)`,
      );
      this.deps.emit('channel-recovered', { role: this.role, name: this.name, attempts: attempt, downtimeMs });
      return;
    }
  }

  /** No more recovery: the owner is stopping. */
  stop(): void {
    this.stopped = true;
    this.abort.abort();
  }

  private describe(): string {
    return this.role === 'consumer'
      ? `the consumer channel of '${this.name}'`
      : `the ${this.role === 'rpc' ? 'RPC' : 'publisher'} channel`;
  }
}

/** Waiters for a channel to be (re)opened, bounded by a timeout. */
export class ChannelWaiters<T> {
  private waiters = new Set<(value: T) => void>();

  /** Resolves with the next channel `ready` hands out, or with undefined after `ms`. */
  next(ms: number): Promise<T | undefined> {
    return new Promise((resolve) => {
      const done = (value: T | undefined) => {
        clearTimeout(timer);
        this.waiters.delete(done as (value: T) => void);
        resolve(value);
      };
      const timer = setTimeout(() => done(undefined), Math.max(0, ms));
      this.waiters.add(done as (value: T) => void);
    });
  }

  ready(value: T): void {
    for (const w of [...this.waiters]) w(value);
  }
}
