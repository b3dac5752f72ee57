import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { bigintNumber } from '@warren/messaging/typeorm';

/** The saga's history: one row appended per step, never updated. */
@Entity({ name: 'order_steps' })
export class OrderStep {
  @PrimaryGeneratedColumn('increment', { name: 'id', type: 'integer' })
  id!: number;

  @Column({ name: 'order_id', type: 'varchar', length: 36 })
  orderId!: string;

  @Column({ name: 'step', type: 'varchar', length: 40 })
  step!: string;

  @Column({ name: 'at', type: 'bigint', transformer: bigintNumber })
  at!: number;

  /** JSON object with what the step carried (total, reason, payment id, compensations sent). */
  @Column({ name: 'detail', type: 'text', nullable: true })
  detail!: string | null;
}
