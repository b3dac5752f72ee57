import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/** The payment and refund tables, with TypeORM's schema builder so it runs on SQLite and Postgres. */
export class CreatePaymentsTables1767312200000 implements MigrationInterface {
  name = 'CreatePaymentsTables1767312200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'payment',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          // one capture per order: a capture delivered twice, or raced by two instances, cannot charge twice
          { name: 'order_id', type: 'varchar', length: '36', isUnique: true },
          { name: 'amount', type: 'bigint' },
          { name: 'customer_email', type: 'varchar', length: '320' },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'captured_at', type: 'bigint' },
        ],
        indices: [new TableIndex({ name: 'IDX_payment_captured_at', columnNames: ['captured_at'] })],
      }),
      true,
    );
    await queryRunner.createTable(
      new Table({
        name: 'refund',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'payment_id', type: 'varchar', length: '36', isUnique: true },
          { name: 'order_id', type: 'varchar', length: '36' },
          { name: 'amount', type: 'bigint' },
          { name: 'reason', type: 'text' },
          { name: 'refunded_at', type: 'bigint' },
        ],
        indices: [new TableIndex({ name: 'IDX_refund_order_id', columnNames: ['order_id'] })],
      }),
      true,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('refund');
    await queryRunner.dropTable('payment');
  }
}
