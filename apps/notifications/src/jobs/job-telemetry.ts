import { INVALID_SPAN_CONTEXT, trace, type Context } from '@opentelemetry/api';
import type { Telemetry, Tracer } from 'bullmq';
import { BullMQOtel, BullMQOTelSpan } from 'bullmq-otel';

/**
 * BullMQ's polling and housekeeping (fetching the next job, renewing locks, the stalled-job check). They run on
 * the worker's timers outside any job, so each of their spans would be a trace of its own, several a minute on an
 * idle worker, burying the order traces in a trace view.
 */
const HOUSEKEEPING = /^(getNextJob|extendLocks|moveStalledJobsToWait|startStalledCheckTimer) /;

/**
 * BullMQ's own spans through bullmq-otel (`add <queue>.<name>` when a job is added, `process <queue>` when a worker
 * runs it, and the queue's other operations), minus the housekeeping. A job carries the context it was added in,
 * so its processing continues the trace of the order event that queued it. The spans keep BullMQ's
 * instrumentation scope (`bullmq`).
 */
export function jobTelemetry(): Telemetry<Context> {
  const otel = new BullMQOtel();
  const tracer: Tracer<Context> = {
    startSpan: (name, options, context) =>
      HOUSEKEEPING.test(name)
        ? new BullMQOTelSpan(trace.wrapSpanContext(INVALID_SPAN_CONTEXT))
        : otel.tracer.startSpan(name, options, context),
  };
  return { tracer, contextManager: otel.contextManager };
}
