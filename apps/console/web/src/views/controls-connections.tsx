import type { BrokerConnection, ControlsStatus } from '../../../src/contracts/controls';
import { api } from '../api';
import { ActionOutcome, ControlNote, useAction } from './controls-action';

const byService = (a: BrokerConnection, b: BrokerConnection) =>
  (a.service ?? '~').localeCompare(b.service ?? '~') || a.name.localeCompare(b.name);

/**
 * The broker's client connections, each with the service that opened it, and a button that closes it through
 * the management API (320 CONNECTION_FORCED). The service connects again by itself, which the topology shows.
 */
export function ConnectionsControl({
  status,
  refresh,
}: {
  status?: ControlsStatus['connections'];
  refresh: () => void;
}) {
  const { busy, outcome, run } = useAction(refresh);
  const connections = [...(status?.connections ?? [])].sort(byService);

  const close = (c: BrokerConnection) =>
    run(async () => {
      await api('DELETE', `/api/controls/connections/${encodeURIComponent(c.name)}`);
      return `Closed ${c.service ?? c.name}'s connection; a Warren service connects again by itself.`;
    });

  return (
    <section
      className="control"
      data-control="connections"
      data-availability={status?.state ?? 'pending'}
      aria-labelledby="control-connections"
    >
      <h3 id="control-connections">Broker connections</h3>
      <ControlNote state={status?.state} reason={status?.reason} />
      {status?.state === 'available' && !connections.length ? (
        <p className="control-hint">No client is connected.</p>
      ) : null}
      <ul className="control-list">
        {connections.map((c) => (
          <li key={c.name} data-connection={c.name} data-service={c.service ?? ''}>
            <span className="control-item">
              <strong>{c.service ?? 'unnamed client'}</strong>
              <small title={c.name}>{c.name}</small>
            </span>
            <button type="button" className="outline secondary" disabled={busy} onClick={() => void close(c)}>
              Close connection
            </button>
          </li>
        ))}
      </ul>
      <ActionOutcome busy={busy} outcome={outcome} busyText="Closing…" />
    </section>
  );
}
