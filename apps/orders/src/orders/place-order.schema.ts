import { Email, OrderId, OrderLine } from '@warren/contracts';
import { wholeNumber } from '@warren/service-kit';
import { z } from 'zod';

/** POST /orders body. */
export const PlaceOrderBody = z
  .object({
    customerEmail: Email,
    items: z.array(OrderLine).min(1, 'an order has at least one item').max(50, 'an order has at most 50 items'),
  })
  .strict()
  .superRefine((body, ctx) => {
    const seen = new Set<string>();
    body.items.forEach((line, i) => {
      if (seen.has(line.sku))
        ctx.addIssue({
          code: 'custom',
          path: ['items', i, 'sku'],
          message: `${line.sku} appears twice; put the quantities on one line`,
        });
      seen.add(line.sku);
    });
  });
export type PlaceOrderBody = z.infer<typeof PlaceOrderBody>;

/** GET /orders query; an unknown parameter is a 400 (a misspelt filter must not list every order). */
export const ListOrdersQuery = z.strictObject({
  status: z.enum(['PENDING', 'CONFIRMED', 'CANCELLED']).optional(),
  limit: wholeNumber(1, 100).default(20),
  offset: wholeNumber(0, 1_000_000).default(0),
});
export type ListOrdersQuery = z.output<typeof ListOrdersQuery>;

/** GET /orders/:id */
export const OrderParams = z.strictObject({ id: OrderId });

/** The same body hashes the same: keys sorted, so field order does not matter. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.keys(value as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}
