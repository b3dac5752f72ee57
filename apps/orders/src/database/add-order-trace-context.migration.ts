import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * orders.trace_context: the W3C traceparent of the span the order's latest step ran in (null when tracing is
 * off), so a step no message drives (the deadline) continues the order's trace. Orders from before it have none.
 */
export class AddOrderTraceContext1767500000000 implements MigrationInterface {
  name = 'AddOrderTraceContext1767500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn(
      'orders',
      new TableColumn({ name: 'trace_context', type: 'varchar', length: '55', isNullable: true }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('orders', 'trace_context');
  }
}
