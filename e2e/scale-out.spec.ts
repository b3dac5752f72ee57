// Past one machine: the whole platform with two instances of every service, one Postgres database per service
// shared by its instances, every queue a quorum queue, under steady load (orders, some out of stock, some
// declined or failing at the gateway; emails; clicks). On a three-node RabbitMQ cluster (RABBITMQ_CLUSTER_URLS,
// which .ci/run starts) one node is stopped and started again mid-run, and in a second run the node that leads
// the busiest queue; on the bundled broker (one node, nothing to stop) the same load runs through the same code.
// Afterwards the platform's promises are checked from its public interfaces (support/invariants.ts).
import { RabbitCluster } from '../tools/testing/rabbitmq-cluster';
import {
  clickCounts,
  clickViolations,
  emailViolations,
  finalOrders,
  paymentViolations,
  queueViolations,
  stockViolations,
  type ClickCounts,
  type StockRow,
} from './support/invariants';
import { Load } from './support/load';
import { adminHeaders, http, runtime, Stack, type ServiceName } from './support/stack';

const SERVICES: ServiceName[] = ['orders', 'inventory', 'payments', 'notifications', 'analytics'];
/** Orders per run, placed open-loop at RATE a second, with clicks beside them. */
const ORDERS = 60;
const RATE = 4;

interface Target {
  name: string;
  /** What the services get as AMQP_URL: one URL, or the cluster's nodes comma-separated. */
  amqpUrl: string;
  /** One node's URL, for the test's own queue checks. */
  checkUrl: () => string;
  cluster?: RabbitCluster;
}

function targets(): Target[] {
  if (runtime() !== 'local')
    throw new Error('the scale-out suite runs services as local processes (E2E_RUNTIME=local)');
  const bundled = process.env.WARREN_TEST_BROKER_URL;
  if (!bundled) throw new Error('WARREN_TEST_BROKER_URL is not set: run through jest -c e2e/jest.config.js');
  const list: Target[] = [{ name: 'bundled broker', amqpUrl: bundled, checkUrl: () => bundled }];
  if (process.env.RABBITMQ_CLUSTER_URLS) {
    const cluster = RabbitCluster.fromEnv();
    list.push({
      name: 'RabbitMQ cluster, 3 nodes',
      amqpUrl: cluster.amqpUrls.join(','),
      checkUrl: () => cluster.amqpUrls[cluster.runningNodes()[0]],
      cluster,
    });
  }
  return list;
}

describe.each(targets())('the platform scaled out, quorum queues ($name)', (target) => {
  const stack = new Stack(
    target.amqpUrl,
    {
      MESSAGING_QUEUE_TYPE: 'quorum',
      SAGA_STEP_TIMEOUT_MS: '60000',
      SAGA_SWEEP_INTERVAL_MS: '1000',
      EMAIL_RATE_PER_SECOND: '50',
    },
    { services: SERVICES, instances: Object.fromEntries(SERVICES.map((s) => [s, 2])), database: 'postgres' },
  );
  let stockBefore: StockRow[];
  let clicksBefore: ClickCounts;

  beforeAll(async () => {
    await stack.start();
    // the gateway declines some payments and fails some attempts (retried), on every payments instance
    for (const p of stack.instances.payments)
      expect(
        (await http('PUT', `${p.url}/admin/gateway`, { declineRate: 0.15, failureRate: 0.1 }, adminHeaders)).status,
      ).toBe(200);
  }, 240_000);

  afterAll(async () => {
    // a node a failed test left stopped comes back, so the next suite finds the whole cluster
    if (target.cluster) for (const i of target.cluster.stoppedNodes()) await target.cluster.startNode(i);
    await stack.teardown();
  }, 120_000);

  beforeEach(async () => {
    stockBefore = (await http('GET', `${stack.url('inventory')}/stock`)).body as StockRow[];
    clicksBefore = await clickCounts(stack);
  });

  let runs = 0;
  /** Runs the load; `fault(progress)` is awaited beside it with a promise that resolves as orders are placed. */
  async function run(fault?: (placedAtLeast: (n: number) => Promise<void>) => Promise<void>): Promise<void> {
    const load = new Load(stack, `r${++runs}`);
    const faulted = fault?.((n) => load.placedAtLeast(n));
    await Promise.all([load.run(ORDERS, RATE), faulted]);
    expect(load.errors).toEqual([]);
    const orders = await finalOrders(stack, load.placed).catch((err: Error) => {
      throw new Error(`${err.message}\n${stack.logs()}`);
    });
    const statuses = [...orders.values()].map((o) => o.status);
    // the load makes both outcomes: out-of-stock and declined orders cancel, the rest confirm
    expect(statuses).toContain('CONFIRMED');
    expect(statuses).toContain('CANCELLED');
    const violations = [
      ...(await paymentViolations(stack, orders)),
      ...(await stockViolations(stack, stockBefore, orders)),
      ...(await emailViolations(stack, load.placed, orders)),
      ...(await clickViolations(stack, clicksBefore, load.accepted)),
      ...(await queueViolations(target.checkUrl(), stack.namespace)),
    ];
    expect(violations).toEqual([]);
    // both instances of each consuming service took part (competing consumers, one database)
    const capturedBy = new Set(
      ((await http('GET', `${stack.url('payments')}/payments?limit=1000`)).body as Array<{ instance?: string }>)
        .map((e) => e.instance)
        .filter(Boolean),
    );
    expect([...capturedBy].sort()).toEqual(['payments-1', 'payments-2']);
  }

  it('keeps every promise under load', async () => {
    await run(
      target.cluster
        ? async (placedAtLeast) => {
            // a node that is not the first in anybody's list, while a third of the orders go in
            const cluster = target.cluster!;
            await placedAtLeast(ORDERS / 4);
            await cluster.stopNode(1);
            await placedAtLeast(ORDERS / 2);
            await cluster.startNode(1);
          }
        : undefined,
    );
  }, 300_000);

  if (target.cluster) {
    it('keeps every promise when the node leading the busiest queue is stopped', async () => {
      const cluster = target.cluster!;
      await run(async (placedAtLeast) => {
        await placedAtLeast(ORDERS / 4);
        const leader = await cluster.leaderOf(`${stack.namespace}.orders.saga`);
        await cluster.stopNode(leader);
        await placedAtLeast(ORDERS / 2);
        await cluster.startNode(leader);
      });
    }, 300_000);
  }
});
