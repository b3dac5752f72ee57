import { randomBytes } from 'node:crypto';
import { Body, Controller, HttpCode, Inject, Post, ServiceUnavailableException } from '@nestjs/common';
import { ProxyTracerProvider, trace } from '@opentelemetry/api';
import { Click, PageView } from '@warren/contracts';
import {
  BrokerUnavailableError,
  Headers,
  INSTRUMENTATION_NAME,
  Messaging,
  MessageValidationError,
  type OutgoingMessage,
} from '@warren/messaging';
import { ZodBodyPipe } from '@warren/service-kit';
import { z } from 'zod';

const CollectBody = z.object({
  events: z.array(z.unknown()).min(1, 'send at least one event').max(500, 'send at most 500 events per batch'),
});

const CONTRACTS = { page_view: PageView, click: Click } as const;

export interface CollectResult {
  accepted: number;
  rejected: Array<{ index: number; reason: string }>;
}

/** Whether an OpenTelemetry SDK is registered (the messaging library then makes a span, and trace ids, per publish). */
function tracingOn(): boolean {
  const provider = trace.getTracerProvider();
  return provider instanceof ProxyTracerProvider
    ? provider.getDelegateTracer(INSTRUMENTATION_NAME) !== undefined
    : true;
}

/**
 * The collector: validates each event on its own (a bad one is rejected with a reason and the rest of the
 * batch still goes), publishes the good ones to `warren.events` as `clickstream.<type>` with confirms, and
 * answers 202 as soon as the broker has them; aggregation happens behind the queue.
 */
@Controller()
export class CollectController {
  private readonly eventsExchange: string;

  constructor(@Inject(Messaging) private readonly messaging: Messaging) {
    this.eventsExchange = messaging.options.eventsExchange;
  }

  @Post('collect')
  @HttpCode(202)
  async collect(@Body(new ZodBodyPipe(CollectBody)) body: z.output<typeof CollectBody>): Promise<CollectResult> {
    const receivedAt = new Date().toISOString();
    const rejected: CollectResult['rejected'] = [];
    const valid: OutgoingMessage[] = [];
    body.events.forEach((raw, index) => {
      const type = (raw as { type?: unknown } | null)?.type;
      const contract =
        typeof type === 'string' && Object.hasOwn(CONTRACTS, type)
          ? CONTRACTS[type as keyof typeof CONTRACTS]
          : undefined;
      if (!contract) {
        rejected.push({ index, reason: `type must be one of ${Object.keys(CONTRACTS).join(', ')}` });
        return;
      }
      try {
        const event = contract.parse({ at: receivedAt, ...(raw as object) });
        // what emit() publishes, less its second check against the contract: the event was parsed just above
        valid.push({ exchange: this.eventsExchange, routingKey: contract.type, type: contract.type, payload: event });
      } catch (err) {
        if (!(err instanceof MessageValidationError)) throw err;
        rejected.push({ index, reason: err.issues.join('; ') });
      }
    });
    if (valid.length > 0 && !tracingOn()) {
      // Without tracing, each event starts a trace of its own, as a publish outside any trace does; its ids are
      // cut from one random read per request rather than two reads per event (the library's way), which cost
      // the collector more than a tenth of its time under load. With tracing on, the library's spans name them.
      const hex = randomBytes(24 * valid.length).toString('hex');
      valid.forEach(
        (m, i) =>
          (m.headers = {
            [Headers.traceparent]: `00-${hex.slice(i * 48, i * 48 + 32)}-${hex.slice(i * 48 + 32, i * 48 + 48)}-01`,
          }),
      );
    }
    try {
      await Promise.all(valid.map((m) => this.messaging.publish(m)));
    } catch (err) {
      if (err instanceof BrokerUnavailableError)
        throw new ServiceUnavailableException(`events not accepted, the broker is unavailable: ${err.message}`);
      throw err;
    }
    return { accepted: valid.length, rejected };
  }
}
