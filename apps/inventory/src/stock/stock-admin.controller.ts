import {
  Body,
  ConflictException,
  Controller,
  HttpCode,
  Inject,
  NotFoundException,
  Param,
  Post,
  UseGuards,
} from '@nestjs/common';
import { Sku } from '@warren/contracts';
import { AdminGuard, ZodBodyPipe, ZodParamsPipe } from '@warren/service-kit';
import { z } from 'zod';
import { MAX_STOCK, StockService } from './stock.service';

const RestockParams = z.strictObject({ sku: Sku });
const RestockBody = z.strictObject({ quantity: z.number().int().min(1).max(1_000_000_000) });

/** Stock changes made by hand (goods arriving, a benchmark's unlimited stock). Admin only: ADMIN_TOKEN (see README). */
@Controller('admin/stock')
@UseGuards(AdminGuard)
export class StockAdminController {
  constructor(@Inject(StockService) private readonly stock: StockService) {}

  /**
   * `{ "quantity": n }` units arrive: `available` grows by n. Answers the SKU's stock; 404 for an unknown SKU, 409
   * when `available` would pass MAX_STOCK.
   */
  @Post(':sku/restock')
  @HttpCode(200)
  async restock(
    @Param(new ZodParamsPipe(RestockParams)) { sku }: z.output<typeof RestockParams>,
    @Body(new ZodBodyPipe(RestockBody)) { quantity }: z.output<typeof RestockBody>,
  ) {
    const item = await this.stock.restock(sku, quantity);
    if ('refused' in item) {
      if (item.refused === 'unknown') throw new NotFoundException(`no SKU ${sku} in the catalogue`);
      throw new ConflictException(
        `restocking ${quantity} units of ${sku} would make ${item.available + quantity} available, past ${MAX_STOCK}, the most the stock holds`,
      );
    }
    return {
      sku: item.sku,
      name: item.name,
      unitPrice: item.unitPrice,
      available: item.available,
      reserved: item.reserved,
    };
  }
}
