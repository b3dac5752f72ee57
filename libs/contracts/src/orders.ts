import { defineMessage, type Payload } from '@warren/messaging';
import { z } from 'zod';
import { Cents, Email, Instant, OrderId, OrderLine, PricedLine } from './common';

// Domain events of the orders context, on `warren.events` with the type as routing key.

export const OrderPlaced = defineMessage(
  'order.placed',
  z.object({ orderId: OrderId, customerEmail: Email, items: z.array(OrderLine).min(1), placedAt: Instant }),
);
export type OrderPlaced = Payload<typeof OrderPlaced>;

export const OrderConfirmed = defineMessage(
  'order.confirmed',
  z.object({
    orderId: OrderId,
    customerEmail: Email,
    items: z.array(PricedLine).min(1),
    total: Cents,
    confirmedAt: Instant,
  }),
);
export type OrderConfirmed = Payload<typeof OrderConfirmed>;

export const OrderCancelled = defineMessage(
  'order.cancelled',
  z.object({ orderId: OrderId, customerEmail: Email, reason: z.string().min(1), cancelledAt: Instant }),
);
export type OrderCancelled = Payload<typeof OrderCancelled>;
