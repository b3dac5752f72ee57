import { buildTopology } from '../topology';
import { capturesOf, chargedOnce } from './payments-steps';
import type { Scenario, ScenarioContext } from './scenario';
import { ScenarioFailure } from './scenario-failure.error';
import { addressFor, placeOrders, seconds, settled, skuFor } from './scenario-steps';

const ORDERS = 30;

/** Who consumes `queue`: the instance holding each consumer (its connection's name), as the topology view shows. */
async function holdersOf(ctx: ScenarioContext, queue: string): Promise<string[]> {
  const lists = await Promise.all(
    ['exchanges', 'queues', 'bindings', 'consumers', 'connections'].map((p) =>
      ctx.platform.management<unknown>(`/api/${p}`),
    ),
  );
  const [exchanges, queues, bindings, consumers, connections] = lists;
  return buildTopology({ exchanges, queues, bindings, consumers, connections })
    .consumers.filter((c) => c.queue === queue)
    .map((c) => c.holder)
    .sort();
}

/** Competing consumers: a second payments instance on the same queue, the captures shared, none twice. */
export const competingConsumersScenario: Scenario = {
  id: 'competing-consumers',
  title: 'Competing consumers',
  shows: `A second payments instance consumes the same payments.commands queue: ${ORDERS} orders' captures are shared between the two, and no order is charged twice.`,
  budgetMs: 180_000,
  requires: ['process-control'],
  async run(ctx) {
    const queue = ctx.names.queue('payments.commands');
    ctx.say(
      `Starting one more payments instance through the demo's control API (it waits until the new one is healthy)…`,
      'topology',
    );
    const added = await ctx.controls.addInstance('payments');
    ctx.finally(`${added.name} stopped (the added instance)`, () => ctx.controls.removeInstance(added.name));
    const holders = await ctx.waitFor(
      `${added.name} to consume ${queue}`,
      async () => {
        const now = await holdersOf(ctx, queue);
        return now.includes(added.name) && now.length >= 2 ? now : undefined;
      },
      30_000,
      500,
    );
    ctx.say(
      `${added.name} is up (${added.url}). ${queue} now has ${holders.length} consumers: ${holders.join(', ')}. They compete for its messages.`,
      'topology',
    );

    const sku = await skuFor(ctx, ORDERS);
    ctx.say(`Placing ${ORDERS} orders for 1 × ${sku} each; every one sends a capture command to ${queue}.`, 'orders');
    const started = Date.now();
    const ids = await placeOrders(ctx, ORDERS, addressFor(ctx, 'competing'), sku);
    const orders = await settled(ctx, ids, 120_000);
    const confirmed = orders.filter((o) => o.status === 'CONFIRMED').map((o) => o.id);
    ctx.say(`${confirmed.length} of ${ORDERS} orders confirmed in ${seconds(Date.now() - started)}.`, 'orders');

    const captures = await capturesOf(ctx, ids);
    const perInstance = new Map<string, number>();
    for (const c of captures) perInstance.set(c.instance, (perInstance.get(c.instance) ?? 0) + 1);
    const split = [...perInstance.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, n]) => `${n} captured by ${name}`);
    ctx.say(`The ledgers: ${split.join(', ') || 'no captures'}.`, 'ledger');
    const { twice, never } = chargedOnce(confirmed, captures);
    if (twice.length)
      throw new ScenarioFailure(`${twice.length} orders were charged more than once: ${twice.slice(0, 3).join(', ')}.`);
    if (never.length)
      throw new ScenarioFailure(`${never.length} confirmed orders have no capture: ${never.slice(0, 3).join(', ')}.`);
    if (!perInstance.get(added.name))
      throw new ScenarioFailure(
        `${added.name} captured none of the ${confirmed.length} orders: it got no share of the work.`,
      );
    return `${confirmed.length} orders, ${split.join(' and ')}, none twice: two instances of one service shared one queue's work.`;
  },
};
