import type { ConsoleConfig } from './config';
import { getJson, SharedSource } from './shared-source';
import { ScenarioSource } from './scenarios/scenario-source';
import { buildTopology, type Topology } from './topology';

/** Every source the console shows, by the name its live stream uses. */
export type Sources = Record<string, SharedSource<unknown>>;

/** One SharedSource per upstream document; the management API's five lists make one (the topology). */
export function createSources(config: ConsoleConfig): Sources {
  const every = config.pollMs;
  const json =
    (url: string, headers?: Record<string, string>) =>
    (signal: AbortSignal): Promise<unknown> =>
      getJson(url, signal, headers);
  const sources: Sources = {
    topology: new SharedSource<unknown>({
      name: 'broker management API',
      intervalMs: every,
      fetch: async (signal): Promise<Topology> => {
        const [exchanges, queues, bindings, consumers, connections] = await Promise.all(
          ['exchanges', 'queues', 'bindings', 'consumers', 'connections'].map((p) =>
            getJson(`${config.managementUrl}/api/${p}`, signal),
          ),
        );
        return buildTopology({ exchanges, queues, bindings, consumers, connections });
      },
    }),
    orders: new SharedSource({ name: 'orders', intervalMs: every, fetch: json(`${config.ordersUrl}/orders?limit=50`) }),
    stock: new SharedSource({ name: 'inventory', intervalMs: every, fetch: json(`${config.inventoryUrl}/stock`) }),
    payments: new SharedSource({
      name: 'payments',
      intervalMs: every,
      fetch: json(`${config.paymentsUrl}/payments?limit=50`),
    }),
    emails: new SharedSource({
      name: 'emails',
      intervalMs: every,
      fetch: json(`${config.mailUrl}/api/v1/messages?limit=50`),
    }),
    stats: new SharedSource({
      name: 'analytics',
      intervalMs: every,
      fetch: json(`${config.analyticsUrl}/stats?minutes=60`),
    }),
    // pushed by the scenario runner (ScenariosController), not polled
    scenario: new ScenarioSource(),
  };
  if (config.controlUrl) {
    sources.processes = new SharedSource({
      name: "the demo's control API",
      intervalMs: every,
      fetch: json(
        `${config.controlUrl}/processes`,
        config.adminToken ? { authorization: `Bearer ${config.adminToken}` } : undefined,
      ),
    });
  }
  return sources;
}
