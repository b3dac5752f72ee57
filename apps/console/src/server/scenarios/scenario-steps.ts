import type { PlacedOrder } from './platform-client';
import type { ScenarioContext } from './scenario';
import { ScenarioFailure } from './scenario-failure.error';

/*
 * Steps several scenarios share: placing real orders through the orders API and waiting for them to settle.
 * Orders take stock, so each scenario orders one unit of whatever the shop has most of.
 */

/** The SKU to order `count` units of, one per order; fails clearly when the shop has run out. */
export async function skuFor(ctx: ScenarioContext, count: number): Promise<string> {
  const sku = await ctx.platform.roomiestSku(count);
  if (!sku)
    throw new ScenarioFailure(
      `The shop has no SKU with ${count} units left; restart the demo with fresh data (rm -r .data) to restock it.`,
    );
  return sku.sku;
}

/** Places `count` orders of one unit, a few at a time, to `email`; returns their ids in the order placed. */
export async function placeOrders(
  ctx: ScenarioContext,
  count: number,
  email: string,
  sku: string,
  parallel = 10,
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += parallel) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(parallel, count - i) }, () =>
        ctx.platform.placeOrder(email, [{ sku, quantity: 1 }]),
      ),
    );
    ids.push(...batch.map((o) => o.id));
  }
  return ids;
}

/** Waits until every order is CONFIRMED or CANCELLED; returns them in the same order. */
export async function settled(ctx: ScenarioContext, ids: string[], timeoutMs = 60_000): Promise<PlacedOrder[]> {
  const done = new Map<string, PlacedOrder>();
  return ctx.waitFor(
    `${ids.length === 1 ? 'the order' : `all ${ids.length} orders`} to settle`,
    async () => {
      const open = ids.filter((id) => !done.has(id));
      const now = await Promise.all(open.map((id) => ctx.platform.order(id)));
      for (const o of now) if (o.status !== 'PENDING') done.set(o.id, o);
      return done.size === ids.length ? ids.map((id) => done.get(id)!) : undefined;
    },
    timeoutMs,
    300,
  );
}

/** "3 confirmed" / "2 confirmed, 1 cancelled (out of stock: SKU-012 …)" */
export function outcome(orders: PlacedOrder[]): string {
  const confirmed = orders.filter((o) => o.status === 'CONFIRMED').length;
  const cancelled = orders.filter((o) => o.status === 'CANCELLED');
  return cancelled.length
    ? `${confirmed} confirmed, ${cancelled.length} cancelled (${cancelled[0].reason ?? 'no reason given'})`
    : `${confirmed} confirmed`;
}

/** Milliseconds as "0.4 s". */
export const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** A unique address for a run's emails, so its emails can be told from everyone else's. */
export const addressFor = (ctx: ScenarioContext, purpose: string): string => `${purpose}-${ctx.runId}@example.com`;
