import { z } from 'zod';

export const OrderId = z.string().uuid();
export const Sku = z.string().regex(/^SKU-\d{3,}$/, 'a SKU looks like SKU-001');
export const Email = z.string().email();
/** Money in integer cents: no floating point in amounts that are charged and refunded. */
export const Cents = z.number().int().nonnegative();

export const OrderLine = z.object({ sku: Sku, quantity: z.number().int().positive().max(1000) });
export type OrderLine = z.infer<typeof OrderLine>;

/** A line once inventory has priced it. */
export const PricedLine = OrderLine.extend({ unitPrice: Cents });
export type PricedLine = z.infer<typeof PricedLine>;

/** ISO-8601 instant. */
export const Instant = z.string().datetime();

/**
 * A command's deadline (ISO-8601): the saga's deadline for the step that sent it. A service that takes the command
 * at or after this instant does not act on it and answers that it refused it (its answer's `expired`): the saga
 * has given up on the step by then, or is about to, and would only have to undo what the service did (late
 * commands, docs/architecture.md). Optional, so that a command from before deadlines existed still parses (it is
 * acted on whenever it comes), and a service from before then ignores the field (zod drops unknown keys).
 */
export const Deadline = Instant.optional();

/**
 * In an answer: the command was refused because its deadline had passed, and nothing was done for it. `deadline`
 * is the one the command carried, `at` when the service took the command (so the history shows how late it was).
 */
export const Expired = z.object({ deadline: Instant, at: Instant });
export type Expired = z.infer<typeof Expired>;

/**
 * Whether a command with this deadline is late when taken at `now` (epoch ms): the `expired` for its answer, or
 * undefined when it is in time or has no deadline. At the deadline itself it is late already: the saga's sweeper
 * cancels an order whose deadline is not after now.
 */
export function expiry(deadline: string | undefined, now: number = Date.now()): Expired | undefined {
  if (deadline === undefined || Date.parse(deadline) > now) return undefined;
  return { deadline, at: new Date(now).toISOString() };
}
