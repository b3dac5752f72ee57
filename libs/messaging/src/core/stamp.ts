import { randomUUID } from 'node:crypto';
import { Headers } from './headers';
import type { OutgoingMessage } from './message';
import { currentScope, formatTraceparent, newSpanId, newTraceId } from './trace-context';

export type StampedMessage<T = unknown> = OutgoingMessage<T> &
  Required<Pick<OutgoingMessage<T>, 'type' | 'messageId' | 'correlationId' | 'timestamp' | 'headers'>>;

/**
 * Fixes every id of a message now: message id, type, timestamp, correlation and causation (inherited from
 * the message being handled, if any) and a traceparent that continues its trace. Publishing does this;
 * the outbox does it when the row is written, so a message relayed later still carries the context it was
 * created in.
 */
export function stampMessage<T>(msg: OutgoingMessage<T>): StampedMessage<T> {
  const scope = currentScope();
  const messageId = msg.messageId ?? randomUUID();
  const given = msg.headers ?? {};
  const headers: Record<string, unknown> = { ...given };
  if (typeof given[Headers.traceparent] !== 'string') {
    headers[Headers.traceparent] = formatTraceparent({ traceId: scope?.traceId ?? newTraceId(), spanId: newSpanId(), flags: scope?.flags ?? '01' });
  }
  if (scope?.tracestate && headers[Headers.tracestate] === undefined) headers[Headers.tracestate] = scope.tracestate;
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
