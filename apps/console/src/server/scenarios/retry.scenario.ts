import type { GatewaySettings } from '../../contracts/controls';
import { capturesOf, chargedOnce, paymentsInstances, type PaymentsInstance } from './payments-steps';
import type { Scenario, ScenarioContext } from './scenario';
import { ScenarioFailure } from './scenario-failure.error';
import { addressFor, outcome, placeOrders, seconds, settled, skuFor } from './scenario-steps';

const ORDERS = 3;

/** Failed attempts retried so far, summed over the payments instances (their messaging counters). */
async function retried(ctx: ScenarioContext, instances: PaymentsInstance[]): Promise<number> {
  const counters = await Promise.all(instances.map((i) => ctx.platform.counters(i.url)));
  return counters.reduce((sum, c) => sum + (c.retried ?? 0), 0);
}

/** Retry with backoff: the gateway fails every charge for a while, payments retries through its delay queues, then captures. */
export const retryScenario: Scenario = {
  id: 'retry',
  title: 'Retry with backoff',
  shows:
    'The payment gateway fails every charge for a few seconds: payments retries each capture with growing delays (through the broker’s delayed-message exchange, with per-message jitter, or through the payments.commands.retry.1, .2 … delay queues on a broker without it), and captures it once the gateway is back.',
  budgetMs: 90_000,
  requires: ['admin-token'],
  async run(ctx) {
    const before = (await ctx.controls.gateway()).instances.find((i) => i.settings)?.settings as GatewaySettings;
    ctx.finally(`the payment gateway's settings (failure rate ${before.failureRate})`, () =>
      ctx.controls.setGateway({ failureRate: before.failureRate }),
    );
    const instances = await paymentsInstances(ctx);
    const retriedBefore = await retried(ctx, instances);

    await ctx.controls.setGateway({ failureRate: 1 });
    ctx.say('The payment gateway now fails every charge with a transient error (failure rate 1).', 'ledger');
    const sku = await skuFor(ctx, ORDERS);
    const ids = await placeOrders(ctx, ORDERS, addressFor(ctx, 'retry'), sku);
    ctx.say(
      `Placed ${ORDERS} orders. Each capture fails and is parked in a delay queue (0.5 s, then 1 s, 2 s …) before it comes back to payments.commands.`,
      'topology',
    );

    const failing = Date.now();
    const failures = await ctx.waitFor(
      `${ORDERS * 2} failed attempts (two per capture)`,
      async () => {
        const n = (await retried(ctx, instances)) - retriedBefore;
        return n >= ORDERS * 2 ? n : undefined;
      },
      20_000,
      200,
    );
    ctx.say(
      `${failures} failed attempts so far, each one held for its next retry (warren.delayed, or the next retry queue); no order is cancelled, no message lost.`,
      'topology',
    );

    await ctx.controls.setGateway({ failureRate: before.failureRate });
    ctx.say(
      `The gateway is back (failure rate ${before.failureRate}) after ${seconds(Date.now() - failing)}. The next attempt of each capture goes through.`,
      'ledger',
    );
    const orders = await settled(ctx, ids, 60_000);
    const confirmed = orders.filter((o) => o.status === 'CONFIRMED').map((o) => o.id);
    if (confirmed.length !== ORDERS)
      throw new ScenarioFailure(`The orders ended ${outcome(orders)}, not all confirmed.`);
    const total = (await retried(ctx, instances)) - retriedBefore;
    const captures = await capturesOf(ctx, ids, instances);
    const { twice, never } = chargedOnce(confirmed, captures);
    if (twice.length || never.length)
      throw new ScenarioFailure(
        `Expected one capture per order; ${twice.length} were charged twice and ${never.length} not at all.`,
      );
    ctx.say(`All ${ORDERS} orders confirmed; the ledger has ${captures.length} captures, one per order.`, 'orders');
    return `${ORDERS} orders through a failing gateway: ${total} failed attempts retried with backoff, then each captured once when it healed (${ORDERS} confirmed, ${captures.length} captures, none parked in the DLQ).`;
  },
};
