import type { Scenario } from './scenario';
import { ScenarioFailure } from './scenario-failure.error';
import { addressFor, seconds, settled, skuFor } from './scenario-steps';

/** Decoupling: a saga across services that share only messages, one order through and one compensated. */
export const sagaScenario: Scenario = {
  id: 'saga',
  title: 'Saga across services',
  shows:
    'Orders, inventory and payments share only messages: one order goes through reserve → capture → confirm, one that cannot be filled is cancelled and nothing is charged.',
  budgetMs: 60_000,
  async run(ctx) {
    const sku = await skuFor(ctx, 1);
    const email = addressFor(ctx, 'saga');
    ctx.say(
      `Placing an order for 1 × ${sku} through POST /orders. Orders answers at once (PENDING) and drives the rest with messages.`,
      'orders',
    );
    const started = Date.now();
    const good = await ctx.platform.placeOrder(email, [{ sku, quantity: 1 }]);
    const [done] = await settled(ctx, [good.id]);
    const tookGood = Date.now() - started;
    if (done.status !== 'CONFIRMED')
      throw new ScenarioFailure(`Order ${good.id} was ${done.status} (${done.reason ?? 'no reason'}), not CONFIRMED.`);
    ctx.say(
      `Order ${good.id.slice(0, 8)} CONFIRMED in ${seconds(tookGood)}: ${done.history.map((h) => h.step).join(' → ')}.`,
      'orders',
    );

    const stock = (await ctx.platform.stock()).find((s) => s.sku === sku);
    const tooMany = 1000;
    if (!stock || stock.available >= tooMany)
      throw new ScenarioFailure(
        `${sku} has ${stock?.available ?? '?'} units; an order of ${tooMany} would not be short of stock.`,
      );
    ctx.say(
      `Now an order that cannot be filled: ${tooMany} × ${sku} (${stock.available} available). Inventory refuses the reservation; the saga cancels.`,
      'orders',
    );
    const bad = await ctx.platform.placeOrder(email, [{ sku, quantity: tooMany }]);
    const [cancelled] = await settled(ctx, [bad.id]);
    if (cancelled.status !== 'CANCELLED')
      throw new ScenarioFailure(`Order ${bad.id} was ${cancelled.status}, not CANCELLED.`);
    ctx.say(
      `Order ${bad.id.slice(0, 8)} CANCELLED: ${cancelled.reason ?? 'no reason given'} (${cancelled.history.map((h) => h.step).join(' → ')}).`,
      'orders',
    );

    const ledger = await ctx.platform.ledger();
    const charged = ledger.filter((e) => e.kind === 'capture' && e.orderId === bad.id).length;
    const captured = ledger.filter((e) => e.kind === 'capture' && e.orderId === good.id).length;
    ctx.say(
      `The payments ledger: ${captured} capture for the confirmed order, ${charged} for the cancelled one.`,
      'ledger',
    );
    if (captured !== 1 || charged !== 0)
      throw new ScenarioFailure(
        `Expected 1 capture for the confirmed order and none for the cancelled one; the ledger has ${captured} and ${charged}.`,
      );
    return `2 orders, no shared database: 1 CONFIRMED in ${seconds(tookGood)} through ${done.history.length} saga steps and charged once, 1 CANCELLED (${cancelled.reason ?? 'out of stock'}) with nothing charged.`;
  },
};
