import type { Scenario } from './scenario';
import { ScenarioFailure } from './scenario-failure.error';
import { seconds } from './scenario-steps';

const VIEWS = 200;
const CLICKS = 50;

/** Real-time pipeline: a burst of clicks is in analytics' /stats within a second or so. */
export const clickstreamScenario: Scenario = {
  id: 'clickstream',
  title: 'Real-time clickstream',
  shows: `A burst of ${VIEWS} page views and ${CLICKS} clicks goes through /collect, the broker and analytics' consumers into Redis, and /stats counts them within a second or so.`,
  budgetMs: 30_000,
  async run(ctx) {
    const url = `https://shop.example/scenario/${ctx.runId}`;
    // a window of an hour: a minute that drops out of it between the two reads is an hour old, not a moment ago
    const before = await ctx.platform.stats(60);
    const events = [
      ...Array.from({ length: VIEWS }, (_, i) => ({
        type: 'page_view',
        visitorId: `scenario-${ctx.runId}-${i % 20}`,
        url,
      })),
      ...Array.from({ length: CLICKS }, (_, i) => ({
        type: 'click',
        visitorId: `scenario-${ctx.runId}-${i % 20}`,
        url,
        element: `#buy-${i}`,
      })),
    ];
    const started = Date.now();
    const answer = await ctx.platform.collect(events);
    const accepted = Date.now() - started;
    if (answer.accepted !== events.length)
      throw new ScenarioFailure(`Analytics accepted ${answer.accepted} of ${events.length} events.`);
    ctx.say(
      `POSTed ${VIEWS} page views of ${url} and ${CLICKS} clicks in one request: 202 after ${accepted} ms (the collector answers once the broker has them).`,
      'analytics',
    );

    // page views and clicks are routed to their consumers by key (clickstream.page_view, clickstream.click):
    // the burst is counted when both have caught up
    const counted = await ctx.waitFor(
      `/stats to count ${VIEWS} views of ${url} and ${CLICKS} more clicks`,
      async () => {
        const now = await ctx.platform.stats(60);
        const views = now.topPages.find((p) => p.url === url)?.views ?? 0;
        return views >= VIEWS && now.counters.clicks - before.counters.clicks >= CLICKS ? now : undefined;
      },
      20_000,
      100,
    );
    const took = Date.now() - started;
    const clicks = counted.counters.clicks - before.counters.clicks;
    ctx.say(
      `/stats lists ${url} with ${VIEWS} views ${seconds(took)} after the burst was sent; the clicks counter rose by ${clicks}.`,
      'analytics',
    );
    return `${VIEWS + CLICKS} events in one burst: /stats counted all ${VIEWS} page views of the scenario's page and ≥ ${CLICKS} clicks ${seconds(took)} after they were sent (accepted in ${accepted} ms).`;
  },
};
