import type { TopologyNames } from '@warren/service-kit';
import type { ScenarioId, WatchedView } from '../../contracts/scenarios';
import type { ConsoleConfig } from '../config';
import type { Controls } from '../controls';
import type { PlatformClient } from './platform-client';

/** What a scenario needs beyond the services' public APIs; without it the scenario says why and does not run. */
export type Requirement = 'process-control' | 'admin-token';

/**
 * One guided scenario: a short script against the live system through its public interfaces, narrated step by
 * step. `run` resolves with the verdict (what was proven, with numbers) or throws ScenarioFailure.
 */
export interface Scenario {
  id: ScenarioId;
  title: string;
  /** What it shows, in a sentence (the list's description). */
  shows: string;
  /** It fails (and puts things back) rather than run longer than this. */
  budgetMs: number;
  requires?: Requirement[];
  run(ctx: ScenarioContext): Promise<string>;
}

/** What a running scenario is given. */
export interface ScenarioContext {
  config: ConsoleConfig;
  /** Exchange and queue names, namespaced as the services' (WARREN_NAMESPACE). */
  names: TopologyNames;
  /** Short and unique per run: it marks what the run creates (email addresses, URLs, queue names). */
  runId: string;
  /** Aborted when the run is over its budget: every wait below gives up with it. */
  signal: AbortSignal;
  platform: PlatformClient;
  /** The "Break it" operations (gateway, SMTP, connections, the demo's processes), shared with the controls API. */
  controls: Controls;
  /** One line of narration, streamed at once; `watch` highlights the view that shows it. */
  say(text: string, watch?: WatchedView): void;
  /** Polls `check` until it gives a value; fails naming `what` after `timeoutMs` or when the run is aborted. */
  waitFor<T>(
    what: string,
    check: () => T | undefined | Promise<T | undefined>,
    timeoutMs?: number,
    everyMs?: number,
  ): Promise<T>;
  /** Waits, unless the run is aborted first. */
  sleep(ms: number): Promise<void>;
  /** Something to undo when the run ends, however it ends (last registered runs first). */
  finally(what: string, undo: () => Promise<unknown>): void;
}
