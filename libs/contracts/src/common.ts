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
