import { SharedSource, type SourceState } from './shared-source';

/**
 * A live-stream source whose owner pushes its state instead of the source polling for it: every subscriber hears
 * each push at once, and a new subscriber hears the latest state as it subscribes. It answers from the start,
 * so a browser knows the source exists before anything happened. It is a SharedSource so that the live stream
 * holds pushed and polled sources alike; its data is typed unknown like every source of the Sources record.
 */
export class PushedSource extends SharedSource<unknown> {
  private readonly pushListeners = new Set<(state: SourceState<unknown>) => void>();
  private latest: SourceState<unknown>;

  constructor(name: string, initial: unknown) {
    // never polled: subscribe() below answers from what was pushed
    super({
      name,
      intervalMs: 60_000,
      fetch: () => Promise.reject(new Error(`the ${name} source is pushed, not polled`)),
    });
    this.latest = { status: 'ok', data: initial, updatedAt: new Date().toISOString() };
  }

  override get state(): SourceState<unknown> {
    return this.latest;
  }

  override get subscribers(): number {
    return this.pushListeners.size;
  }

  override subscribe(listener: (state: SourceState<unknown>) => void): () => void {
    this.pushListeners.add(listener);
    listener(this.latest);
    return () => void this.pushListeners.delete(listener);
  }

  override stop(): void {
    // nothing to stop: no poll runs
  }

  /** Makes `data` the state and sends it to every subscriber. */
  protected push(data: unknown): void {
    this.latest = { status: 'ok', data, updatedAt: new Date().toISOString() };
    for (const listener of this.pushListeners) listener(this.latest);
  }
}
