import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * payment.captured_by: the instance that captured the payment (WARREN_INSTANCE: payments, payments-2 …), so the
 * ledger shows how competing consumers shared the work. Rows from before it have none.
 */
export class AddPaymentCapturedBy1767400000000 implements MigrationInterface {
  name = 'AddPaymentCapturedBy1767400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn(
      'payment',
      new TableColumn({ name: 'captured_by', type: 'varchar', length: '64', isNullable: true }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('payment', 'captured_by');
  }
}
