import { defineMessage, type Payload } from '@warren/messaging';
import { z } from 'zod';
import { Cents, Deadline, Email, Expired, OrderId } from './common';

// Commands to payments, on `warren.commands` with routing key `payments.<command>`.

/** Charge the order. Taken at or after its `deadline`, it charges nothing and is answered payment.declined with `expired`. */
export const CapturePayment = defineMessage(
  'payments.capture-payment',
  z.object({ orderId: OrderId, amount: Cents, customerEmail: Email, deadline: Deadline }),
);
export type CapturePayment = Payload<typeof CapturePayment>;

/** Compensation: refund what was captured for the order (a no-op when nothing was). */
export const RefundPayment = defineMessage(
  'payments.refund-payment',
  z.object({ orderId: OrderId, reason: z.string().min(1) }),
);
export type RefundPayment = Payload<typeof RefundPayment>;

// Events payments publishes in answer, on `warren.events`.

export const PaymentCaptured = defineMessage(
  'payment.captured',
  z.object({ orderId: OrderId, paymentId: z.string().uuid(), amount: Cents }),
);
export type PaymentCaptured = Payload<typeof PaymentCaptured>;

/**
 * A business answer: the card was declined, the order was cancelled before its payment, or (`expired` set) the
 * capture came after its deadline. Nothing was charged; never retried.
 */
export const PaymentDeclined = defineMessage(
  'payment.declined',
  z.object({ orderId: OrderId, reason: z.string(), expired: Expired.optional() }),
);
export type PaymentDeclined = Payload<typeof PaymentDeclined>;

export const PaymentRefunded = defineMessage(
  'payment.refunded',
  z.object({ orderId: OrderId, paymentId: z.string().uuid(), amount: Cents }),
);
export type PaymentRefunded = Payload<typeof PaymentRefunded>;
