import type { Topology } from '../../src/server/topology';
import { useLive } from './stream';
import { TopologyView } from './TopologyView';

const LABELS: Record<string, string> = { topology: 'broker', orders: 'orders', stock: 'inventory', payments: 'payments', emails: 'emails', stats: 'analytics', processes: 'demo control' };

/** The console's first view: every source's state, and the broker's topology, live. */
export function App() {
  const { live, connected } = useLive();
  const topology = live.topology;
  return (
    <main className="container-fluid">
      <header>
        <h1>Warren Console</h1>
        {!connected ? <p aria-busy="true">Connecting to the console server…</p> : null}
      </header>
      <ul className="sources" aria-label="Sources">
        {Object.entries(live).map(([name, state]) => (
          <li key={name} data-source={name} data-status={state.status} title={state.status === 'unreachable' ? state.error : undefined}>
            {LABELS[name] ?? name}: {state.status === 'ok' ? 'up' : state.status}
          </li>
        ))}
      </ul>
      <section aria-labelledby="topology-heading">
        <h2 id="topology-heading">Topology</h2>
        {topology?.status === 'ok' ? <TopologyView topology={topology.data as Topology} /> : topology?.status === 'unreachable' ? <p className="error">{topology.error}</p> : <p aria-busy="true">Waiting for the broker…</p>}
      </section>
    </main>
  );
}
