import type { ControlsStatus, DemoProcess, ProcessSignalName } from '../../../src/contracts/controls';
import { api } from '../api';
import { ActionOutcome, ControlNote, useAction } from './controls-action';

/** The console's own process: stopping or killing it from here would take this page's server away. */
const SELF = 'console';
const SELF_REASON = "this console's own process: use the terminal";

const SIGNAL_DONE: Record<ProcessSignalName, string> = {
  SIGKILL: 'killed (kill -9); the supervisor starts it again',
  SIGTERM: 'asked to stop (SIGTERM); the supervisor starts it again',
  SIGSTOP: 'frozen (SIGSTOP): it holds its connection but does nothing',
  SIGCONT: 'continued (SIGCONT)',
};

/** One process: its state and pid, and what can be done to it. */
function ProcessRow({
  process: p,
  paused,
  refresh,
  onRemove,
  removing,
}: {
  process: DemoProcess;
  paused: boolean;
  refresh: () => void;
  onRemove: () => void;
  removing: boolean;
}) {
  const { busy, outcome, run } = useAction(refresh);
  const self = p.name === SELF;
  const off = busy || removing || self;
  const signal = (s: ProcessSignalName) =>
    run(async () => {
      await api('POST', `/api/controls/processes/${encodeURIComponent(p.name)}/signal`, { signal: s });
      return `${p.name} ${SIGNAL_DONE[s]}.`;
    });
  const restart = () =>
    run(async () => {
      const back = await api<DemoProcess>('POST', `/api/controls/processes/${encodeURIComponent(p.name)}/restart`);
      return `${p.name} restarted (pid ${back.pid}).`;
    });
  return (
    <li
      data-process={p.name}
      data-state={p.state}
      data-restarts={p.restarts}
      data-paused={paused ? 'true' : 'false'}
      title={self ? SELF_REASON : undefined}
    >
      <span className="control-item">
        <strong>{p.name}</strong>
        <small>
          {paused ? 'paused (SIGSTOP)' : p.state}
          {p.pid ? ` · pid ${p.pid}` : ''}
          {p.restarts ? ` · ${p.restarts} restart${p.restarts === 1 ? '' : 's'}` : ''}
          {self ? ` · ${SELF_REASON}` : ''}
        </small>
      </span>
      <span className="control-buttons">
        <button type="button" className="outline secondary" disabled={off} onClick={() => void signal('SIGKILL')}>
          Kill -9
        </button>
        <button type="button" className="outline secondary" disabled={off} onClick={() => void restart()}>
          Restart
        </button>
        {paused ? (
          <button type="button" className="outline" disabled={busy || removing} onClick={() => void signal('SIGCONT')}>
            Continue
          </button>
        ) : (
          <button type="button" className="outline secondary" disabled={off} onClick={() => void signal('SIGSTOP')}>
            Stop (SIGSTOP)
          </button>
        )}
        {p.removable ? (
          <button type="button" className="outline contrast" disabled={busy || removing} onClick={onRemove}>
            Remove
          </button>
        ) : null}
      </span>
      <ActionOutcome busy={busy} outcome={outcome} />
    </li>
  );
}

/**
 * The demo's processes (the live stream's `processes`, from its control API): kill, restart, freeze and continue
 * each; one more payments instance (competing consumers) and its removal; the broker's restart. Outside the
 * local demo every button is there but disabled, with the reason.
 */
export function ProcessesControl({
  status,
  processes,
  refresh,
}: {
  status?: ControlsStatus['processes'];
  processes?: DemoProcess[];
  refresh: () => void;
}) {
  const section = useAction(refresh);
  const unavailable = status?.state === 'unavailable';
  const paused = new Set(status?.paused ?? []);
  const broker = processes?.find((p) => p.name === 'broker');
  const brokerReason = unavailable
    ? status?.reason
    : processes && !broker
      ? 'the demo uses an external broker (AMQP_URL): restart it yourself'
      : undefined;

  const add = () =>
    section.run(async () => {
      const added = await api<{ name: string; url: string }>('POST', '/api/controls/instances', {
        service: 'payments',
      });
      return `Started ${added.name} on ${added.url}: it competes for payments.commands.`;
    });
  const remove = (name: string) =>
    section.run(async () => {
      await api('DELETE', `/api/controls/instances/${encodeURIComponent(name)}`);
      return `Removed ${name}.`;
    });
  const restartBroker = () =>
    section.run(async () => {
      const back = await api<DemoProcess>('POST', '/api/controls/processes/broker/restart');
      return `The broker restarted (pid ${back.pid}); the services reconnect by themselves.`;
    });

  return (
    <section
      className="control"
      data-control="processes"
      data-availability={status?.state ?? 'pending'}
      aria-labelledby="control-processes"
    >
      <h3 id="control-processes">Processes</h3>
      <ControlNote state={status?.state} reason={status?.reason} />
      <ul className="control-list">
        {(processes ?? []).map((p) => (
          <ProcessRow
            key={p.name}
            process={p}
            paused={paused.has(p.name)}
            refresh={refresh}
            removing={section.busy}
            onRemove={() => void remove(p.name)}
          />
        ))}
      </ul>
      <div className="control-buttons">
        <button
          type="button"
          disabled={unavailable || section.busy || !status}
          title={unavailable ? status?.reason : undefined}
          onClick={() => void add()}
        >
          Add payments instance
        </button>
        <button
          type="button"
          className="secondary"
          disabled={Boolean(brokerReason) || section.busy || !status}
          title={brokerReason}
          onClick={() => void restartBroker()}
        >
          Restart broker
        </button>
      </div>
      <ActionOutcome
        busy={section.busy}
        outcome={section.outcome}
        busyText="Working… (a start or restart answers once the process is up)"
      />
    </section>
  );
}
