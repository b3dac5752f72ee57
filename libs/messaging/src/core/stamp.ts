import { randomUUID } from 'node:crypto';
import { Headers } from './headers';
import type { OutgoingMessage } from './message';
import type { Span } from '@opentelemetry/api';
import { injectSpan } from './telemetry';
import { currentScope, formatTraceparent, newSpanId, newTraceId } from './trace-context';

export type StampedMessage<T = unknown> = OutgoingMessage<T> &
  Required<Pick<OutgoingMessage<T>, 'type' | 'messageId' | 'correlationId' | 'timestamp' | 'headers'>>;

/**
 * Fixes every id of a message now: message id, type, timestamp, correlation and causation (inherited from
 * the message being handled, if any) and a traceparent that continues its trace. Publishing does this;
 * the outbox does it when the row is written, so a message relayed later still carries the context it was
 * created in.
 *
 * With `span` (the producer span an OpenTelemetry SDK made for this publish or outbox write), the trace headers are
 * that span's context, written by the registered propagator. Without one (no SDK), the traceparent continues the
 * message being handled, or starts a new trace. A traceparent the caller set is kept either way.
 */
export function stampMessage<T>(msg: OutgoingMessage<T>, span?: Span): StampedMessage<T> {
  const scope = currentScope();
  const messageId = msg.messageId ?? randomUUID();
  const given = msg.headers ?? {};
  const headers: Record<string, unknown> = { ...given };
  // a traceparent the caller set (a relayed outbox row, a retry's copy) already names the span the message belongs to
  if (typeof given[Headers.traceparent] !== 'string') {
    if (span) injectSpan(span, headers);
    else
      headers[Headers.traceparent] = formatTraceparent({
        traceId: scope?.traceId ?? newTraceId(),
        spanId: newSpanId(),
        flags: scope?.flags ?? '01',
      });
  }
  if (!span && scope?.tracestate && headers[Headers.tracestate] === undefined)
    headers[Headers.tracestate] = scope.tracestate;
  const causationId = msg.causationId ?? (given[Headers.causationId] as string | undefined) ?? scope?.messageId;
  if (causationId) headers[Headers.causationId] = causationId;
  return {
    ...msg,
    type: msg.type ?? msg.routingKey,
    messageId,
    correlationId: msg.correlationId ?? scope?.correlationId ?? messageId,
    causationId,
    timestamp: msg.timestamp ?? Date.now(),
    headers,
  };
}
