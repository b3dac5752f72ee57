import { defineMessage, type Payload } from '@warren/messaging';
import { z } from 'zod';
import { Cents, Deadline, Expired, OrderId, OrderLine, PricedLine, Sku } from './common';

// Commands to inventory, on `warren.commands` with routing key `inventory.<command>`.

/** Reserve every line or none. Taken at or after its `deadline`, it reserves nothing and is answered stock-rejected with `expired`. */
export const ReserveStock = defineMessage(
  'inventory.reserve-stock',
  z.object({ orderId: OrderId, items: z.array(OrderLine).min(1), deadline: Deadline }),
);
export type ReserveStock = Payload<typeof ReserveStock>;

/** Compensation: give back what was reserved for the order (a no-op when nothing is). */
export const ReleaseStock = defineMessage(
  'inventory.release-stock',
  z.object({ orderId: OrderId, reason: z.string().min(1) }),
);
export type ReleaseStock = Payload<typeof ReleaseStock>;

/** The order is confirmed: reserved stock leaves the warehouse. */
export const CommitStock = defineMessage('inventory.commit-stock', z.object({ orderId: OrderId }));
export type CommitStock = Payload<typeof CommitStock>;

// Events inventory publishes in answer, on `warren.events`.

export const StockReserved = defineMessage(
  'inventory.stock-reserved',
  z.object({ orderId: OrderId, items: z.array(PricedLine).min(1), total: Cents }),
);
export type StockReserved = Payload<typeof StockReserved>;

/**
 * A business answer, not a failure: there is not enough stock for every line, the order's reservation was released
 * already, or (`expired` set, `unavailable` empty) the reserve came after its deadline. Nothing is reserved.
 */
export const StockRejected = defineMessage(
  'inventory.stock-rejected',
  z.object({
    orderId: OrderId,
    reason: z.string(),
    unavailable: z.array(z.object({ sku: Sku, requested: z.number().int(), available: z.number().int() })),
    expired: Expired.optional(),
  }),
);
export type StockRejected = Payload<typeof StockRejected>;

export const StockReleased = defineMessage('inventory.stock-released', z.object({ orderId: OrderId }));
export type StockReleased = Payload<typeof StockReleased>;
