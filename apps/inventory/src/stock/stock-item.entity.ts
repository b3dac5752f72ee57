import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One SKU of the catalogue: its price and how many units are free (`available`) or held for orders (`reserved`). */
@Entity({ name: 'stock_item' })
export class StockItem {
  @PrimaryColumn({ name: 'sku', type: 'varchar', length: 32 })
  sku!: string;

  @Column({ name: 'name', type: 'varchar', length: 200 })
  name!: string;

  /** Integer cents. */
  @Column({ name: 'unit_price', type: 'integer' })
  unitPrice!: number;

  @Column({ name: 'available', type: 'integer' })
  available!: number;

  @Column({ name: 'reserved', type: 'integer' })
  reserved!: number;
}
