import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintNumber } from '../inbox/bigint-number.transformer';

/**
 * Who may publish the outbox now. One row per relay group (`name`); a relay holds it while `owner` is its
 * id and `expires_at` is in the future, and takes it with a conditional UPDATE (see OutboxRelay).
 */
@Entity({ name: 'messaging_outbox_lease' })
export class OutboxLease {
  @PrimaryColumn({ name: 'name', type: 'varchar', length: 100 })
  name!: string;

  @Column({ name: 'owner', type: 'varchar', length: 255 })
  owner!: string;

  /** Epoch milliseconds, by the holder's clock. */
  @Column({ name: 'expires_at', type: 'bigint', transformer: bigintNumber })
  expiresAt!: number;
}
