import type { ScenarioRun } from '../../contracts/scenarios';
import { SharedSource, type SourceState } from '../shared-source';

/**
 * The live stream's `scenario` source. Unlike the polled sources it is pushed: the runner publishes every
 * narration line as it is said, and each subscriber hears it at once. It answers from the start (null until a
 * first run), so a browser knows the console runs scenarios. Its data is a CurrentScenario, typed unknown like
 * every source of the Sources record.
 */
export class ScenarioSource extends SharedSource<unknown> {
  private readonly pushListeners = new Set<(state: SourceState<unknown>) => void>();
  private latest: SourceState<unknown> = { status: 'ok', data: null, updatedAt: new Date().toISOString() };

  constructor() {
    // never polled: subscribe() below answers from what was pushed
    super({
      name: 'scenarios',
      intervalMs: 60_000,
      fetch: () => Promise.reject(new Error('the scenario source is pushed, not polled')),
    });
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

  /** Sends the run as it is now to every subscriber (a copy, so later steps do not change what was sent). */
  publish(run: ScenarioRun): void {
    this.latest = { status: 'ok', data: structuredClone(run), updatedAt: new Date().toISOString() };
    for (const listener of this.pushListeners) listener(this.latest);
  }
}
