/**
 * Waits for `work` to settle, but no longer than `ms`: for the steps of a shutdown, where a broker that stopped
 * answering must not keep the process alive. Never rejects; says whether the work settled in time.
 */
export async function settleWithin(work: Promise<unknown> | undefined, ms: number): Promise<boolean> {
  if (!work) return true;
  let timer: NodeJS.Timeout | undefined;
  const settled = work.then(
    () => true,
    () => true,
  );
  const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, ms))));
  try {
    return await Promise.race([settled, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** How long one shutdown round trip to the broker (basic.cancel, channel.close, connection.close) may take. */
export const GOODBYE_MS = 2000;
