/**
 * The library's one backoff curve: `initialDelayMs × multiplier^(attempt − 1)` up to `maxDelayMs` (attempt 1 waits
 * `initialDelayMs`; an attempt below 1 counts as 1). Its users differ only in the spread they add: a retry through
 * the delay queues none (one TTL per queue), through the broker's delayed exchange the policy's jitter
 * (retry-policy.ts), the outbox relay equal jitter, reconnection and channel recovery full jitter.
 */
export function exponentialDelay(attempt: number, initialDelayMs: number, maxDelayMs: number, multiplier = 2): number {
  const grown = initialDelayMs * multiplier ** Math.max(attempt - 1, 0);
  // a first delay of 0 after very many attempts is 0 × Infinity: no wait, rather than NaN
  return Math.min(maxDelayMs, Number.isNaN(grown) ? 0 : grown);
}

/**
 * Full jitter, for many clients that lost the same broker at once: a random delay in [0, min(cap, base × 2^attempt)),
 * so they come back spread over the whole interval.
 */
export function fullJitterDelay(attempt: number, baseMs: number, capMs: number): number {
  return Math.floor(Math.random() * exponentialDelay(attempt + 1, baseMs, capMs));
}

/** Equal jitter: half the delay fixed, half random, so that it always grows. */
export function equalJitterDelay(attempt: number, initialDelayMs: number, maxDelayMs: number): number {
  const ceiling = exponentialDelay(attempt, initialDelayMs, maxDelayMs);
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

/**
 * A wait that `signal` can cut short. Its timer keeps the process alive, as a socket would: a connection waiting to
 * try the broker again is work in progress until it is closed (a service started while the broker is down has
 * nothing else holding its process open yet, and would otherwise exit 0 before the broker is back).
 */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}
