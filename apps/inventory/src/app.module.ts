import { Module } from '@nestjs/common';
import { ServiceModule } from '@warren/service-kit';
import { CreateInventoryTables1767312100000 } from './database/create-inventory-tables.migration';
import { Reservation } from './stock/reservation.entity';
import { StockCommandsController } from './stock/stock-commands.controller';
import { StockItem } from './stock/stock-item.entity';
import { StockController } from './stock/stock.controller';
import { StockAdminController } from './stock/stock-admin.controller';
import { StockService } from './stock/stock.service';

export const INVENTORY = { name: 'inventory', defaultPort: 3003 } as const;

@Module({
  imports: [
    ServiceModule.forRoot({
      ...INVENTORY,
      entities: [StockItem, Reservation],
      migrations: [CreateInventoryTables1767312100000],
      queue: 'inventory.commands',
      retry: { maxAttempts: 5, initialDelayMs: 500, multiplier: 2, maxDelayMs: 10_000 },
    }),
  ],
  controllers: [StockController, StockAdminController, StockCommandsController],
  providers: [StockService],
})
export class AppModule {}
