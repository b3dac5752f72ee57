// Waiting for things, and showing that something does not happen.

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** A timer for Promise.race that does not keep the process alive. */
export const raceTimer = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/** Poll until pred() is truthy. Throws on timeout. */
export async function waitUntil(
  pred: () => boolean | Promise<boolean>,
  timeoutMs = 3000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await pred()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

/** A short bounded wait used only to show that something does NOT happen, after a sync point. */
export const QUIET_MS = 150;
export const quiet = (ms = QUIET_MS) => sleep(ms);
