// The publishing half of the transactional outbox.
//
// Ordering. Rows are published in id order per aggregate: a round reads the due rows in id order, groups
// them by aggregate, publishes each group one message at a time (the next publish starts only after the
// broker confirmed the previous one, so a reconnection cannot reorder them) and the groups concurrently.
// When a row fails, the rest of its group waits: the row gets attempts + 1 and a next_attempt_at with
// exponential backoff and jitter, and the query that reads due rows skips every later row of an
// aggregate whose earlier row is still backing off. Rows without an aggregate are independent. The
// order is the id order, i.e. insertion order: two transactions writing the same aggregate concurrently
// should serialise on the aggregate (as a business write usually does), or their ids may not match
// their commit order.
//
// Lease. Only one relay publishes at a time among the processes sharing a database: the one holding the
// row `messaging_outbox_lease(name)`, taken with a conditional UPDATE (`... WHERE owner = me OR
// expires_at <= now`), which works the same on SQLite and Postgres, renewed every leaseMs / 3 and
// released on stop(). A relay trusts its lease for two thirds of leaseMs after the last renewal, so a
// stalled relay stops starting publishes before another can take over. Expiry uses the relays' clocks:
// keep leaseMs far above the clock skew between hosts. A lease can still lapse in the middle of a publish
// (a long GC pause, a frozen VM): the old holder may then publish a row the new holder publishes again.
// Delivery is at-least-once; consumers that use an inbox (TypeOrmInbox, RedisInbox) make it
// exactly-once in effect.
//
// Crashes. Rows are marked published (or deleted) only after the broker confirmed them. A relay killed at
// any point leaves its unconfirmed and its confirmed-but-unmarked rows pending; the next lease holder
// (a standby, or the restarted process once the lease expired) publishes them again. Nothing is
// stranded; some messages may arrive twice, and a duplicate of an earlier message may follow a later
// one, but the first arrivals keep the order.
//
// Broker outages. While the connection is down the relay does not try: it waits for Messaging's
// 'connected' event (or its own backoff timer); publishes caught by the outage fail after
// publishTimeoutMs, are counted on their rows and backed off. On reconnection the relay publishes at
// once, ignoring the rows' backoff. A relay that stays without a broker connection for longer than
// leaseMs hands the lease over, so an instance that can reach the broker publishes instead.
//
// SQLite. TypeORM runs everything on one connection there, so a statement issued while the application
// has a transaction open would join it (and could read rows that are then rolled back). The relay waits
// for the connection to be outside any transaction before each of its statements, and queues behind
// runInTransaction(); write outbox rows through runInTransaction() on SQLite.
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { metrics, type BatchObservableCallback, type Meter, type ObservableGauge } from '@opentelemetry/api';
import type { DataSource, EntitySubscriberInterface, TransactionCommitEvent, TransactionRollbackEvent } from 'typeorm';
import type { Messaging } from '../core/messaging';
import { equalJitterDelay } from '../core/backoff';
import { contextFromHeaders, INSTRUMENTATION_NAME, outboxRowLink } from '../core/telemetry';
import { BrokerUnavailableError } from '../errors/broker-unavailable.error';
import { takeOutboxWriteMark } from './outbox';
import type { OutboxRecord } from './outbox-record.entity';
import { resolveRelayOptions, type OutboxRelayOptions, type ResolvedOutboxRelayOptions } from './outbox-relay-options';
import { OutboxStore } from './outbox-store';

export interface OutboxRelayEventMap {
  /** The broker confirmed the row's message. */
  published: [{ id: number; messageId: string; aggregateId: string | null }];
  /** A publish failed; the row (and the rest of its aggregate) waits until `nextAttemptAt`. */
  failed: [
    {
      id: number;
      messageId: string;
      aggregateId: string | null;
      attempts: number;
      nextAttemptAt: number;
      error: Error;
    },
  ];
  'lease-acquired': [];
  'lease-lost': [];
  /** A round failed as a whole (the database is away, ...); the relay backs off and tries again. */
  'round-failed': [Error];
}

type Outcome = 'idle' | 'progress' | 'stuck' | 'away' | 'not-leader';

/**
 * Publishes the outbox: `start()` it beside the Messaging instance, `notify()` it after a commit that wrote
 * rows (it also listens for such commits on the DataSource), `stop()` it before closing Messaging.
 *
 *   const relay = new OutboxRelay(dataSource, messaging, { pollIntervalMs: 500 });
 *   await messaging.start();
 *   relay.start();
 *   ...
 *   await relay.stop();    // publishes what is pending (bounded by shutdownTimeoutMs), releases the lease
 *   await messaging.close();
 */
export class OutboxRelay {
  readonly events = new EventEmitter<OutboxRelayEventMap>();
  /** This relay's identity in the lease table. */
  readonly owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  readonly options: ResolvedOutboxRelayOptions;
  private readonly store: OutboxStore;
  private running = false;
  private loop?: Promise<void>;
  private wake?: (reason: 'notify' | 'connected' | 'stop') => void;
  private notified = false;
  private ignoreBackoffOnce = false;
  private failures = 0;
  private leaseUntil = 0;
  private lastRenewal = 0;
  private heartbeat?: NodeJS.Timeout;
  private lastCleanup = 0;
  private lastBatchFull = false;
  private rounds: Promise<unknown> = Promise.resolve();
  private readonly subscriber: EntitySubscriberInterface = {
    afterTransactionCommit: ({ queryRunner }: TransactionCommitEvent) => {
      if (!queryRunner.isTransactionActive && takeOutboxWriteMark(queryRunner)) this.notify();
    },
    afterTransactionRollback: ({ queryRunner }: TransactionRollbackEvent) => {
      if (!queryRunner.isTransactionActive) takeOutboxWriteMark(queryRunner);
    },
  };
  /** Since when the broker connection is down (undefined: connected). */
  private disconnectedAt?: number = Date.now();
  private readonly onConnected = () => {
    this.disconnectedAt = undefined;
    this.ignoreBackoffOnce = true;
    this.wake?.('connected');
  };
  private readonly onDisconnected = () => {
    this.disconnectedAt ??= Date.now();
  };
  private readonly meter: Meter;
  private readonly backlogGauge: ObservableGauge;
  private readonly oldestAgeGauge: ObservableGauge;
  /** Reports the backlog when the MeterProvider collects (only while the relay runs: start() adds it, stop() removes it). */
  private readonly observeBacklog: BatchObservableCallback = async (result) => {
    try {
      const { count, oldestCreatedAt } = await this.store.backlog();
      result.observe(this.backlogGauge, count);
      result.observe(
        this.oldestAgeGauge,
        oldestCreatedAt === null ? 0 : Math.max(0, Date.now() - oldestCreatedAt) / 1000,
      );
    } catch (err) {
      // no value this time (the database is away): a gap in the series says so better than a made-up number
      this.options.logger.warn(`could not measure the outbox backlog: ${(err as Error).message}`);
    }
  };

  constructor(
    private readonly dataSource: DataSource,
    private readonly messaging: Messaging,
    options: OutboxRelayOptions = {},
  ) {
    this.options = resolveRelayOptions(options, messaging.options.logger);
    this.store = new OutboxStore(dataSource);
    // taken here, not at load time: a meter taken before the service registers its MeterProvider stays a no-op
    this.meter = metrics.getMeter(INSTRUMENTATION_NAME);
    this.backlogGauge = this.meter.createObservableGauge('warren.outbox.backlog', {
      unit: '{message}',
      description: 'Outbox rows not yet published',
    });
    this.oldestAgeGauge = this.meter.createObservableGauge('warren.outbox.oldest_age', {
      unit: 's',
      description: 'How long the oldest unpublished outbox row has waited (0 when none)',
    });
  }

  /** Whether this relay holds the lease (and so is the one publishing). */
  get isLeader(): boolean {
    return Date.now() < this.leaseUntil;
  }

  /** Starts polling; returns at once. The DataSource must be initialised and migrated. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.dataSource.subscribers.push(this.subscriber);
    this.messaging.events.on('connected', this.onConnected);
    this.messaging.events.on('disconnected', this.onDisconnected);
    this.disconnectedAt = this.messaging.isConnected ? undefined : Date.now();
    const every = Math.max(10, Math.floor(this.options.leaseMs / 3));
    this.heartbeat = setInterval(() => void this.renew(), every);
    this.heartbeat.unref();
    this.meter.addBatchObservableCallback(this.observeBacklog, [this.backlogGauge, this.oldestAgeGauge]);
    this.loop = this.run();
  }

  /** Look for rows now (call after committing a transaction that wrote some); cheap and idempotent. */
  notify(): void {
    this.notified = true;
    this.wake?.('notify');
  }

  /**
   * Publishes everything pending now, backoff or not, for at most `timeoutMs`. Resolves true when the
   * outbox is empty, false when rows remain (the broker is away, a row keeps failing, or another relay
   * holds the lease and will publish them).
   */
  async flush(timeoutMs = this.options.shutdownTimeoutMs): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const outcome = await beforeDeadline(this.exclusiveRound(true), deadline);
      if (outcome === 'idle') return true;
      if (outcome === undefined || outcome === 'not-leader' || outcome === 'stuck') return false;
      if (outcome === 'away' && !(await this.waitForConnection(deadline))) return false;
    }
  }

  /**
   * Graceful shutdown: stops polling, flushes (bounded by `timeoutMs`), releases the lease so a standby
   * takes over at once. Call it before closing the Messaging instance.
   */
  async stop(timeoutMs = this.options.shutdownTimeoutMs): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    if (this.running) {
      this.running = false;
      this.meter.removeBatchObservableCallback(this.observeBacklog, [this.backlogGauge, this.oldestAgeGauge]);
      this.wake?.('stop');
      clearInterval(this.heartbeat);
      this.messaging.events.off('connected', this.onConnected);
      this.messaging.events.off('disconnected', this.onDisconnected);
      const i = this.dataSource.subscribers.indexOf(this.subscriber);
      if (i >= 0) this.dataSource.subscribers.splice(i, 1);
      await beforeDeadline(this.loop ?? Promise.resolve(), deadline);
      if (this.isLeader && this.messaging.isConnected) {
        const drained = await this.flush(Math.max(0, deadline - Date.now())).catch(
          (err: Error) => (this.options.logger.warn(`outbox flush on shutdown failed: ${err.message}`), false),
        );
        if (!drained)
          this.options.logger.warn(
            'outbox relay stopped with rows still pending; the next relay to hold the lease publishes them',
          );
      }
    }
    if (this.leaseUntil > 0) {
      this.leaseUntil = 0;
      await this.store
        .releaseLease(this.options.leaseName, this.owner)
        .catch((err: Error) =>
          this.options.logger.warn(
            `could not release the outbox lease: ${err.message}; it expires in ${this.options.leaseMs} ms`,
          ),
        );
    }
  }

  /** Rows not yet published. */
  pending(): Promise<number> {
    return this.store.countPending();
  }

  private async run(): Promise<void> {
    let roundStartedAt = -Infinity;
    while (this.running) {
      // rounds start at least minRoundIntervalMs apart: the commits that come meanwhile join the next one (a full
      // batch goes on at once); after a quiet spell there is nothing to wait for
      const wait = roundStartedAt + this.options.minRoundIntervalMs - performance.now();
      if (wait > 0 && !this.lastBatchFull) await this.sleep(wait, ['stop']);
      if (!this.running) return;
      let outcome: Outcome | 'error';
      roundStartedAt = performance.now();
      try {
        outcome = await this.exclusiveRound(false);
      } catch (err) {
        outcome = 'error';
        this.options.logger.error(`outbox relay round failed: ${(err as Error).message}`);
        this.events.emit('round-failed', err as Error);
      }
      if (!this.running) return;
      const { pollIntervalMs, backoff } = this.options;
      if (outcome === 'away' || outcome === 'error') {
        this.failures++;
        if (outcome === 'away' && this.ignoreBackoffOnce && this.messaging.isConnected) continue; // reconnected meanwhile
        // backing off: a commit does not wake us, a reconnection does
        await this.sleep(
          equalJitterDelay(this.failures, Math.max(pollIntervalMs, backoff.initialDelayMs), backoff.maxDelayMs),
          ['connected', 'stop'],
        );
        continue;
      }
      this.failures = 0;
      if (outcome === 'not-leader') {
        await this.sleep(pollIntervalMs, ['stop']);
        continue;
      }
      if (this.notified || (outcome === 'progress' && this.lastBatchFull)) {
        this.notified = false;
        continue;
      }
      await this.sleep(pollIntervalMs, ['notify', 'connected', 'stop']);
    }
  }

  /** Rounds never overlap: the loop and flush() take turns. */
  private exclusiveRound(ignoreBackoff: boolean): Promise<Outcome> {
    const round = this.rounds.then(() => this.round(ignoreBackoff));
    this.rounds = round.catch(() => undefined);
    return round;
  }

  private async round(ignoreBackoff: boolean): Promise<Outcome> {
    // without a broker there is nothing to do, and no reason to take the lease from a relay that has one
    if (!this.messaging.isConnected) return 'away';
    if (!(await this.ensureLease())) return 'not-leader';
    this.notified = false;
    const now = Date.now();
    await this.cleanupIfDue(now);
    ignoreBackoff ||= this.ignoreBackoffOnce;
    this.ignoreBackoffOnce = false;
    const rows = await this.store.fetchDue(now, this.options.batchSize, ignoreBackoff);
    this.lastBatchFull = rows.length === this.options.batchSize;
    if (rows.length === 0) return 'idle';

    const groups = new Map<string, OutboxRecord[]>();
    for (const row of rows) {
      const key = row.aggregateId === null ? `#${row.id}` : `a:${row.aggregateId}`;
      const group = groups.get(key);
      if (group) group.push(row);
      else groups.set(key, [row]);
    }
    const published: number[] = [];
    let brokerAway = false;
    await Promise.all(
      [...groups.values()].map(async (group) => {
        for (const row of group) {
          // stop starting publishes once the lease is in doubt or the broker went away mid-round
          if (!this.isLeader || brokerAway) return;
          try {
            // the send span is a child of the span that wrote the row (the trace shows how long it waited) and links
            // it; the message then carries the send span's context, so its consumers hang under the publish. Without
            // an SDK the message keeps the row's traceparent: its consumers still continue the writer's trace
            const outgoing = toOutgoing(row);
            const rowContext = contextFromHeaders(outgoing.headers);
            const link = outboxRowLink(rowContext);
            await this.messaging.publish(outgoing, {
              parent: rowContext,
              links: link ? [link] : undefined,
              reparent: true,
            });
          } catch (err) {
            const error = err instanceof Error ? err : new Error(String(err));
            if (error instanceof BrokerUnavailableError) brokerAway = true;
            await this.recordFailure(row, error);
            return; // the rest of this aggregate waits for this row
          }
          published.push(row.id);
          this.events.emit('published', { id: row.id, messageId: row.messageId, aggregateId: row.aggregateId });
        }
      }),
    );
    // Confirmed messages are marked only now: a crash before this line publishes them again (at-least-once).
    await this.store.markPublished(published, Date.now(), this.options.retentionMs > 0);
    if (brokerAway) return 'away';
    return published.length > 0 ? 'progress' : 'stuck';
  }

  private async recordFailure(row: OutboxRecord, error: Error): Promise<void> {
    const attempts = row.attempts + 1;
    const { initialDelayMs, maxDelayMs } = this.options.backoff;
    const nextAttemptAt = Date.now() + equalJitterDelay(attempts, initialDelayMs, maxDelayMs);
    this.options.logger.warn(
      `outbox message ${row.messageId} ('${row.type}' to '${row.exchange}') failed on attempt ${attempts}: ${error.message}; next attempt in ${nextAttemptAt - Date.now()} ms`,
    );
    try {
      await this.store.markFailed(row.id, attempts, truncate(error.message, 2000), nextAttemptAt);
    } catch (err) {
      this.options.logger.error(`could not record the failure of outbox row ${row.id}: ${(err as Error).message}`);
    }
    this.events.emit('failed', {
      id: row.id,
      messageId: row.messageId,
      aggregateId: row.aggregateId,
      attempts,
      nextAttemptAt,
      error,
    });
  }

  private async ensureLease(): Promise<boolean> {
    if (this.isLeader && Date.now() - this.lastRenewal < this.options.leaseMs / 3) return true;
    const now = Date.now();
    const wasLeader = this.isLeader;
    const won = await this.store.acquireLease(this.options.leaseName, this.owner, now, now + this.options.leaseMs);
    this.onLease(won, now, wasLeader);
    return won;
  }

  /** Heartbeat: keeps the lease while a long round (a slow broker) runs; hands it over after a long outage. */
  private async renew(): Promise<void> {
    if (!this.running || this.leaseUntil === 0) return;
    const now = Date.now();
    if (this.disconnectedAt !== undefined && now - this.disconnectedAt > this.options.leaseMs) {
      this.onLease(false, now, true);
      this.options.logger.warn(
        `outbox relay ${this.owner}: no broker connection for ${now - this.disconnectedAt} ms; handing the lease over`,
      );
      await this.store.releaseLease(this.options.leaseName, this.owner).catch(() => undefined);
      return;
    }
    try {
      const kept = await this.store.renewLease(this.options.leaseName, this.owner, now + this.options.leaseMs);
      this.onLease(kept, now, true);
    } catch (err) {
      this.options.logger.warn(`could not renew the outbox lease: ${(err as Error).message}`);
    }
  }

  private onLease(held: boolean, at: number, wasLeader: boolean): void {
    if (held) {
      this.leaseUntil = at + Math.floor((this.options.leaseMs * 2) / 3);
      this.lastRenewal = at;
      if (!wasLeader) {
        this.options.logger.log(`outbox relay ${this.owner} took the lease '${this.options.leaseName}'`);
        this.events.emit('lease-acquired');
      }
    } else if (this.leaseUntil > 0) {
      this.leaseUntil = 0;
      this.options.logger.warn(`outbox relay ${this.owner} lost the lease '${this.options.leaseName}'`);
      this.events.emit('lease-lost');
    }
  }

  private async cleanupIfDue(now: number): Promise<void> {
    const { retentionMs, cleanupIntervalMs } = this.options;
    if (retentionMs === 0 || now - this.lastCleanup < cleanupIntervalMs) return;
    this.lastCleanup = now;
    const deleted = await this.store.deletePublished(now - retentionMs);
    if (deleted > 0) this.options.logger.log(`outbox: deleted ${deleted} published rows older than ${retentionMs} ms`);
  }

  private waitForConnection(deadline: number): Promise<boolean> {
    if (this.messaging.isConnected) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (connected: boolean) => {
        clearTimeout(timer);
        this.messaging.events.off('connected', onConnected);
        resolve(connected);
      };
      const onConnected = () => done(true);
      const timer = setTimeout(() => done(false), Math.max(0, deadline - Date.now()));
      this.messaging.events.on('connected', onConnected);
    });
  }

  /** Waits `ms`, or less when one of `wakeOn` happens. */
  private sleep(ms: number, wakeOn: Array<'notify' | 'connected' | 'stop'>): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref();
      this.wake = (reason) => {
        if (wakeOn.includes(reason)) done();
      };
      function done() {
        clearTimeout(timer);
        resolve();
      }
    });
  }
}

/** The stored message as published: every id as stamped when the row was written, the body as stored. */
function toOutgoing(row: OutboxRecord) {
  return {
    exchange: row.exchange,
    routingKey: row.routingKey,
    type: row.type,
    payload: Buffer.from(row.payload, 'utf8'),
    contentType: 'application/json',
    messageId: row.messageId,
    correlationId: row.correlationId,
    causationId: row.causationId ?? undefined,
    timestamp: row.createdAt,
    headers: JSON.parse(row.headers) as Record<string, unknown>,
  };
}

/** `promise`'s value, or undefined if `deadline` comes first (the promise keeps running). */
function beforeDeadline<T>(promise: Promise<T>, deadline: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>(
    (r) => (timer = setTimeout(() => r(undefined), Math.max(0, deadline - Date.now()))),
  );
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const truncate = (s: string, max: number): string => (s.length > max ? `${s.slice(0, max - 1)}…` : s);
