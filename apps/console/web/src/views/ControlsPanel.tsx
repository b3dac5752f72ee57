import type { DemoProcess } from '../../../src/contracts/controls';
import type { Live } from '../stream';
import { ConnectionsControl } from './controls-connections';
import { GatewayControl } from './controls-gateway';
import { ProcessesControl } from './controls-processes';
import { SmtpControl } from './controls-smtp';
import { useControlsStatus } from './controls-status';
import './controls-panel.css';

/**
 * "Break it": controls that break the platform on purpose, each watched in the other views (the topology,
 * orders, emails…). What this deployment offers comes from GET /api/controls, fetched again when the live stream
 * shows a change and after each action; a control it does not offer is shown disabled, with the reason.
 */
export function ControlsPanel({ live }: { live: Live }) {
  const { status, error, refresh } = useControlsStatus(live);
  const processes =
    live.processes?.status === 'ok' || live.processes?.status === 'unreachable'
      ? (live.processes.data as DemoProcess[] | undefined)
      : undefined;
  return (
    <div className="controls">
      {error ? (
        <p className="error" role="alert">
          The controls could not be read: {error}
        </p>
      ) : null}
      {!status && !error ? <p aria-busy="true">Looking at what can be broken…</p> : null}
      <GatewayControl status={status?.gateway} refresh={refresh} />
      <SmtpControl status={status?.smtp} refresh={refresh} />
      <ConnectionsControl status={status?.connections} refresh={refresh} />
      <ProcessesControl status={status?.processes} processes={processes} refresh={refresh} />
    </div>
  );
}
