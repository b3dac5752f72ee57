import { defineMessage, type Payload } from '@warren/messaging';
import { z } from 'zod';
import { Cents, Email, OrderId } from './common';

// Commands to payments, on `warren.commands` with routing key `payments.<command>`.

export const CapturePayment = defineMessage('payments.capture-payment', z.object({ orderId: OrderId, amount: Cents, customerEmail: Email }));
export type CapturePayment = Payload<typeof CapturePayment>;

/** Compensation: refund what was captured for the order (a no-op when nothing was). */
export const RefundPayment = defineMessage('payments.refund-payment', z.object({ orderId: OrderId, reason: z.string().min(1) }));
export type RefundPayment = Payload<typeof RefundPayment>;

// Events payments publishes in answer, on `warren.events`.

export const PaymentCaptured = defineMessage('payment.captured', z.object({ orderId: OrderId, paymentId: z.string().uuid(), amount: Cents }));
export type PaymentCaptured = Payload<typeof PaymentCaptured>;

/** A business answer (the card was declined): never retried. */
export const PaymentDeclined = defineMessage('payment.declined', z.object({ orderId: OrderId, reason: z.string() }));
export type PaymentDeclined = Payload<typeof PaymentDeclined>;

export const PaymentRefunded = defineMessage('payment.refunded', z.object({ orderId: OrderId, paymentId: z.string().uuid(), amount: Cents }));
export type PaymentRefunded = Payload<typeof PaymentRefunded>;
