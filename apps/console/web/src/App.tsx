import { useState } from 'react';
import type { Topology } from '../../src/server/topology';
import { useLive, type Live } from './stream';
import { AnalyticsView } from './views/AnalyticsView';
import { liveData } from './views/charts-live-data';
import { ControlsPanel } from './views/ControlsPanel';
import { DeadLettersView } from './views/DeadLettersView';
import { EmailsView } from './views/EmailsView';
import { LedgerView } from './views/LedgerView';
import { OrdersView } from './views/OrdersView';
import { ScenariosPanel, watchedView } from './views/ScenariosPanel';
import { TopologyView } from './views/TopologyView';

const LABELS: Record<string, string> = {
  topology: 'broker',
  orders: 'orders',
  stock: 'inventory',
  payments: 'payments',
  emails: 'emails',
  stats: 'analytics',
  processes: 'demo control',
};

function TopologySection({ live }: { live: Live }) {
  const { data, note } = liveData<Topology>(live.topology, 'the broker');
  return (
    <>
      {note}
      {data ? <TopologyView topology={data} /> : null}
    </>
  );
}

/** The console's views, by tab id (a scenario names the one to watch by its id). */
const VIEWS = [
  { id: 'topology', label: 'Topology', View: TopologySection },
  { id: 'orders', label: 'Orders', View: OrdersView },
  { id: 'emails', label: 'Emails', View: EmailsView },
  { id: 'analytics', label: 'Analytics', View: AnalyticsView },
  { id: 'ledger', label: 'Payments & stock', View: LedgerView },
  { id: 'dead-letters', label: 'Dead letters', View: DeadLettersView },
] as const;

/** The console: each source's state, a tab per view, and beside them the controls that break things and the guided scenarios. */
export function App() {
  const { live, connected } = useLive();
  const [tab, setTab] = useState<string>('topology');
  const watched = watchedView(live);
  const current = VIEWS.find((v) => v.id === tab) ?? VIEWS[0];
  return (
    <div className="console">
      <header className="console-header">
        <h1>Warren Console</h1>
        {!connected ? <p aria-busy="true">Connecting to the console server…</p> : null}
        <ul className="sources" aria-label="Sources">
          {Object.entries(live)
            .filter(([name]) => name in LABELS)
            .map(([name, state]) => (
              <li
                key={name}
                data-source={name}
                data-status={state.status}
                title={state.status === 'unreachable' ? state.error : undefined}
              >
                {LABELS[name]}: {state.status === 'ok' ? 'up' : state.status}
              </li>
            ))}
        </ul>
      </header>
      <div className="console-body">
        <main>
          <nav className="tabs" role="tablist" aria-label="Views">
            {VIEWS.map((v) => (
              <button
                key={v.id}
                type="button"
                role="tab"
                id={`tab-${v.id}`}
                aria-selected={v.id === current.id}
                aria-controls="view"
                className={`${v.id === current.id ? '' : 'outline '}${v.id === watched ? 'watched' : ''}`.trim()}
                onClick={() => setTab(v.id)}
              >
                {v.label}
              </button>
            ))}
          </nav>
          <section id="view" role="tabpanel" aria-labelledby={`tab-${current.id}`}>
            <current.View live={live} />
          </section>
        </main>
        <aside>
          <section aria-labelledby="scenarios-heading">
            <h2 id="scenarios-heading">Guided scenarios</h2>
            <ScenariosPanel live={live} />
          </section>
          <section aria-labelledby="controls-heading">
            <h2 id="controls-heading">Break it</h2>
            <ControlsPanel live={live} />
          </section>
        </aside>
      </div>
    </div>
  );
}
