import { Injectable, type OnModuleInit } from '@nestjs/common';
import { context, metrics, propagation, trace, type Context, type Counter, type Histogram } from '@opentelemetry/api';

/** Why a saga was cancelled, in a few words fit for a metric label (the order's own reason names SKUs and amounts). */
export type SagaCancelReason = 'out-of-stock' | 'payment-declined' | 'timeout';

/** What one committed transition did, for the saga's metrics: the steps it entered and, when it ended the saga, how. */
export interface SagaProgress {
  orderId: string;
  steps: Array<{ step: string; seconds: number }>;
  outcome?: { outcome: 'confirmed' } | { outcome: 'cancelled'; reason: SagaCancelReason };
}

export const ORDER_ID_ATTRIBUTE = 'warren.order.id';
export const SAGA_STEP_ATTRIBUTE = 'warren.saga.step';

/**
 * The saga's metrics and span attributes. The meter is taken when the app's modules are initialised, once every
 * provider exists: the process's meter provider is registered by then (by instrument.ts, or by service-kit when an
 * app is created in-process), and a meter taken before it would stay a no-op. Metrics are recorded only for
 * transitions that committed: a transition rolled back (a lost race, a failed commit) or a duplicate delivery
 * (the inbox skips it) recorded nothing, so an order counts once in `warren.saga.outcomes`.
 */
@Injectable()
export class SagaTelemetry implements OnModuleInit {
  readonly tracer = trace.getTracer('@warren/orders');
  private outcomes?: Counter;
  private stepDuration?: Histogram;

  onModuleInit(): void {
    const meter = metrics.getMeter('@warren/orders');
    this.outcomes = meter.createCounter('warren.saga.outcomes', {
      description: 'Orders whose saga ended, by outcome (confirmed, cancelled) and, for a cancellation, its reason',
    });
    this.stepDuration = meter.createHistogram('warren.saga.step.duration', {
      unit: 's',
      description: 'Time from an order’s previous saga step to the step it entered, by the step entered',
      // the saga waits on other services and, at worst, for its deadline (30 s by default)
      advice: { explicitBucketBoundaries: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] },
    });
  }

  /** Names the order and the step on the span the transition runs in, so the trace can be found by order id. */
  annotate(orderId: string, step?: string): void {
    trace
      .getActiveSpan()
      ?.setAttributes({ [ORDER_ID_ATTRIBUTE]: orderId, ...(step ? { [SAGA_STEP_ATTRIBUTE]: step } : {}) });
  }

  /** The traceparent of the active span, stored with the order; undefined when no span is recording. */
  traceContext(): string | null {
    if (!trace.getActiveSpan()?.isRecording()) return null;
    const carrier: Record<string, string> = {};
    propagation.inject(context.active(), carrier);
    return carrier.traceparent ?? null;
  }

  /** The context a stored traceparent names, to start a span in the order's trace; the root context without one. */
  orderContext(traceparent: string | null): Context {
    return traceparent ? propagation.extract(context.active(), { traceparent }) : context.active();
  }

  /** Records a transition once its transaction committed. */
  committed(progress: SagaProgress): void {
    for (const s of progress.steps) this.stepDuration?.record(s.seconds, { [SAGA_STEP_ATTRIBUTE]: s.step });
    const o = progress.outcome;
    if (o)
      this.outcomes?.add(
        1,
        o.outcome === 'cancelled'
          ? { 'warren.saga.outcome': o.outcome, 'warren.saga.reason': o.reason }
          : { 'warren.saga.outcome': o.outcome },
      );
  }
}
