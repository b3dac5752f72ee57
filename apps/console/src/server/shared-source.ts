import { sendJson } from './upstream';

/**
 * One upstream poll per source, shared by every subscriber: the console's server asks a service (or the
 * broker's management API) once per interval however many browsers are open, and only while at least one is.
 * A poll never overlaps the previous one. A source that cannot be reached is a state, with the reason and since
 * when, and the last good data kept beside it; subscribers hear of a change only when the state changed.
 */
export type SourceState<T> =
  | { status: 'pending' }
  | { status: 'ok'; data: T; updatedAt: string }
  | { status: 'unreachable'; error: string; since: string; data?: T; updatedAt?: string };

export interface SharedSourceOptions<T> {
  /** For error messages and logs, e.g. `broker management API`. */
  name: string;
  intervalMs: number;
  /** One poll; rejects when the source cannot answer. Gets a signal that aborts after timeoutMs. */
  fetch: (signal: AbortSignal) => Promise<T>;
  /** How long one poll may take (default: the interval). */
  timeoutMs?: number;
}

export class SharedSource<T> {
  private readonly listeners = new Set<(state: SourceState<T>) => void>();
  private current: SourceState<T> = { status: 'pending' };
  private fingerprint = '';
  private timer?: NodeJS.Timeout;
  private polling = false;
  /** Upstream requests made so far (the console's own metrics, and the tests). */
  requests = 0;

  constructor(private readonly options: SharedSourceOptions<T>) {}

  get state(): SourceState<T> {
    return this.current;
  }

  get subscribers(): number {
    return this.listeners.size;
  }

  /** Hears every change (and the current state at once, unless nothing was fetched yet); returns the unsubscribe. */
  subscribe(listener: (state: SourceState<T>) => void): () => void {
    this.listeners.add(listener);
    if (this.current.status !== 'pending') listener(this.current);
    if (this.listeners.size === 1) void this.poll();
    return () => {
      this.listeners.delete(listener);
      if (!this.listeners.size) this.stop();
    };
  }

  /** Stops polling (the next subscriber starts it again). */
  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    this.requests += 1;
    const now = () => new Date().toISOString();
    try {
      const data = await this.options.fetch(AbortSignal.timeout(this.options.timeoutMs ?? this.options.intervalMs));
      this.set({ status: 'ok', data, updatedAt: now() });
    } catch (err) {
      const previous = this.current;
      const lastGood =
        previous.status === 'ok'
          ? previous
          : previous.status === 'unreachable' && previous.data !== undefined
            ? previous
            : undefined;
      this.set({
        status: 'unreachable',
        error: describe(err, this.options.name),
        since: previous.status === 'unreachable' ? previous.since : now(),
        ...(lastGood ? { data: lastGood.data as T, updatedAt: lastGood.updatedAt } : {}),
      });
    } finally {
      this.polling = false;
    }
    if (this.listeners.size) this.timer = setTimeout(() => void this.poll(), this.options.intervalMs);
  }

  private set(next: SourceState<T>): void {
    this.current = next;
    // a change is a change of status, data or error; a newer timestamp on the same data is not news
    const fingerprint = JSON.stringify([
      next.status,
      'data' in next ? next.data : null,
      'error' in next ? next.error : null,
    ]);
    if (fingerprint === this.fingerprint) return;
    this.fingerprint = fingerprint;
    for (const listener of this.listeners) listener(next);
  }
}

/** One line naming the source and why it did not answer. */
function describe(err: unknown, name: string): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `${name}: no answer in time`;
  const cause = e?.cause?.code ?? e?.cause?.message;
  return `${name}: ${e?.message ?? String(err)}${cause && !e.message.includes(cause) ? ` (${cause})` : ''}`;
}

/** GET a JSON document (sendJson's rules); a timeout or abort rejects as such, for the source's state. */
export async function getJson<T = unknown>(
  url: string,
  signal?: AbortSignal,
  extraHeaders: Record<string, string> = {},
): Promise<T> {
  try {
    return await sendJson<T>('GET', url, { signal, headers: extraHeaders });
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    throw err;
  }
}
