import { AmqpTap } from './amqp-tap';
import type { Scenario } from './scenario';
import { ScenarioFailure } from './scenario-failure.error';

/** Routing: clickstream events routed by key on the topic exchange, an exact key and a wildcard. */
export const routingScenario: Scenario = {
  id: 'routing',
  title: 'Routing by topic key',
  shows:
    "Analytics' collector publishes clicks as clickstream.click and page views as clickstream.page_view: a queue bound to the exact key gets clicks only, one bound to clickstream.* gets both.",
  budgetMs: 30_000,
  async run(ctx) {
    const exchange = ctx.names.eventsExchange;
    const tap = await AmqpTap.open(ctx.config.amqpUrl, 'console (scenario: routing)');
    ctx.finally('the console’s two routing queues (deleted with their connection)', () => tap.close());
    const clicksOnly = ctx.names.queue(`console.scenario-${ctx.runId}.clicks`);
    const everything = ctx.names.queue(`console.scenario-${ctx.runId}.clickstream`);
    await tap.listen(clicksOnly, exchange, ['clickstream.click']);
    await tap.listen(everything, exchange, ['clickstream.*']);
    ctx.say(
      `Bound two queues of the console's to ${exchange}: ${clicksOnly} with 'clickstream.click', ${everything} with 'clickstream.*'.`,
      'topology',
    );

    const visitorId = `scenario-${ctx.runId}`;
    const page = (p: string) => `https://shop.example/scenario/${ctx.runId}${p}`;
    const events = [
      { type: 'page_view', visitorId, url: page('/') },
      { type: 'click', visitorId, url: page('/'), element: '#buy' },
      { type: 'page_view', visitorId, url: page('/cart') },
      { type: 'click', visitorId, url: page('/cart'), element: '#checkout' },
      { type: 'page_view', visitorId, url: page('/thanks') },
    ];
    const answer = await ctx.platform.collect(events);
    ctx.say(
      `POSTed 3 page views and 2 clicks to analytics' /collect (accepted ${answer.accepted}); it publishes each with its type as the routing key.`,
      'topology',
    );
    if (answer.accepted !== events.length)
      throw new ScenarioFailure(
        `Analytics accepted ${answer.accepted} of ${events.length} events: ${JSON.stringify(answer.rejected)}`,
      );

    const mine = (queue: string) =>
      tap.on(queue).filter((t) => (t.payload as { visitorId?: string })?.visitorId === visitorId);
    await ctx.waitFor(
      'all 5 events at the clickstream.* queue',
      () => (mine(everything).length >= 5 ? true : undefined),
      15_000,
    );
    await ctx.waitFor(
      'both clicks at the clickstream.click queue',
      () => (mine(clicksOnly).length >= 2 ? true : undefined),
      15_000,
    );
    const count = (queue: string, key: string) => mine(queue).filter((t) => t.routingKey === key).length;
    ctx.say(
      `${everything}: ${count(everything, 'clickstream.page_view')} page views and ${count(everything, 'clickstream.click')} clicks.`,
      'topology',
    );
    ctx.say(
      `${clicksOnly}: ${count(clicksOnly, 'clickstream.click')} clicks and ${count(clicksOnly, 'clickstream.page_view')} page views.`,
      'topology',
    );
    if (count(clicksOnly, 'clickstream.page_view') !== 0 || count(clicksOnly, 'clickstream.click') !== 2)
      throw new ScenarioFailure(`The clicks-only queue got ${mine(clicksOnly).length} events, not just the 2 clicks.`);
    if (count(everything, 'clickstream.page_view') !== 3 || count(everything, 'clickstream.click') !== 2)
      throw new ScenarioFailure(`The wildcard queue got ${mine(everything).length} events, not the 5 sent.`);
    return "5 events routed by key: the 'clickstream.click' queue got exactly the 2 clicks and no page view, the 'clickstream.*' queue all 5 (3 page views, 2 clicks); the publisher chose no queue, only a key.";
  },
};
