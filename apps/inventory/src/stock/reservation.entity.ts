import type { PricedLine } from '@warren/contracts';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintNumber } from '@warren/messaging/typeorm';

export const ReservationStatus = { Reserved: 'RESERVED', Released: 'RELEASED', Committed: 'COMMITTED' } as const;
export type ReservationStatus = (typeof ReservationStatus)[keyof typeof ReservationStatus];

/** What is held for one order. A release that comes before any reservation leaves a RELEASED row with no lines, so a late reserve is refused. */
@Entity({ name: 'reservation' })
export class Reservation {
  @PrimaryColumn({ name: 'order_id', type: 'varchar', length: 36 })
  orderId!: string;

  /** JSON: PricedLine[] (one line per SKU). */
  @Column({
    name: 'lines',
    type: 'text',
    transformer: { to: (v: PricedLine[]) => JSON.stringify(v), from: (v: string) => JSON.parse(v) as PricedLine[] },
  })
  lines!: PricedLine[];

  /** Integer cents. */
  @Column({ name: 'total', type: 'integer' })
  total!: number;

  @Column({ name: 'status', type: 'varchar', length: 16 })
  status!: ReservationStatus;

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintNumber })
  createdAt!: number;

  @Column({ name: 'updated_at', type: 'bigint', transformer: bigintNumber })
  updatedAt!: number;
}
