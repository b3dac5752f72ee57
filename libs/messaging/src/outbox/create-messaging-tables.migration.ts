import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Creates the inbox, outbox and outbox lease tables. Written with TypeORM's schema builder (not SQL) so
 * the same migration runs on SQLite, Postgres and MySQL. List it in the service's own `migrations`:
 *
 *   new DataSource({ ..., entities: [...messagingEntities, ...], migrations: [...messagingMigrations, ...] })
 */
export class CreateMessagingTables1767225600000 implements MigrationInterface {
  name = 'CreateMessagingTables1767225600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'messaging_inbox',
        columns: [
          { name: 'consumer', type: 'varchar', length: '255', isPrimary: true },
          { name: 'message_id', type: 'varchar', length: '255', isPrimary: true },
          { name: 'processed_at', type: 'bigint' },
        ],
        indices: [new TableIndex({ name: 'IDX_messaging_inbox_processed_at', columnNames: ['processed_at'] })],
      }),
      true,
    );
    await queryRunner.createTable(
      new Table({
        name: 'messaging_outbox',
        columns: [
          { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          { name: 'message_id', type: 'varchar', length: '255', isUnique: true },
          { name: 'aggregate_id', type: 'varchar', length: '255', isNullable: true },
          { name: 'exchange', type: 'varchar', length: '255' },
          { name: 'routing_key', type: 'varchar', length: '255' },
          { name: 'type', type: 'varchar', length: '255' },
          { name: 'payload', type: 'text' },
          { name: 'headers', type: 'text' },
          { name: 'correlation_id', type: 'varchar', length: '255' },
          { name: 'causation_id', type: 'varchar', length: '255', isNullable: true },
          { name: 'created_at', type: 'bigint' },
          { name: 'attempts', type: 'integer', default: 0 },
          { name: 'last_error', type: 'text', isNullable: true },
          { name: 'next_attempt_at', type: 'bigint', default: 0 },
          { name: 'published_at', type: 'bigint', isNullable: true },
        ],
        indices: [
          // the relay's scan: unpublished rows in id order
          new TableIndex({ name: 'IDX_messaging_outbox_pending', columnNames: ['published_at', 'id'] }),
          // "is an earlier row of this aggregate still pending?"
          new TableIndex({ name: 'IDX_messaging_outbox_aggregate', columnNames: ['aggregate_id', 'id'] }),
        ],
      }),
      true,
    );
    await queryRunner.createTable(
      new Table({
        name: 'messaging_outbox_lease',
        columns: [
          { name: 'name', type: 'varchar', length: '100', isPrimary: true },
          { name: 'owner', type: 'varchar', length: '255' },
          { name: 'expires_at', type: 'bigint' },
        ],
      }),
      true,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('messaging_outbox_lease', true);
    await queryRunner.dropTable('messaging_outbox', true, true, true);
    await queryRunner.dropTable('messaging_inbox', true, true, true);
  }
}
