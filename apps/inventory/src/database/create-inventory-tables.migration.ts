import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';
import { SEED_CATALOGUE } from '../stock/catalogue';
import { StockItem } from '../stock/stock-item.entity';

/** The stock and reservation tables (TypeORM's schema builder: SQLite and Postgres), and the seeded catalogue. */
export class CreateInventoryTables1767312100000 implements MigrationInterface {
  name = 'CreateInventoryTables1767312100000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'stock_item',
        columns: [
          { name: 'sku', type: 'varchar', length: '32', isPrimary: true },
          { name: 'name', type: 'varchar', length: '200' },
          { name: 'unit_price', type: 'integer' },
          { name: 'available', type: 'integer' },
          { name: 'reserved', type: 'integer' },
        ],
        checks: [
          { name: 'CHK_stock_item_non_negative', expression: 'available >= 0 AND reserved >= 0 AND unit_price >= 0' },
        ],
      }),
      true,
    );
    await queryRunner.createTable(
      new Table({
        name: 'reservation',
        columns: [
          { name: 'order_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'lines', type: 'text' },
          { name: 'total', type: 'integer' },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'created_at', type: 'bigint' },
          { name: 'updated_at', type: 'bigint' },
        ],
      }),
      true,
    );
    await queryRunner.manager
      .createQueryBuilder()
      .insert()
      .into(StockItem)
      .values(SEED_CATALOGUE.map((c) => ({ ...c, reserved: 0 })))
      .execute();
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('reservation');
    await queryRunner.dropTable('stock_item');
  }
}
