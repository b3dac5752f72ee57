import type { ScenarioContext } from './scenario';

/*
 * The payments instances and their ledgers. In the demo each instance has a database of its own, so the
 * captures of all of them are read from each one's GET /payments; with a shared database (compose, Postgres)
 * the same capture is listed by each, and is counted once (by its payment id).
 */

export interface PaymentsInstance {
  name: string;
  url: string;
}

const PAYMENTS = /^payments(-\d+)?$/;

/** Every payments instance the demo's control API lists; without it, the one PAYMENTS_URL names. */
export async function paymentsInstances(ctx: ScenarioContext): Promise<PaymentsInstance[]> {
  if (ctx.config.controlUrl && ctx.config.adminToken) {
    const listed = (await ctx.controls.processes()).filter(
      (p) => PAYMENTS.test(p.name) && p.url && p.state !== 'stopped' && p.state !== 'failed',
    );
    if (listed.length) return listed.map((p) => ({ name: p.name, url: p.url! }));
  }
  return [{ name: 'payments', url: ctx.config.paymentsUrl }];
}

export interface Capture {
  orderId: string;
  paymentId: string;
  /** The instance that captured it (recorded by payments; else the instance whose ledger lists it). */
  instance: string;
}

/** The captures of the given orders across every payments instance, each payment once. */
export async function capturesOf(
  ctx: ScenarioContext,
  orderIds: string[],
  instances?: PaymentsInstance[],
): Promise<Capture[]> {
  const wanted = new Set(orderIds);
  const seen = new Map<string, Capture>();
  for (const instance of instances ?? (await paymentsInstances(ctx))) {
    for (const e of await ctx.platform.ledger(instance.url)) {
      if (e.kind === 'capture' && wanted.has(e.orderId) && !seen.has(e.paymentId))
        seen.set(e.paymentId, { orderId: e.orderId, paymentId: e.paymentId, instance: e.instance ?? instance.name });
    }
  }
  return [...seen.values()];
}

/** Orders captured more than once (none, if all is well) and orders not captured at all. */
export function chargedOnce(orderIds: string[], captures: Capture[]): { twice: string[]; never: string[] } {
  const count = new Map<string, number>();
  for (const c of captures) count.set(c.orderId, (count.get(c.orderId) ?? 0) + 1);
  return { twice: orderIds.filter((id) => (count.get(id) ?? 0) > 1), never: orderIds.filter((id) => !count.has(id)) };
}
