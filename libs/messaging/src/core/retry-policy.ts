import { exponentialDelay } from './backoff';

/**
 * How a failing message is retried. Attempt n (n ≥ 1) that fails waits delay(n) in the delay queue
 * `<queue>.retry.<n>` before attempt n + 1; after `maxAttempts` attempts it is parked in `<queue>.dlq`.
 *
 * Each delay queue has one fixed TTL (x-message-ttl) and dead-letters back to the work queue through the
 * default exchange. One TTL per queue means expiry is always at the head, so no message waits behind a
 * longer one; it also means no per-message jitter: spread comes from the attempts themselves. When the broker
 * has the x-delayed-message exchange (delayed-delivery.ts), retries go through it instead, each with the
 * level's delay and its own `jitter`; the delay queues are still declared (and drained). Changing a
 * policy changes those queue arguments, which a broker refuses to redeclare (406): delete the old delay
 * queues (they only hold messages waiting to retry) when you change it.
 */
export interface RetryPolicy {
  /** Total attempts, the first delivery included. 1 disables retries. */
  maxAttempts: number;
  initialDelayMs: number;
  multiplier: number;
  maxDelayMs: number;
  /**
   * Per-message spread of each retry's delay, through the broker's delayed exchange only (TTL delay queues
   * have one delay each): a fraction f (0 ≤ f ≤ 1) for a delay drawn uniformly from delay × [1 − f, 1 + f],
   * or 'full' for one from [0, delay]. 0 for none. Default 0.2.
   */
  jitter?: number | 'full';
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 5,
  initialDelayMs: 1000,
  multiplier: 2,
  maxDelayMs: 5 * 60_000,
  jitter: 0.2,
};

export function retryDelayMs(policy: RetryPolicy, failedAttempt: number): number {
  return Math.round(exponentialDelay(failedAttempt, policy.initialDelayMs, policy.maxDelayMs, policy.multiplier));
}

/** The delay before attempt `failedAttempt` + 1 with the policy's jitter applied (`random` in [0, 1)). */
export function jitteredRetryDelayMs(
  policy: RetryPolicy,
  failedAttempt: number,
  random: () => number = Math.random,
): number {
  const base = retryDelayMs(policy, failedAttempt);
  const jitter = policy.jitter ?? 0;
  const ms = jitter === 'full' ? random() * base : base * (1 - jitter + 2 * jitter * random());
  return Math.min(MAX_RETRY_DELAY_MS, Math.max(0, Math.round(ms)));
}

const MAX_RETRY_DELAY_MS = 4294967295;

export function validateRetryPolicy(p: RetryPolicy): RetryPolicy {
  const jitter = p.jitter ?? 0;
  const ok =
    Number.isInteger(p.maxAttempts) &&
    p.maxAttempts >= 1 &&
    p.initialDelayMs >= 1 &&
    p.multiplier >= 1 &&
    p.maxDelayMs >= p.initialDelayMs &&
    p.maxDelayMs <= MAX_RETRY_DELAY_MS &&
    (jitter === 'full' || (typeof jitter === 'number' && jitter >= 0 && jitter <= 1));
  if (!ok)
    throw new RangeError(
      `invalid retry policy ${JSON.stringify(p)}: need maxAttempts ≥ 1, initialDelayMs ≥ 1, multiplier ≥ 1, initialDelayMs ≤ maxDelayMs ≤ ${MAX_RETRY_DELAY_MS}, jitter 'full' or 0 … 1`,
    );
  return p;
}

export const retryQueueName = (queue: string, level: number): string => `${queue}.retry.${level}`;
export const deadLetterQueueName = (queue: string): string => `${queue}.dlq`;
