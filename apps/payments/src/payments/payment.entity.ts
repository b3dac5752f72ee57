import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintNumber } from '@warren/messaging/typeorm';

export const PaymentStatus = {
  Captured: 'CAPTURED',
  Refunded: 'REFUNDED',
  /** A refund came before any capture: the order is closed for payment, and a late capture is declined. */
  Voided: 'VOIDED',
} as const;
export type PaymentStatus = (typeof PaymentStatus)[keyof typeof PaymentStatus];

/** The capture of one order. `order_id` is unique: an order is charged at most once. */
@Entity({ name: 'payment' })
export class Payment {
  @PrimaryColumn({ name: 'id', type: 'varchar', length: 36 })
  id!: string;

  @Column({ name: 'order_id', type: 'varchar', length: 36, unique: true })
  orderId!: string;

  /** Integer cents. */
  @Column({ name: 'amount', type: 'bigint', transformer: bigintNumber })
  amount!: number;

  @Column({ name: 'customer_email', type: 'varchar', length: 320 })
  customerEmail!: string;

  @Column({ name: 'status', type: 'varchar', length: 16 })
  status!: PaymentStatus;

  @Column({ name: 'captured_at', type: 'bigint', transformer: bigintNumber })
  capturedAt!: number;

  /** The instance that wrote the row (WARREN_INSTANCE, e.g. payments-2); null on rows from before it was kept. */
  @Column({ name: 'captured_by', type: 'varchar', length: 64, nullable: true })
  capturedBy!: string | null;
}

/** A refund of one payment. `payment_id` is unique: a payment is refunded at most once. */
@Entity({ name: 'refund' })
export class Refund {
  @PrimaryColumn({ name: 'id', type: 'varchar', length: 36 })
  id!: string;

  @Column({ name: 'payment_id', type: 'varchar', length: 36, unique: true })
  paymentId!: string;

  @Column({ name: 'order_id', type: 'varchar', length: 36 })
  orderId!: string;

  /** Integer cents. */
  @Column({ name: 'amount', type: 'bigint', transformer: bigintNumber })
  amount!: number;

  @Column({ name: 'reason', type: 'text' })
  reason!: string;

  @Column({ name: 'refunded_at', type: 'bigint', transformer: bigintNumber })
  refundedAt!: number;
}
