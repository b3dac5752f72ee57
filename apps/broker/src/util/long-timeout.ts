/**
 * Node's timers hold their delay in a signed 32-bit integer: a delay above 2^31 - 1 ms (about 24.8 days) is
 * replaced by 1 ms, with a warning, and the callback fires at once. The broker's timers come from clients
 * (x-expires, x-message-ttl and per-message expiration go up to 2^32 - 1 ms, as in RabbitMQ), so every one of
 * them goes through this: a delay past the limit is waited out in hops of at most MAX_TIMER_DELAY, re-armed
 * against the deadline each time.
 */
export const MAX_TIMER_DELAY = 2 ** 31 - 1;

export class LongTimeout {
  private timer: NodeJS.Timeout | undefined;
  private readonly deadline: number;

  /** Calls `fire` once, `delayMs` from now (any non-negative delay). Unref'd: it never keeps the process up. */
  constructor(
    private readonly fire: () => void,
    delayMs: number,
  ) {
    this.deadline = Date.now() + Math.max(0, delayMs);
    this.arm(Math.max(0, delayMs));
  }

  private arm(left: number): void {
    if (left > MAX_TIMER_DELAY) {
      this.timer = setTimeout(() => this.arm(this.deadline - Date.now()), MAX_TIMER_DELAY);
    } else {
      this.timer = setTimeout(
        () => {
          this.timer = undefined;
          this.fire();
        },
        Math.max(0, left),
      );
    }
    this.timer.unref();
  }

  get pending(): boolean {
    return this.timer !== undefined;
  }

  clear(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
