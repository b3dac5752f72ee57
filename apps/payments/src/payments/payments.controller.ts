import { BadRequestException, Controller, Get, Inject, Query } from '@nestjs/common';
import { PaymentsService, type LedgerEntry } from './payments.service';

@Controller('payments')
export class PaymentsController {
  constructor(@Inject(PaymentsService) private readonly payments: PaymentsService) {}

  /** The ledger: captures and refunds, newest first; `?orderId=` narrows it to one order, `?limit=` (default 100, at most 1000). */
  @Get()
  list(@Query('orderId') orderId?: string, @Query('limit') limit?: string): Promise<LedgerEntry[]> {
    const n = limit === undefined ? 100 : Number(limit);
    if (!Number.isInteger(n) || n < 1 || n > 1000) throw new BadRequestException('limit must be a whole number from 1 to 1000');
    return this.payments.ledger({ orderId: orderId || undefined, limit: n });
  }
}
