import type { MessagingLogger } from '../core/options';

export interface OutboxRelayOptions {
  /** How often to look for rows when nothing notified the relay. Default 1000 ms. */
  pollIntervalMs?: number;
  /** Rows read (and published concurrently across aggregates) per round. Default 100. */
  batchSize?: number;
  /**
   * A round that a commit asks for starts at least this long after the previous round started: under load the
   * commits of those milliseconds share one round (one read, one delete, one disk sync) instead of one round each.
   * A commit after a quiet spell is relayed at once. 0 turns it off. Default 5 ms.
   */
  minRoundIntervalMs?: number;
  /**
   * How long the publishing lease lasts without renewal; renewed every third of it. A relay that dies is
   * replaced after at most this long. Keep it well above clock skew between hosts. Default 30 s.
   */
  leaseMs?: number;
  /** Relays with the same lease name share one outbox and one lease. Default 'default'. */
  leaseName?: string;
  /** Keep published rows this long (for inspection), then delete them. Default 0: delete at once. */
  retentionMs?: number;
  /** How often published rows past the retention are deleted (when retentionMs > 0). Default 60 s. */
  cleanupIntervalMs?: number;
  /** Backoff for a failing row (per row, from its attempts) and for the relay while the broker is away. */
  backoff?: { initialDelayMs?: number; maxDelayMs?: number };
  /** What stop() gives the last flush. Default 5000 ms. */
  shutdownTimeoutMs?: number;
  /** Default: the Messaging instance's logger. */
  logger?: MessagingLogger;
}

export type ResolvedOutboxRelayOptions = Required<Omit<OutboxRelayOptions, 'backoff' | 'logger'>> & {
  backoff: { initialDelayMs: number; maxDelayMs: number };
  logger: MessagingLogger;
};

export function resolveRelayOptions(
  options: OutboxRelayOptions,
  fallbackLogger: MessagingLogger,
): ResolvedOutboxRelayOptions {
  const resolved: ResolvedOutboxRelayOptions = {
    pollIntervalMs: 1_000,
    batchSize: 100,
    minRoundIntervalMs: 5,
    leaseMs: 30_000,
    leaseName: 'default',
    retentionMs: 0,
    cleanupIntervalMs: 60_000,
    shutdownTimeoutMs: 5_000,
    ...stripUndefined(options),
    backoff: { initialDelayMs: 1_000, maxDelayMs: 60_000, ...stripUndefined(options.backoff ?? {}) },
    logger: options.logger ?? fallbackLogger,
  };
  const { pollIntervalMs, batchSize, minRoundIntervalMs, leaseMs, retentionMs, cleanupIntervalMs, backoff } = resolved;
  const ok =
    pollIntervalMs > 0 &&
    Number.isInteger(batchSize) &&
    batchSize >= 1 &&
    minRoundIntervalMs >= 0 &&
    leaseMs >= 100 &&
    retentionMs >= 0 &&
    cleanupIntervalMs > 0 &&
    backoff.initialDelayMs > 0 &&
    backoff.maxDelayMs >= backoff.initialDelayMs;
  if (!ok) {
    throw new RangeError(
      `invalid outbox relay options ${JSON.stringify({ pollIntervalMs, batchSize, minRoundIntervalMs, leaseMs, retentionMs, cleanupIntervalMs, backoff })}: need pollIntervalMs > 0, an integer batchSize ≥ 1, minRoundIntervalMs ≥ 0, leaseMs ≥ 100, retentionMs ≥ 0, cleanupIntervalMs > 0, 0 < backoff.initialDelayMs ≤ backoff.maxDelayMs`,
    );
  }
  return resolved;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
