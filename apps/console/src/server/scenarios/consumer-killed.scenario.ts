import type { GatewaySettings } from '../../contracts/controls';
import { capturesOf, paymentsInstances } from './payments-steps';
import type { Scenario } from './scenario';
import { ScenarioFailure } from './scenario-failure.error';
import { addressFor, seconds, settled, skuFor } from './scenario-steps';

interface ManagementQueue {
  messages_unacknowledged?: number;
}

/** Reliability: payments is killed (kill -9) in the middle of a capture; the broker redelivers it, charged once. */
export const consumerKilledScenario: Scenario = {
  id: 'consumer-killed',
  title: 'Consumer killed mid-message',
  shows:
    'Payments is killed with kill -9 while it holds a capture (unacknowledged): the broker gives the capture to the restarted payments, the order completes and is charged once.',
  budgetMs: 150_000,
  requires: ['process-control', 'admin-token'],
  async run(ctx) {
    const instances = await paymentsInstances(ctx);
    if (instances.length > 1)
      throw new ScenarioFailure(
        `Payments runs as ${instances.length} instances (${instances.map((i) => i.name).join(', ')}); this scenario kills the only one. Remove the added instances first.`,
      );
    const queue = ctx.names.queue('payments.commands');
    const before = (await ctx.controls.gateway()).instances.find((i) => i.settings)?.settings as GatewaySettings;
    ctx.finally(`the payment gateway's settings (latency ${before.latencyMs} ms)`, () =>
      ctx.controls.setGateway({ latencyMs: before.latencyMs }),
    );
    const unacked = async () =>
      (await ctx.platform.management<ManagementQueue>(`/api/queues/%2F/${encodeURIComponent(queue)}`))
        .messages_unacknowledged ?? 0;
    const idleUnacked = await unacked();

    await ctx.controls.setGateway({ latencyMs: 60_000 });
    ctx.say('The payment gateway now takes 60 s to answer: a capture stays in payments, unacknowledged.', 'ledger');
    const sku = await skuFor(ctx, 1);
    const order = await ctx.platform.placeOrder(addressFor(ctx, 'killed'), [{ sku, quantity: 1 }]);
    ctx.say(`Placed order ${order.id.slice(0, 8)} (1 × ${sku}).`, 'orders');
    await ctx.waitFor(
      `payments to hold the capture (unacked on ${queue})`,
      async () => ((await unacked()) > idleUnacked ? true : undefined),
      30_000,
      250,
    );
    ctx.say(`Payments has the capture in hand: ${queue} shows it unacknowledged.`, 'topology');

    const victim = (await ctx.controls.processes()).find((p) => p.name === 'payments');
    if (!victim?.pid) throw new ScenarioFailure(`The demo lists no running payments process.`);
    await ctx.controls.signal('payments', 'SIGKILL');
    const killedAt = Date.now();
    ctx.say(
      `kill -9 payments (pid ${victim.pid}), in the middle of the capture. Its connection drops; the broker puts the unacknowledged capture back in ${queue}.`,
      'topology',
    );
    const back = await ctx.waitFor(
      'the demo to start payments again',
      async () =>
        (await ctx.controls.processes()).find(
          (p) => p.name === 'payments' && p.state === 'running' && p.pid !== victim.pid && p.pid !== null,
        ),
      60_000,
      500,
    );
    ctx.say(
      `The demo's supervisor started payments again (pid ${back.pid}) ${seconds(Date.now() - killedAt)} later, with the gateway's normal settings.`,
      'topology',
    );
    await ctx.controls.setGateway({ latencyMs: before.latencyMs }).catch(() => undefined); // a new process starts with them anyway

    const [done] = await settled(ctx, [order.id], 60_000);
    if (done.status !== 'CONFIRMED')
      throw new ScenarioFailure(`The order was ${done.status} (${done.reason ?? 'no reason'}), not CONFIRMED.`);
    const captures = await capturesOf(ctx, [order.id]);
    ctx.say(`Order ${order.id.slice(0, 8)} CONFIRMED; the ledger has ${captures.length} capture for it.`, 'ledger');
    if (captures.length !== 1) throw new ScenarioFailure(`The order was charged ${captures.length} times, not once.`);
    return `Payments was killed (kill -9) holding order ${order.id.slice(0, 8)}'s capture; the broker redelivered it to the restarted payments, which captured it: CONFIRMED, 1 capture, charged once.`;
  },
};
