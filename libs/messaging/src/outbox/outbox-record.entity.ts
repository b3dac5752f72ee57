import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { bigintNumber } from '../inbox/bigint-number.transformer';

/**
 * A message waiting to be published, written in the same transaction as the business change it reports.
 * Every id and the trace context are fixed when the row is written (stampMessage), so the relay publishes
 * exactly what the transaction produced, however late. Times are epoch milliseconds.
 */
@Entity({ name: 'messaging_outbox' })
@Index('IDX_messaging_outbox_pending', ['publishedAt', 'id'])
@Index('IDX_messaging_outbox_aggregate', ['aggregateId', 'id'])
export class OutboxRecord {
  /**
   * Publication order: per aggregate, rows are published in id order. INTEGER so the same entity builds
   * on SQLite (AUTOINCREMENT needs it) and Postgres (SERIAL): 2^31 rows over the table's life. A service
   * that writes more can ALTER it to BIGINT on Postgres (the relay only hands ids back to the database).
   */
  @PrimaryGeneratedColumn('increment', { name: 'id', type: 'integer' })
  id!: number;

  @Column({ name: 'message_id', type: 'varchar', length: 255, unique: true })
  messageId!: string;

  /** Rows with the same aggregate id are published one after the other, in order; null: no ordering. */
  @Column({ name: 'aggregate_id', type: 'varchar', length: 255, nullable: true })
  aggregateId!: string | null;

  @Column({ name: 'exchange', type: 'varchar', length: 255 })
  exchange!: string;

  @Column({ name: 'routing_key', type: 'varchar', length: 255 })
  routingKey!: string;

  @Column({ name: 'type', type: 'varchar', length: 255 })
  type!: string;

  /** The body, JSON text exactly as it will be sent. */
  @Column({ name: 'payload', type: 'text' })
  payload!: string;

  /** AMQP headers as JSON text: traceparent, tracestate, x-causation-id and the caller's own. */
  @Column({ name: 'headers', type: 'text' })
  headers!: string;

  @Column({ name: 'correlation_id', type: 'varchar', length: 255 })
  correlationId!: string;

  @Column({ name: 'causation_id', type: 'varchar', length: 255, nullable: true })
  causationId!: string | null;

  /** The message timestamp (when the transaction wrote it), published as the AMQP timestamp. */
  @Column({ name: 'created_at', type: 'bigint', transformer: bigintNumber })
  createdAt!: number;

  /** Failed publish attempts so far. */
  @Column({ name: 'attempts', type: 'integer', default: 0 })
  attempts!: number;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  /** Not before this time (backoff after a failed attempt). */
  @Column({ name: 'next_attempt_at', type: 'bigint', default: 0, transformer: bigintNumber })
  nextAttemptAt!: number;

  /** Set when the broker confirmed it; published rows are deleted after the relay's retention window. */
  @Column({ name: 'published_at', type: 'bigint', nullable: true, transformer: bigintNumber })
  publishedAt!: number | null;
}
