/** Exponential backoff with full jitter: a random delay in [0, min(cap, base * 2^attempt)]. */
export function fullJitterDelay(attempt: number, baseMs: number, capMs: number): number {
  return Math.floor(Math.random() * Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30)));
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
