/**
 * The first error a scenario's clients report (a connection or channel error, a nacked publish), kept from
 * setup onwards; `failed()` is a promise that rejects with it, at once if it already happened, for racing the
 * run's waits against.
 */
export class FailureLatch {
  first: Error | null = null;
  private reject: ((e: Error) => void) | undefined;

  /** Records an error (only the first one counts); rejects `failed()` if a run is waiting on it. */
  readonly fail = (e: Error): void => {
    this.first ??= e;
    this.reject?.(this.first);
  };

  /** Rejects with the first error once there is one. Never an unhandled rejection by itself. */
  failed(): Promise<never> {
    const failed = new Promise<never>((_, reject) => {
      this.reject = reject;
      if (this.first) reject(this.first);
    });
    failed.catch(() => undefined);
    return failed;
  }
}
