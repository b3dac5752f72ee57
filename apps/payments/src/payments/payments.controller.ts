import { Controller, Get, Inject, Query } from '@nestjs/common';
import { OrderId } from '@warren/contracts';
import { wholeNumber, ZodQueryPipe } from '@warren/service-kit';
import { z } from 'zod';
import { PaymentsService, type LedgerEntry } from './payments.service';

const LedgerQuery = z.strictObject({ orderId: OrderId.optional(), limit: wholeNumber(1, 1000).default(100) });

@Controller('payments')
export class PaymentsController {
  constructor(@Inject(PaymentsService) private readonly payments: PaymentsService) {}

  /** The ledger: captures and refunds, newest first; `?orderId=` narrows it to one order, `?limit=` (default 100, at most 1000). */
  @Get()
  list(@Query(new ZodQueryPipe(LedgerQuery)) query: z.output<typeof LedgerQuery>): Promise<LedgerEntry[]> {
    return this.payments.ledger(query);
  }
}
