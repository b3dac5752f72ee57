import { Body, Controller, HttpCode, Inject, Post, ServiceUnavailableException } from '@nestjs/common';
import { Click, PageView } from '@warren/contracts';
import { BrokerUnavailableError, Messaging, MessageValidationError } from '@warren/messaging';
import { ZodBodyPipe } from '@warren/service-kit';
import { z } from 'zod';

const CollectBody = z.object({ events: z.array(z.unknown()).min(1, 'send at least one event').max(500, 'send at most 500 events per batch') });

const CONTRACTS = { page_view: PageView, click: Click } as const;

export interface CollectResult {
  accepted: number;
  rejected: Array<{ index: number; reason: string }>;
}

/**
 * The collector: validates each event on its own (a bad one is rejected with a reason and the rest of the
 * batch still goes), publishes the good ones to `warren.events` as `clickstream.<type>` with confirms, and
 * answers 202 as soon as the broker has them; aggregation happens behind the queue.
 */
@Controller()
export class CollectController {
  constructor(@Inject(Messaging) private readonly messaging: Messaging) {}

  @Post('collect')
  @HttpCode(202)
  async collect(@Body(new ZodBodyPipe(CollectBody)) body: z.output<typeof CollectBody>): Promise<CollectResult> {
    const receivedAt = new Date().toISOString();
    const rejected: CollectResult['rejected'] = [];
    const valid: Array<() => Promise<unknown>> = [];
    body.events.forEach((raw, index) => {
      const type = (raw as { type?: unknown } | null)?.type;
      const contract = typeof type === 'string' && Object.hasOwn(CONTRACTS, type) ? CONTRACTS[type as keyof typeof CONTRACTS] : undefined;
      if (!contract) {
        rejected.push({ index, reason: `type must be one of ${Object.keys(CONTRACTS).join(', ')}` });
        return;
      }
      try {
        const event = contract.parse({ at: receivedAt, ...(raw as object) });
        valid.push(() => this.messaging.emit(contract, event as never));
      } catch (err) {
        if (!(err instanceof MessageValidationError)) throw err;
        rejected.push({ index, reason: err.issues.join('; ') });
      }
    });
    try {
      await Promise.all(valid.map((publish) => publish()));
    } catch (err) {
      if (err instanceof BrokerUnavailableError) throw new ServiceUnavailableException(`events not accepted, the broker is unavailable: ${err.message}`);
      throw err;
    }
    return { accepted: valid.length, rejected };
  }
}
