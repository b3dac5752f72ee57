import { capturesOf, chargedOnce } from './payments-steps';
import type { Scenario } from './scenario';
import { ScenarioFailure } from './scenario-failure.error';
import { addressFor, outcome, placeOrders, seconds, settled, skuFor } from './scenario-steps';

const EACH = 5;

/** Reliability: the broker is restarted while orders come in; every order still settles, each charged once. */
export const brokerRestartScenario: Scenario = {
  id: 'broker-restart',
  title: 'Broker restarted under load',
  shows: `The bundled broker is restarted while orders come in (${EACH} before, ${EACH} during, ${EACH} after): the services reconnect, the outboxes send what was written meanwhile, and every order settles, charged once.`,
  budgetMs: 240_000,
  requires: ['process-control'],
  async run(ctx) {
    const broker = (await ctx.controls.processes()).find((p) => p.name === 'broker');
    if (!broker)
      throw new ScenarioFailure(
        'This demo runs on a broker of your own (AMQP_URL), not the bundled one; the console restarts only the bundled broker.',
      );
    const sku = await skuFor(ctx, EACH * 3);
    const email = addressFor(ctx, 'broker-restart');
    const ids = await placeOrders(ctx, EACH, email, sku);
    ctx.say(`Placed ${EACH} orders. Restarting the broker (SIGTERM, then started again on its data)…`, 'topology');

    const started = Date.now();
    let restarted = false;
    const restart = ctx.controls.restart('broker').finally(() => (restarted = true));
    // orders keep coming while it is down: the orders service writes each with its outbox row and answers
    const during: string[] = [];
    while (during.length < EACH) {
      during.push((await ctx.platform.placeOrder(email, [{ sku, quantity: 1 }])).id);
      if (!restarted) await ctx.sleep(200);
    }
    ids.push(...during);
    const back = await restart;
    ctx.say(
      `The broker is back (pid ${back.pid}) after ${seconds(Date.now() - started)}; ${EACH} orders were placed meanwhile. The services reconnect by themselves.`,
      'topology',
    );

    ids.push(...(await placeOrders(ctx, EACH, email, sku)));
    ctx.say(`Placed ${EACH} more. Waiting for all ${ids.length} to settle…`, 'orders');
    const orders = await settled(ctx, ids, 150_000);
    const confirmed = orders.filter((o) => o.status === 'CONFIRMED').map((o) => o.id);
    ctx.say(`All ${ids.length} settled: ${outcome(orders)}.`, 'orders');
    const captures = await capturesOf(ctx, ids);
    const { twice, never } = chargedOnce(confirmed, captures);
    if (twice.length || never.length)
      throw new ScenarioFailure(
        `Expected one capture per confirmed order; ${twice.length} were charged twice and ${never.length} not at all.`,
      );
    if (confirmed.length !== ids.length)
      throw new ScenarioFailure(`Only ${confirmed.length} of ${ids.length} orders were confirmed: ${outcome(orders)}.`);
    ctx.say(`The ledger: ${captures.length} captures, one per order.`, 'ledger');
    return `${ids.length} orders (${EACH} before, ${EACH} during, ${EACH} after a broker restart of ${seconds(Date.now() - started)}): ${confirmed.length} confirmed, ${captures.length} captures, none lost and none charged twice.`;
  },
};
