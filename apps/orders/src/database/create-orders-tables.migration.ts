import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/** The orders and order_steps tables, with TypeORM's schema builder so it runs on SQLite and Postgres. */
export class CreateOrdersTables1767312000000 implements MigrationInterface {
  name = 'CreateOrdersTables1767312000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'orders',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'customer_email', type: 'varchar', length: '320' },
          { name: 'items', type: 'text' },
          { name: 'priced_items', type: 'text', isNullable: true },
          { name: 'total', type: 'bigint', isNullable: true },
          { name: 'status', type: 'varchar', length: '20' },
          { name: 'saga_state', type: 'varchar', length: '30' },
          { name: 'reason', type: 'text', isNullable: true },
          { name: 'payment_id', type: 'varchar', length: '64', isNullable: true },
          { name: 'deadline_at', type: 'bigint', isNullable: true },
          { name: 'idempotency_key', type: 'varchar', length: '255', isNullable: true, isUnique: true },
          { name: 'request_hash', type: 'varchar', length: '64', isNullable: true },
          { name: 'version', type: 'integer' },
          { name: 'created_at', type: 'bigint' },
          { name: 'updated_at', type: 'bigint' },
        ],
        indices: [
          // GET /orders?status=…: newest first
          new TableIndex({ name: 'IDX_orders_status_created', columnNames: ['status', 'created_at'] }),
          new TableIndex({ name: 'IDX_orders_created', columnNames: ['created_at'] }),
          // the sweeper: sagas past their deadline
          new TableIndex({ name: 'IDX_orders_deadline', columnNames: ['deadline_at'] }),
        ],
      }),
      true,
    );
    await queryRunner.createTable(
      new Table({
        name: 'order_steps',
        columns: [
          { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          { name: 'order_id', type: 'varchar', length: '36' },
          { name: 'step', type: 'varchar', length: '40' },
          { name: 'at', type: 'bigint' },
          { name: 'detail', type: 'text', isNullable: true },
        ],
        indices: [new TableIndex({ name: 'IDX_order_steps_order', columnNames: ['order_id', 'id'] })],
      }),
      true,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('order_steps');
    await queryRunner.dropTable('orders');
  }
}
