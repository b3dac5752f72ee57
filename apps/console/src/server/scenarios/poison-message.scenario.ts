import { DeadLetterQueue, deadLetterQueueName, Messaging, type ParkedMessage } from '@warren/messaging';
import type { Scenario } from './scenario';
import { ScenarioFailure } from './scenario-failure.error';
import { addressFor, seconds, skuFor } from './scenario-steps';

/** Every poison message this scenario publishes has an id with this prefix (so a later run can tidy up). */
const POISON_PREFIX = 'console-scenario-poison-';

/**
 * Dead letters and replay: an order.placed that breaks its contract is parked in notifications' DLQ at once
 * (no retries: it can never succeed), notifications keeps going, and a replay through the library's
 * DeadLetterQueue sends it back to its work queue, where it is refused and parked again. The message is left
 * parked for the Dead letters view; the next run purges it before publishing its own.
 */
export const poisonMessageScenario: Scenario = {
  id: 'poison-message',
  title: 'Poison message → DLQ → replay',
  shows:
    'A message that breaks its contract goes straight to notifications.order-events.dlq with its reason, the queue keeps flowing, and a replay sends it back to be handled again.',
  budgetMs: 60_000,
  async run(ctx) {
    const queue = ctx.names.queue('notifications.order-events');
    const dlqName = deadLetterQueueName(queue);
    const dlq = new DeadLetterQueue(ctx.config.amqpUrl, {
      connectionName: 'console (scenario: poison message)',
      timeoutMs: 10_000,
    });
    const publisher = new Messaging({
      url: ctx.config.amqpUrl,
      serviceName: 'console (scenario: poison message)',
      eventsExchange: ctx.names.eventsExchange,
      commandsExchange: ctx.names.commandsExchange,
      shutdownTimeoutMs: 2000,
    });
    ctx.finally('the scenario’s broker connections', () => Promise.all([dlq.close(), publisher.close()]));

    const parkedBefore = await dlq.list(queue).catch((err: Error) => {
      throw new ScenarioFailure(`${dlqName} cannot be read (${err.message}); is notifications running?`);
    });
    const leftovers = parkedBefore.filter((m) => m.messageId?.startsWith(POISON_PREFIX)).map((m) => m.messageId!);
    if (leftovers.length) {
      await dlq.purge(queue, { ids: leftovers });
      ctx.say(`Purged ${leftovers.length} poison message(s) an earlier run left in ${dlqName}.`, 'dead-letters');
    }

    await publisher.start();
    const poisonId = `${POISON_PREFIX}${ctx.runId}`;
    const started = Date.now();
    await publisher.publish({
      exchange: ctx.names.eventsExchange,
      routingKey: 'order.placed',
      type: 'order.placed',
      messageId: poisonId,
      payload: { orderId: 'not-a-uuid', customerEmail: 'nobody', items: [] },
    });
    ctx.say(
      `Published an order.placed that breaks its contract (orderId 'not-a-uuid', no items), id ${poisonId}. Notifications consumes ${queue}.`,
      'topology',
    );

    const parked = await ctx.waitFor(
      `the poison message in ${dlqName}`,
      async () => (await dlq.list(queue)).find((m) => m.messageId === poisonId),
      20_000,
      300,
    );
    const parkedAfter = Date.now() - started;
    ctx.say(
      `Parked in ${dlqName} after ${seconds(parkedAfter)}, with no retry: reason '${parked.reason}', ${parked.error?.message ?? 'no error message'}.`,
      'dead-letters',
    );
    if (parked.reason !== 'invalid')
      throw new ScenarioFailure(`The message was parked with reason '${parked.reason}', not 'invalid'.`);

    // the queue did not stop at the poison: a real order's "we received your order" email still goes out
    const sku = await skuFor(ctx, 1);
    const email = addressFor(ctx, 'after-poison');
    const order = await ctx.platform.placeOrder(email, [{ sku, quantity: 1 }]);
    ctx.say(
      `Placed a real order (${order.id.slice(0, 8)}, 1 × ${sku}) to see that notifications keeps consuming behind the poison.`,
      'emails',
    );
    const placedMail = await ctx.waitFor(
      'the next order’s email',
      async () => (await ctx.platform.mailsTo(email)).find((m) => /received/i.test(m.Subject)),
      30_000,
      500,
    );
    ctx.say(`Its email arrived: “${placedMail.Subject}”. The poison blocked nothing.`, 'emails');

    const replayed = await dlq.replay(queue, { ids: [poisonId] });
    if (replayed.replayed !== 1)
      throw new ScenarioFailure(
        `The replay sent ${replayed.replayed} messages back, not 1 (not found: ${replayed.notFound.join(', ') || 'none'}).`,
      );
    ctx.say(
      `Replayed it with the library's DeadLetterQueue: back to ${queue}, same id, x-replay-count 1.`,
      'dead-letters',
    );
    const again = await ctx.waitFor(
      'the replayed message to be handled (and parked again)',
      async () => (await dlq.list(queue)).find((m: ParkedMessage) => m.messageId === poisonId && m.replayCount >= 1),
      20_000,
      300,
    );
    ctx.say(
      `Notifications refused it again (still invalid) and it is parked once more, replay count ${again.replayCount}. Replay is for messages whose cause was fixed; this one needs its producer fixed. It stays in ${dlqName}: replay or purge it from the Dead letters view.`,
      'dead-letters',
    );
    return `1 poison message parked in ${dlqName} in ${seconds(parkedAfter)} (reason '${parked.reason}', no retries); the next order's email still went out; replayed once through DeadLetterQueue, handled again and parked again with replay count ${again.replayCount} (id ${poisonId}).`;
  },
};
