import type { Scenario } from './scenario';
import { ScenarioFailure } from './scenario-failure.error';
import { addressFor, placeOrders, seconds, skuFor } from './scenario-steps';

const ORDERS = 10;
/** Notifications' EMAIL_RATE_PER_SECOND in the demo and compose (its default); the console cannot read it. */
const LIMIT = 5;

/** Emails per second, counted from the first one (to show how they were spread). */
function perSecond(times: number[]): number[] {
  const counts: number[] = [];
  for (const t of times) {
    const second = Math.floor((t - times[0]) / 1000);
    counts[second] = (counts[second] ?? 0) + 1;
  }
  return Array.from(counts, (n) => n ?? 0);
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
    ctx.say(
      `Notifications queues the emails (BullMQ in Redis) and its limiter lets ${LIMIT} a second through. Watch them arrive.`,
      'emails',
    );
    let seen = 0;
    const mails = await ctx.waitFor(
      `${expected} emails to ${email}`,
      async () => {
        const to = await ctx.platform.mailsTo(email);
        if (to.length > seen && to.length < expected) ctx.say(`${to.length} of ${expected} emails so far.`, 'emails');
        seen = Math.max(seen, to.length);
        return to.length >= expected ? to : undefined;
      },
      60_000,
      1000,
    );
    const times = mails.map((m) => Date.parse(m.Created)).sort((a, b) => a - b);
    const span = times[times.length - 1] - times[0];
    const counts = perSecond(times);
    ctx.say(
      `${mails.length} emails, from the first to the last ${seconds(span)}; per second since the first: ${counts.join(', ')}.`,
      'emails',
    );
    // at LIMIT a window, n emails need ceil(n / LIMIT) windows; the first may have begun before the first email
    // (the limiter counts every email, other orders' too) and the last email goes out as its window opens
    const windows = Math.ceil(expected / LIMIT);
    const least = Math.max(1, windows - 2);
    if (span < least * 1000)
      throw new ScenarioFailure(
        `${expected} emails went out in ${seconds(span)}; at ${LIMIT} a second they need ${windows} windows of the limiter, so at least ${least} s from first to last.`,
      );
    return `${ORDERS} orders, ${mails.length} emails spread over ${seconds(span)} (${counts.join(', ')} a second since the first) by the limit of ${LIMIT} a second; without it they would have gone out within a second, as fast as the orders settled.`;
  },
};
