import { SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';

const tracer = trace.getTracer('@warren/payments');

/**
 * How a money movement ended, as `warren.payment.outcome` says it: a capture approved or declined; a refund made,
 * with nothing captured to give back, made before (a second refund command), or a redelivered command the inbox
 * skipped. A throw is `error`.
 */
export type GatewayOutcome =
  'approved' | 'declined' | 'refunded' | 'nothing-captured' | 'already-refunded' | 'duplicate';

/**
 * Runs a money movement in a span `gateway <operation>` naming the order and the amount (integer cents); `fn`
 * returns the outcome and its result. A capture goes over the wire to the card gateway (a CLIENT span); a refund
 * is settled in the ledger, as the simulated gateway has no refund call (an INTERNAL span). A throw (the gateway
 * unavailable) marks the span as an error, with the error's name as `error.type`.
 */
export function traceGateway<T>(
  operation: 'capture' | 'refund',
  orderId: string,
  amount: number | undefined,
  fn: (span: Span) => Promise<{ outcome: GatewayOutcome; result: T }>,
): Promise<T> {
  const attributes = {
    'warren.order.id': orderId,
    ...(amount === undefined ? {} : { 'warren.payment.amount': amount }),
  };
  return tracer.startActiveSpan(
    `gateway ${operation}`,
    { kind: operation === 'capture' ? SpanKind.CLIENT : SpanKind.INTERNAL, attributes },
    async (span) => {
      try {
        const { outcome, result } = await fn(span);
        span.setAttribute('warren.payment.outcome', outcome);
        return result;
      } catch (err) {
        const error = err as Error;
        span.recordException(error);
        span.setAttributes({ 'warren.payment.outcome': 'error', 'error.type': error.name });
        span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
        throw err;
      } finally {
        span.end();
      }
    },
  );
}

/** Names the order on the span the message is handled in (the messaging library's consumer span). */
export function annotateOrder(orderId: string): void {
  trace.getActiveSpan()?.setAttribute('warren.order.id', orderId);
}
