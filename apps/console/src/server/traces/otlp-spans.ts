import type {
  AttributeValue,
  ExportTraceServiceRequest,
  OtlpAnyValue,
  OtlpKeyValue,
  TraceSpan,
} from '../../contracts/traces';

/**
 * OTLP's nested ExportTraceServiceRequest made into the flat spans the console stores and answers with: each
 * span carries its resource's service name, attributes are plain values, and times are milliseconds since the
 * epoch with the sub-millisecond part kept as a fraction (a span of 40 µs must not show as 0 ms).
 */

/** AnyValue as a plain value. An integer past 2^53 stays a string rather than losing digits. */
export function plainValue(v: OtlpAnyValue | undefined): AttributeValue {
  if (!v) return null;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) {
    const n = Number(v.intValue);
    return Number.isSafeInteger(n) ? n : String(v.intValue);
  }
  if (v.doubleValue !== undefined) return typeof v.doubleValue === 'number' ? v.doubleValue : v.doubleValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(plainValue);
  if (v.kvlistValue) return plainAttributes(v.kvlistValue.values);
  if (v.bytesValue !== undefined) return v.bytesValue;
  return null;
}

export const plainAttributes = (list: OtlpKeyValue[] | undefined): Record<string, AttributeValue> =>
  Object.fromEntries((list ?? []).map((kv) => [kv.key, plainValue(kv.value)]));

/** Nanoseconds since the epoch to milliseconds, to the microsecond. */
export const nanosToMs = (nanos: bigint): number => Number(nanos / 1000n) / 1000;

export function flattenRequest(request: ExportTraceServiceRequest): TraceSpan[] {
  const spans: TraceSpan[] = [];
  for (const rs of request.resourceSpans ?? []) {
    const resource = plainAttributes(rs.resource?.attributes);
    const service =
      typeof resource['service.name'] === 'string' && resource['service.name']
        ? resource['service.name']
        : 'unknown_service';
    const instance = resource['service.instance.id'];
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        const startMs = nanosToMs(s.startTimeUnixNano);
        const endMs = nanosToMs(s.endTimeUnixNano);
        spans.push({
          traceId: s.traceId,
          spanId: s.spanId,
          ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}),
          name: s.name,
          kind: s.kind ?? 'unspecified',
          service,
          ...(instance !== undefined && instance !== null ? { instance: String(instance) } : {}),
          scope: ss.scope?.name ?? '',
          startMs,
          endMs,
          // a clock that stepped back while the span ran must not draw a bar of negative width
          durationMs: Math.max(0, Math.round((endMs - startMs) * 1000) / 1000),
          attributes: plainAttributes(s.attributes),
          status: { code: s.status?.code ?? 'unset', ...(s.status?.message ? { message: s.status.message } : {}) },
          events: (s.events ?? []).map((e) => ({
            name: e.name,
            timeMs: nanosToMs(e.timeUnixNano),
            attributes: plainAttributes(e.attributes),
          })),
          links: (s.links ?? []).map((l) => ({
            traceId: l.traceId,
            spanId: l.spanId,
            attributes: plainAttributes(l.attributes),
          })),
        });
      }
    }
  }
  return spans;
}

/** The attributes that tie a span to an order: the services' own, and the conversation id (the order id for the saga's messages). */
export const ORDER_ID_ATTRIBUTES = ['warren.order.id', 'messaging.message.conversation_id'] as const;

export function orderIdsOf(span: TraceSpan): string[] {
  const ids: string[] = [];
  for (const key of ORDER_ID_ATTRIBUTES) {
    const v = span.attributes[key];
    if (typeof v === 'string' && v && !ids.includes(v)) ids.push(v);
  }
  return ids;
}
