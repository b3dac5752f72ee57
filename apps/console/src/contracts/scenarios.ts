import { z } from 'zod';

/*
 * The guided scenarios API (GET /api/scenarios, GET /api/scenarios/current, POST /api/scenarios/:id/run) and
 * the run the live stream carries as its `scenario` event. zod only, so the browser bundle can import it.
 */

/** One scenario per pattern of the README's pattern table. */
export const SCENARIO_IDS = [
  'saga',
  'competing-consumers',
  'pub-sub',
  'routing',
  'rpc',
  'retry',
  'poison-message',
  'consumer-killed',
  'broker-restart',
  'rate-limit',
  'clickstream',
] as const;
export const ScenarioId = z.enum(SCENARIO_IDS);
export type ScenarioId = z.infer<typeof ScenarioId>;

/** The console's views a step can ask the reader to watch (the web app's tab ids). */
export const WatchedView = z.enum(['topology', 'orders', 'emails', 'analytics', 'ledger', 'dead-letters']);
export type WatchedView = z.infer<typeof WatchedView>;

/** `:id` in POST /api/scenarios/:id/run: any string reaches the server; one that names no scenario is a 404. */
export const ScenarioParams = z.strictObject({ id: z.string().min(1).max(100) });

/** One line of narration: when it was said, what, and which view shows it. */
export const ScenarioStep = z.object({ at: z.string(), text: z.string(), watch: WatchedView.optional() });
export type ScenarioStep = z.infer<typeof ScenarioStep>;

export const ScenarioState = z.enum(['running', 'passed', 'failed']);
export type ScenarioState = z.infer<typeof ScenarioState>;

/** A run, as it goes: its narration grows while `state` is running; `result` is the verdict at the end. */
export const ScenarioRun = z.object({
  id: ScenarioId,
  title: z.string(),
  state: ScenarioState,
  startedAt: z.string(),
  endedAt: z.string().optional(),
  steps: z.array(ScenarioStep),
  /** What was proven, with numbers (passed), or what went wrong (failed). */
  result: z.string().optional(),
});
export type ScenarioRun = z.infer<typeof ScenarioRun>;

/** One entry of GET /api/scenarios. */
export const ScenarioInfo = z.object({
  id: ScenarioId,
  title: z.string(),
  /** What it shows, in a sentence. */
  shows: z.string(),
  /** How long it may take at most, in seconds. */
  budgetSeconds: z.number(),
  available: z.boolean(),
  /** Why it cannot run here, when it cannot. */
  reason: z.string().optional(),
});
export type ScenarioInfo = z.infer<typeof ScenarioInfo>;

/** GET /api/scenarios: every scenario. */
export const ScenarioList = z.array(ScenarioInfo);
export type ScenarioList = z.infer<typeof ScenarioList>;

/** The live stream's `scenario` event: the run in progress or the last one (null before the first). */
export const CurrentScenario = ScenarioRun.nullable();
export type CurrentScenario = z.infer<typeof CurrentScenario>;

/** GET /api/scenarios/current: the same, wrapped (a bare null is no JSON body to Nest). */
export const CurrentScenarioReply = z.object({ run: CurrentScenario });
export type CurrentScenarioReply = z.infer<typeof CurrentScenarioReply>;
