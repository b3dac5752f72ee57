import { topicMatches } from '@warren/messaging';
import { AmqpTap } from './amqp-tap';
import type { Scenario } from './scenario';
import { ScenarioFailure } from './scenario-failure.error';
import { addressFor, seconds, settled, skuFor } from './scenario-steps';

interface Binding {
  source: string;
  destination: string;
  destination_type: string;
  routing_key: string;
  vhost: string;
}

/** Publish/subscribe: one order event, a copy for every queue bound to it (notifications', and one of our own). */
export const pubSubScenario: Scenario = {
  id: 'pub-sub',
  title: 'Publish/subscribe (fan-out)',
  shows:
    "One order event on the warren.events topic exchange reaches every subscriber's own queue: notifications emails the customer, and a queue of the console's gets its own copy.",
  budgetMs: 60_000,
  async run(ctx) {
    const exchange = ctx.names.eventsExchange;
    const tap = await AmqpTap.open(ctx.config.amqpUrl, 'console (scenario: pub-sub)');
    ctx.finally('the console’s subscriber queue (deleted with its connection)', () => tap.close());
    const queue = ctx.names.queue(`console.scenario-${ctx.runId}.order-events`);
    await tap.listen(queue, exchange, ['order.*']);
    ctx.say(
      `Subscribed a queue of the console's own, ${queue}, to ${exchange} with 'order.*'. Orders does not know it exists.`,
      'topology',
    );

    const bindings = (await ctx.platform.management<Binding[]>('/api/bindings')).filter(
      (b) => b.source === exchange && b.destination_type === 'queue' && b.vhost === '/',
    );
    const subscribers = [
      ...new Set(bindings.filter((b) => topicMatches(b.routing_key, 'order.confirmed')).map((b) => b.destination)),
    ];
    ctx.say(`Queues bound to order.confirmed now: ${subscribers.join(', ') || 'none'}.`, 'topology');

    const sku = await skuFor(ctx, 1);
    const email = addressFor(ctx, 'fanout');
    ctx.say(
      `Placing an order for 1 × ${sku}; when the saga confirms it, orders publishes order.confirmed once.`,
      'orders',
    );
    const started = Date.now();
    const placed = await ctx.platform.placeOrder(email, [{ sku, quantity: 1 }]);
    const [order] = await settled(ctx, [placed.id]);
    if (order.status !== 'CONFIRMED')
      throw new ScenarioFailure(
        `The order was ${order.status} (${order.reason ?? 'no reason'}), so no order.confirmed was published.`,
      );
    const ours = (type: string) =>
      tap.on(queue).filter((t) => t.type === type && (t.payload as { orderId?: string })?.orderId === placed.id);
    await ctx.waitFor(
      'order.confirmed at the console’s queue',
      () => (ours('order.confirmed').length ? true : undefined),
      15_000,
    );
    ctx.say(
      `The console's queue received order.confirmed for ${placed.id.slice(0, 8)} ${seconds(Date.now() - started)} after the order was placed.`,
      'topology',
    );
    const mails = await ctx.waitFor(
      'the confirmation email (notifications’ copy)',
      async () => {
        const to = await ctx.platform.mailsTo(email);
        return to.some((m) => /confirmed/i.test(m.Subject)) ? to : undefined;
      },
      30_000,
      500,
    );
    ctx.say(
      `Notifications got its own copy: “${mails.find((m) => /confirmed/i.test(m.Subject))?.Subject}” is in the mailbox of ${email}.`,
      'emails',
    );

    const copies = ours('order.confirmed').length;
    const confirmations = mails.filter((m) => /confirmed/i.test(m.Subject)).length;
    if (copies !== 1 || confirmations !== 1)
      throw new ScenarioFailure(
        `Expected one copy each; the console's queue got ${copies} and the mailbox has ${confirmations} confirmation emails.`,
      );
    return `One order.confirmed, published once, reached ${subscribers.length} bound queue(s): notifications sent 1 confirmation email and the console's queue got 1 copy (plus order.placed: ${ours('order.placed').length}), without orders knowing either.`;
  },
};
