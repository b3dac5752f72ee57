import { useEffect, useState } from 'react';
import type { CurrentScenario, ScenarioInfo, ScenarioRun, WatchedView } from '../../../src/contracts/scenarios';
import { api } from '../api';
import type { Live } from '../stream';
import './scenarios-panel.css';

/** The run the live stream carries (null before the first run, undefined before the stream answered). */
function runOf(live: Live): ScenarioRun | null | undefined {
  const state = live.scenario;
  return state?.status === 'ok' ? (state.data as CurrentScenario) : undefined;
}

/** The view a running scenario asks the reader to watch (a tab's id): the latest step that names one. */
export function watchedView(live: Live): WatchedView | undefined {
  const run = runOf(live);
  if (run?.state !== 'running') return undefined;
  return [...run.steps].reverse().find((s) => s.watch)?.watch;
}

const TAB_LABEL: Record<WatchedView, string> = {
  topology: 'Topology',
  orders: 'Orders',
  emails: 'Emails',
  analytics: 'Analytics',
  ledger: 'Payments & stock',
  'dead-letters': 'Dead letters',
};

/** Guided scenarios: one button per pattern, the running one's narration as it grows, and its verdict. */
export function ScenariosPanel({ live }: { live: Live }) {
  const [scenarios, setScenarios] = useState<ScenarioInfo[] | undefined>();
  const [loadError, setLoadError] = useState<string | undefined>();
  const [startError, setStartError] = useState<string | undefined>();
  const [started, setStarted] = useState<ScenarioRun | undefined>();
  const streamed = runOf(live);
  // the stream's copy once it has this run; the POST's answer until then
  const run = streamed && (!started || streamed.startedAt >= started.startedAt) ? streamed : started;
  const running = run?.state === 'running';

  useEffect(() => {
    let cancelled = false;
    api<ScenarioInfo[]>('GET', '/api/scenarios').then(
      (list) => !cancelled && setScenarios(list),
      (err: Error) => !cancelled && setLoadError(err.message),
    );
    return () => {
      cancelled = true;
    };
  }, []);

  const start = async (id: string) => {
    setStartError(undefined);
    try {
      setStarted(await api<ScenarioRun>('POST', `/api/scenarios/${encodeURIComponent(id)}/run`));
    } catch (err) {
      setStartError((err as Error).message);
    }
  };

  if (loadError) return <p className="error">The scenarios could not be listed: {loadError}</p>;
  if (!scenarios) return <p aria-busy="true">Loading the scenarios…</p>;
  return (
    <div className="scenarios">
      <ul className="scenario-list">
        {scenarios.map((s) => (
          <li key={s.id}>
            <button
              type="button"
              className={run?.id === s.id ? '' : 'outline'}
              data-scenario={s.id}
              disabled={!s.available || running}
              title={s.shows}
              aria-describedby={s.reason ? `scenario-why-${s.id}` : undefined}
              onClick={() => void start(s.id)}
            >
              {s.title}
            </button>
            {s.reason ? (
              <small id={`scenario-why-${s.id}`} className="scenario-why" data-scenario-reason={s.id}>
                {s.reason}
              </small>
            ) : null}
          </li>
        ))}
      </ul>
      {startError ? (
        <p role="alert" className="error" data-scenario-error>
          {startError}
        </p>
      ) : null}
      {run ? <RunView run={run} info={scenarios.find((s) => s.id === run.id)} /> : null}
    </div>
  );
}

function RunView({ run, info }: { run: ScenarioRun; info?: ScenarioInfo }) {
  const at = (iso: string) => Math.max(0, (Date.parse(iso) - Date.parse(run.startedAt)) / 1000).toFixed(1);
  return (
    <article
      className="scenario-run"
      data-scenario-run={run.id}
      data-state={run.state}
      aria-busy={run.state === 'running'}
    >
      <h3>{run.title}</h3>
      {info ? <p className="scenario-shows">{info.shows}</p> : null}
      <ol className="scenario-steps" aria-live="polite">
        {run.steps.map((step, i) => (
          <li key={i} data-step={i} data-watch={step.watch}>
            <span className="scenario-at">{at(step.at)} s</span> {step.text}
            {step.watch ? <span className="scenario-watch"> · watch {TAB_LABEL[step.watch]}</span> : null}
          </li>
        ))}
      </ol>
      {run.state === 'running' ? null : (
        <p className={`scenario-verdict ${run.state}`} data-verdict={run.state} role="status">
          {run.state === 'passed' ? '✓ ' : '✗ '}
          {run.result}
        </p>
      )}
    </article>
  );
}
