import { ConflictException, NotFoundException } from '@nestjs/common';
import type { TopologyNames } from '@warren/service-kit';
import { randomBytes } from 'node:crypto';
import type { CurrentScenario, ScenarioInfo, ScenarioRun, WatchedView } from '../../contracts/scenarios';
import type { ConsoleConfig } from '../config';
import type { Controls } from '../controls';
import { PlatformClient } from './platform-client';
import type { Requirement, Scenario, ScenarioContext } from './scenario';
import { ScenarioFailure } from './scenario-failure.error';
import type { ScenarioSource } from './scenario-source';

/** How long the undo steps of a run may take in all, after the run itself ended or was stopped. */
const CLEANUP_MS = 30_000;
/** How long a stopped run gets to notice the abort before its undo steps run anyway. */
const STOP_GRACE_MS = 5_000;

const WHY: Record<Requirement, (config: ConsoleConfig) => string | undefined> = {
  'process-control': (c) =>
    !c.controlUrl
      ? "Available only in the local demo (npm run demo): it starts, kills or restarts processes through the demo's control API."
      : !c.adminToken
        ? "Needs the demo's admin token (ADMIN_TOKEN) for its control API."
        : undefined,
  'admin-token': (c) =>
    c.adminToken
      ? undefined
      : "Needs the services' admin token (ADMIN_TOKEN): it changes the payment gateway's settings for a while.",
};

/** "12.3 s", "300 ms" */
const duration = (ms: number) => (ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`);

/**
 * Runs one scenario at a time and narrates it on the live stream (ScenarioSource). A run has a time budget:
 * past it, its waits are aborted, it is marked failed with a line saying what it was still waiting for, and
 * its undo steps (ctx.finally) run all the same; the next run can start only once they are done.
 */
export class ScenarioRunner {
  private current: ScenarioRun | null = null;
  private busy?: Promise<void>;
  private abortCurrent?: AbortController;

  constructor(
    private readonly scenarios: Scenario[],
    private readonly config: ConsoleConfig,
    private readonly names: TopologyNames,
    private readonly source: ScenarioSource,
    private readonly controls: Controls,
  ) {}

  list(): ScenarioInfo[] {
    return this.scenarios.map((s) => {
      const reason = this.unavailable(s);
      return {
        id: s.id,
        title: s.title,
        shows: s.shows,
        budgetSeconds: Math.round(s.budgetMs / 1000),
        available: !reason,
        ...(reason ? { reason } : {}),
      };
    });
  }

  get run(): CurrentScenario {
    return this.current ? structuredClone(this.current) : null;
  }

  get running(): boolean {
    return this.busy !== undefined;
  }

  /** Starts a run and returns it as it begins; 404 for an unknown id, 409 while another runs or when it cannot run here. */
  start(id: string): ScenarioRun {
    const scenario = this.scenarios.find((s) => s.id === id);
    if (!scenario) throw new NotFoundException(`no scenario '${id}'; GET /api/scenarios lists them`);
    if (this.busy)
      throw new ConflictException(
        `'${this.current?.title ?? 'another scenario'}' is running; one scenario runs at a time`,
      );
    const reason = this.unavailable(scenario);
    if (reason) throw new ConflictException(`'${scenario.title}' cannot run here. ${reason}`);
    const run: ScenarioRun = {
      id: scenario.id,
      title: scenario.title,
      state: 'running',
      startedAt: new Date().toISOString(),
      steps: [],
    };
    this.current = run;
    this.busy = this.execute(scenario, run).finally(() => (this.busy = undefined));
    return structuredClone(run);
  }

  /** Resolves when the current run (and its undo steps) is over; for tests and shutdown. */
  async idle(): Promise<void> {
    await this.busy;
  }

  /** Stops the current run (it fails, saying so) and waits for its undo steps. */
  async stop(): Promise<void> {
    this.abortCurrent?.abort(new ScenarioFailure('Stopped: the console is shutting down.'));
    await this.busy;
  }

  private unavailable(s: Scenario): string | undefined {
    for (const r of s.requires ?? []) {
      const why = WHY[r](this.config);
      if (why) return why;
    }
    return undefined;
  }

  private async execute(scenario: Scenario, run: ScenarioRun): Promise<void> {
    const abort = new AbortController();
    this.abortCurrent = abort;
    const undo: Array<{ what: string; fn: () => Promise<unknown> }> = [];
    let waitingFor: string | undefined;
    const say = (text: string, watch?: WatchedView) => {
      run.steps.push({ at: new Date().toISOString(), text, ...(watch ? { watch } : {}) });
      this.source.publish(run);
    };
    const sleep = (ms: number) =>
      new Promise<void>((resolve, reject) => {
        if (abort.signal.aborted) return reject(abort.signal.reason);
        const timer = setTimeout(() => {
          abort.signal.removeEventListener('abort', onAbort);
          resolve();
        }, ms);
        const onAbort = () => {
          clearTimeout(timer);
          reject(abort.signal.reason);
        };
        abort.signal.addEventListener('abort', onAbort, { once: true });
      });
    const ctx: ScenarioContext = {
      config: this.config,
      names: this.names,
      runId: randomBytes(3).toString('hex'),
      signal: abort.signal,
      platform: new PlatformClient(this.config, abort.signal),
      controls: this.controls,
      say,
      sleep,
      finally: (what, fn) => void undo.push({ what, fn }),
      waitFor: async (what, check, timeoutMs = 30_000, everyMs = 250) => {
        waitingFor = what;
        const deadline = Date.now() + timeoutMs;
        let last: unknown;
        for (;;) {
          if (abort.signal.aborted) throw abort.signal.reason;
          try {
            const value = await check();
            if (value !== undefined) {
              waitingFor = undefined;
              return value;
            }
          } catch (err) {
            if (abort.signal.aborted) throw abort.signal.reason;
            last = err;
          }
          if (Date.now() > deadline)
            throw new ScenarioFailure(
              `Gave up after ${duration(timeoutMs)} waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}.`,
            );
          await sleep(everyMs);
        }
      },
    };

    const overBudget = new ScenarioFailure('over budget');
    const budget = setTimeout(() => abort.abort(overBudget), scenario.budgetMs);
    budget.unref(); // a run holds nothing open: the console may stop meanwhile (onModuleDestroy stops the run)
    const work = scenario.run(ctx);
    work.catch(() => undefined); // a run left behind below may still reject: that is no longer news
    // a run that does not notice the abort (a call without the signal) is left behind after a grace period
    const stopped = new Promise<'stopped'>((resolve) =>
      abort.signal.addEventListener('abort', () => setTimeout(() => resolve('stopped'), STOP_GRACE_MS).unref(), {
        once: true,
      }),
    );
    let verdict: { state: 'passed' | 'failed'; result: string };
    try {
      const result = await Promise.race([work, stopped]);
      verdict =
        result === 'stopped'
          ? this.stoppedBy(abort.signal.reason, overBudget, scenario, waitingFor)
          : { state: 'passed', result };
    } catch (err) {
      verdict = abort.signal.aborted
        ? this.stoppedBy(abort.signal.reason, overBudget, scenario, waitingFor)
        : {
            state: 'failed',
            result: err instanceof ScenarioFailure ? err.message : `Failed: ${(err as Error)?.message ?? String(err)}`,
          };
    } finally {
      clearTimeout(budget);
    }
    if (verdict.state === 'failed') say(verdict.result);
    if (!abort.signal.aborted) abort.abort(new ScenarioFailure('the run is over'));

    // put things back, newest first, each with its own bound, all within CLEANUP_MS
    const cleanupDeadline = Date.now() + CLEANUP_MS;
    for (const { what, fn } of undo.reverse()) {
      const left = cleanupDeadline - Date.now();
      try {
        await Promise.race([
          fn(),
          new Promise((_, reject) =>
            setTimeout(
              () => reject(new Error(`no answer in ${duration(Math.max(left, 0))}`)),
              Math.max(left, 0),
            ).unref(),
          ),
        ]);
        say(`Put back: ${what}.`);
      } catch (err) {
        say(`Could not put back ${what}: ${(err as Error).message}`);
      }
    }
    run.state = verdict.state;
    run.result = verdict.result;
    run.endedAt = new Date().toISOString();
    this.source.publish(run);
  }

  /** The verdict of a run that was aborted: over its budget, or stopped with a reason. */
  private stoppedBy(
    reason: unknown,
    overBudget: unknown,
    scenario: Scenario,
    waitingFor: string | undefined,
  ): { state: 'failed'; result: string } {
    if (reason !== overBudget) return { state: 'failed', result: (reason as Error)?.message ?? String(reason) };
    return {
      state: 'failed',
      result: `Stopped: '${scenario.title}' did not finish within its ${duration(scenario.budgetMs)}${waitingFor ? `; it was still waiting for ${waitingFor}` : ''}.`,
    };
  }
}
