import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintNumber } from '@warren/messaging/typeorm';
import type { OrderStatus, SagaState } from './order-status';

/**
 * One order and its saga's state. Column types are spelled out: the bundle (esbuild) emits no decorator
 * metadata. `version` guards every saga transition (a conditional UPDATE), so two deliveries racing on the
 * same order, or a delivery racing the deadline sweeper, cannot both apply.
 */
@Entity({ name: 'orders' })
export class Order {
  @PrimaryColumn({ name: 'id', type: 'varchar', length: 36 })
  id!: string;

  @Column({ name: 'customer_email', type: 'varchar', length: 320 })
  customerEmail!: string;

  /** The lines as ordered, JSON: [{ sku, quantity }]. */
  @Column({ name: 'items', type: 'text' })
  items!: string;

  /** The lines as inventory priced them, JSON, once reserved. */
  @Column({ name: 'priced_items', type: 'text', nullable: true })
  pricedItems!: string | null;

  /** In cents, once inventory priced the order. */
  @Column({ name: 'total', type: 'bigint', nullable: true, transformer: bigintNumber })
  total!: number | null;

  @Column({ name: 'status', type: 'varchar', length: 20 })
  status!: OrderStatus;

  @Column({ name: 'saga_state', type: 'varchar', length: 30 })
  sagaState!: SagaState;

  @Column({ name: 'reason', type: 'text', nullable: true })
  reason!: string | null;

  @Column({ name: 'payment_id', type: 'varchar', length: 64, nullable: true })
  paymentId!: string | null;

  /** Epoch ms by which the awaited answer must have come; null once the saga is settled. */
  @Column({ name: 'deadline_at', type: 'bigint', nullable: true, transformer: bigintNumber })
  deadlineAt!: number | null;

  @Column({ name: 'idempotency_key', type: 'varchar', length: 255, nullable: true })
  idempotencyKey!: string | null;

  /** sha256 of the request body the idempotency key was first used with. */
  @Column({ name: 'request_hash', type: 'varchar', length: 64, nullable: true })
  requestHash!: string | null;

  /** The traceparent of the span the latest step ran in, which a deadline timeout continues; null with tracing off. */
  @Column({ name: 'trace_context', type: 'varchar', length: 55, nullable: true })
  traceContext!: string | null;

  @Column({ name: 'version', type: 'integer' })
  version!: number;

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintNumber })
  createdAt!: number;

  @Column({ name: 'updated_at', type: 'bigint', transformer: bigintNumber })
  updatedAt!: number;
}
