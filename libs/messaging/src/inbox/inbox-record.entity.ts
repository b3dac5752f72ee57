import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintNumber } from './bigint-number.transformer';

/**
 * One handled message per consumer: the row is inserted in the same transaction as the handler's own
 * writes, so "handled" and "its effects" commit (or roll back) together. The primary key is what turns a
 * redelivery into a no-op. Column types are spelled out (no reflected metadata), so bundlers without
 * decorator metadata (esbuild) build the same schema.
 */
@Entity({ name: 'messaging_inbox' })
@Index('IDX_messaging_inbox_processed_at', ['processedAt'])
export class InboxRecord {
  /** Who handled it: usually the queue name (`payments.order-placed`), so two services never collide. */
  @PrimaryColumn({ name: 'consumer', type: 'varchar', length: 255 })
  consumer!: string;

  @PrimaryColumn({ name: 'message_id', type: 'varchar', length: 255 })
  messageId!: string;

  /** Epoch milliseconds; prune() deletes by it. */
  @Column({ name: 'processed_at', type: 'bigint', transformer: bigintNumber })
  processedAt!: number;
}
