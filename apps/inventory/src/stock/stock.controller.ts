import { Controller, Get, Inject, NotFoundException, Param } from '@nestjs/common';
import { OrderId } from '@warren/contracts';
import { ZodParamsPipe } from '@warren/service-kit';
import { z } from 'zod';
import { StockService } from './stock.service';

const ReservationParams = z.strictObject({ orderId: OrderId });

@Controller()
export class StockController {
  constructor(@Inject(StockService) private readonly stock: StockService) {}

  /** docs/architecture.md (HTTP shapes): `[{ "sku", "available", "reserved", … }]`, in SKU order. */
  @Get('stock')
  async list() {
    return (await this.stock.list()).map((s) => ({
      sku: s.sku,
      name: s.name,
      unitPrice: s.unitPrice,
      available: s.available,
      reserved: s.reserved,
    }));
  }

  @Get('reservations/:orderId')
  async reservation(@Param(new ZodParamsPipe(ReservationParams)) { orderId }: z.output<typeof ReservationParams>) {
    const r = await this.stock.findReservation(orderId);
    if (!r) throw new NotFoundException(`no reservation for order ${orderId}`);
    return {
      orderId: r.orderId,
      status: r.status,
      items: r.lines,
      total: r.total,
      createdAt: new Date(r.createdAt).toISOString(),
      updatedAt: new Date(r.updatedAt).toISOString(),
    };
  }
}
