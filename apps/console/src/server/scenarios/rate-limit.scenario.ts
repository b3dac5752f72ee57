import type { Scenario } from './scenario';
import { ScenarioFailure } from './scenario-failure.error';
import { addressFor, placeOrders, seconds, skuFor } from './scenario-steps';

const ORDERS = 10;
/** Notifications' EMAIL_RATE_PER_SECOND in the demo and compose (its default); the console cannot read it. */
const LIMIT = 5;

/** The most emails sent in any one second. */
function busiestSecond(times: number[]): number {
  let most = 0;
  for (let i = 0, j = 0; j < times.length; j++) {
    while (times[j] - times[i] >= 1000) i++;
    most = Math.max(most, j - i + 1);
  }
  return most;
}

/** Rate limiting: a burst of orders becomes emails spaced out by notifications' limiter. */
export const rateLimitScenario: Scenario = {
  id: 'rate-limit',
  title: 'Rate-limited emails',
  shows: `${ORDERS} orders at once mean ${ORDERS * 2} emails (received, then confirmed or cancelled); notifications sends at most ${LIMIT} a second, so they go out spread over seconds, not in one burst.`,
  budgetMs: 90_000,
  async run(ctx) {
    const sku = await skuFor(ctx, ORDERS);
    const email = addressFor(ctx, 'rate');
    ctx.say(`Placing ${ORDERS} orders at once, all to ${email}: each makes two emails.`, 'orders');
    await placeOrders(ctx, ORDERS, email, sku);
    const expected = ORDERS * 2;
    ctx.say(`Notifications queues the emails (BullMQ in Redis) and its limiter lets ${LIMIT} a second through. Watch them arrive.`, 'emails');
    let seen = 0;
    const mails = await ctx.waitFor(`${expected} emails to ${email}`, async () => {
      const to = await ctx.platform.mailsTo(email);
      if (to.length > seen && to.length < expected) ctx.say(`${to.length} of ${expected} emails so far.`, 'emails');
      seen = Math.max(seen, to.length);
      return to.length >= expected ? to : undefined;
    }, 60_000, 1000);
    const times = mails.map((m) => Date.parse(m.Created)).sort((a, b) => a - b);
    const span = times[times.length - 1] - times[0];
    const busiest = busiestSecond(times);
    ctx.say(`${mails.length} emails, from the first to the last ${seconds(span)}; at most ${busiest} in any one second.`, 'emails');
    // the capture stamps an email when it receives it, so a window's edge blurs by an SMTP round trip: allow one
    if (busiest > LIMIT + 1) throw new ScenarioFailure(`${busiest} emails went out within one second; the limit is ${LIMIT} a second (EMAIL_RATE_PER_SECOND).`);
    const least = Math.ceil(expected / LIMIT) - 1;
    if (span < least * 1000 * 0.8) throw new ScenarioFailure(`${expected} emails went out in ${seconds(span)}; at ${LIMIT} a second they take at least ${least} s.`);
    return `${ORDERS} orders, ${mails.length} emails spread over ${seconds(span)}: at most ${busiest} in any second (limit ${LIMIT}/s), where without the limiter they would have gone out as fast as the orders settled.`;
  },
};
