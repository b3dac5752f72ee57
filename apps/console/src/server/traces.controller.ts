import { Controller, Get, Inject, NotFoundException, Param, Query } from '@nestjs/common';
import { ZodParamsPipe, ZodQueryPipe } from '@warren/service-kit';
import type { z } from 'zod';
import { TraceParams, TracesQuery, type OrderTraces, type Trace } from '../contracts/traces';
import { TraceReceiver } from './traces/trace-receiver';
import { TRACES } from './tokens';

/**
 * The traces the console received (POST /v1/traces, otlp-http.ts), read back: an order's traces for its
 * waterfall, or one trace by id. Both answer from memory; the live stream's `traces` source says when an
 * order's traces changed.
 */
@Controller('api/traces')
export class TracesController {
  constructor(@Inject(TRACES) private readonly traces: TraceReceiver) {}

  /** An order with no trace yet is an empty list, not a 404: its spans may still be on their way. */
  @Get()
  forOrder(@Query(new ZodQueryPipe(TracesQuery)) { orderId }: z.output<typeof TracesQuery>): OrderTraces {
    return { orderId, traces: this.traces.store.forOrder(orderId) };
  }

  @Get(':traceId')
  one(@Param(new ZodParamsPipe(TraceParams)) { traceId }: z.output<typeof TraceParams>): Trace {
    const trace = this.traces.store.trace(traceId);
    if (!trace)
      throw new NotFoundException(
        `no trace ${traceId} here: it never came, or it was evicted (the console keeps the latest ${this.traces.settings.maxTraces} traces, ${this.traces.settings.maxSpans} spans)`,
      );
    return trace;
  }
}
