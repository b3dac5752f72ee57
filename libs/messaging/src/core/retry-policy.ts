/**
 * How a failing message is retried. Attempt n (n ≥ 1) that fails waits delay(n) in the delay queue
 * `<queue>.retry.<n>` before attempt n + 1; after `maxAttempts` attempts it is parked in `<queue>.dlq`.
 *
 * Each delay queue has one fixed TTL (x-message-ttl) and dead-letters back to the work queue through the
 * default exchange. One TTL per queue means expiry is always at the head, so no message waits behind a
 * longer one; it also means no per-message jitter: spread comes from the attempts themselves. Changing a
 * policy changes those queue arguments, which a broker refuses to redeclare (406): delete the old delay
 * queues (they only hold messages waiting to retry) when you change it.
 */
export interface RetryPolicy {
  /** Total attempts, the first delivery included. 1 disables retries. */
  maxAttempts: number;
  initialDelayMs: number;
  multiplier: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 5, initialDelayMs: 1000, multiplier: 2, maxDelayMs: 5 * 60_000 };

export function retryDelayMs(policy: RetryPolicy, failedAttempt: number): number {
  return Math.round(Math.min(policy.initialDelayMs * policy.multiplier ** (failedAttempt - 1), policy.maxDelayMs));
}

export function validateRetryPolicy(p: RetryPolicy): RetryPolicy {
  const ok = Number.isInteger(p.maxAttempts) && p.maxAttempts >= 1 && p.initialDelayMs >= 1 && p.multiplier >= 1 && p.maxDelayMs >= p.initialDelayMs;
  if (!ok) throw new RangeError(`invalid retry policy ${JSON.stringify(p)}: need maxAttempts ≥ 1, initialDelayMs ≥ 1, multiplier ≥ 1, maxDelayMs ≥ initialDelayMs`);
  return p;
}

export const retryQueueName = (queue: string, level: number): string => `${queue}.retry.${level}`;
export const deadLetterQueueName = (queue: string): string => `${queue}.dlq`;
