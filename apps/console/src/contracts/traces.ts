import { z } from 'zod';

/*
 * Traces: what the console's OTLP receiver accepts (POST /v1/traces, OTLP/HTTP with a JSON body) and what its
 * API answers (GET /api/traces…), shared by its server (validation) and its web app (types). Only zod here: the
 * web bundle imports this file.
 *
 * The request is OTLP's ExportTraceServiceRequest in the protobuf JSON mapping that OTLP/HTTP JSON uses, with
 * OTLP's own exceptions: trace and span ids are hex strings (not base64), and 64-bit numbers (times, intValue)
 * may come as decimal strings or as numbers. Objects are not strict: a newer exporter may send fields this
 * console does not know yet, and OTLP asks receivers to ignore them.
 */

const hex = (digits: number, what: string) =>
  z
    .string()
    .regex(new RegExp(`^[0-9a-fA-F]{${digits}}$`), `must be ${digits} hex digits (a ${what})`)
    .refine((s) => !/^0+$/.test(s), `must not be all zeros (an invalid ${what})`)
    .transform((s) => s.toLowerCase());

export const TRACE_ID = hex(32, 'trace id');
export const SPAN_ID = hex(16, 'span id');

/** A 64-bit unsigned number, as a decimal string or a number; kept as a bigint (nanoseconds need all 64 bits). */
// (a JSON number that large has lost its last digits already: a few hundred nanoseconds, which no view shows)
const uint64 = z
  .union([
    z.string().regex(/^\d{1,20}$/, 'must be a whole number of nanoseconds'),
    z.number().nonnegative('must not be negative'),
  ])
  .transform((v) => (typeof v === 'string' ? BigInt(v) : BigInt(Math.round(v))));

/** OTLP's AnyValue: exactly one of its fields (an empty value is allowed: OTLP calls it "no value"). */
export interface OtlpAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number | string;
  arrayValue?: { values?: OtlpAnyValue[] };
  kvlistValue?: { values?: OtlpKeyValue[] };
  bytesValue?: string;
}
export interface OtlpKeyValue {
  key: string;
  value?: OtlpAnyValue;
}

/*
 * Attributes are checked by hand rather than by a zod schema per value: they are most of a span, and a lazy
 * recursive schema made validation take over 100 µs a span, most of the receiver's time. The problems are the
 * same kind of list, each with its path.
 */
type Problem = { path: Array<string | number>; message: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const INTEGER = /^-?\d{1,20}$/;

function checkAnyValue(v: unknown, path: Array<string | number>, problems: Problem[]): void {
  if (!isObject(v)) return void problems.push({ path, message: 'must be an AnyValue object' });
  let fields = 0;
  for (const [key, x] of Object.entries(v)) {
    if (x === undefined || x === null) continue;
    fields++;
    const at = [...path, key];
    if (key === 'stringValue' || key === 'bytesValue') {
      if (typeof x !== 'string') problems.push({ path: at, message: 'must be a string' });
    } else if (key === 'boolValue') {
      if (typeof x !== 'boolean') problems.push({ path: at, message: 'must be true or false' });
    } else if (key === 'intValue') {
      if (!(typeof x === 'number' ? Number.isInteger(x) : typeof x === 'string' && INTEGER.test(x)))
        problems.push({ path: at, message: 'must be a whole number' });
    } else if (key === 'doubleValue') {
      // the JSON mapping writes NaN and the infinities as strings
      if (typeof x !== 'number' && x !== 'NaN' && x !== 'Infinity' && x !== '-Infinity')
        problems.push({ path: at, message: 'must be a number' });
    } else if (key === 'arrayValue') {
      const values = isObject(x) ? x.values : undefined;
      if (!isObject(x) || (values !== undefined && !Array.isArray(values)))
        problems.push({ path: at, message: 'must be {values: AnyValue[]}' });
      else (values as unknown[] | undefined)?.forEach((item, i) => checkAnyValue(item, [...at, 'values', i], problems));
    } else if (key === 'kvlistValue') {
      const values = isObject(x) ? x.values : undefined;
      if (!isObject(x) || (values !== undefined && !Array.isArray(values)))
        problems.push({ path: at, message: 'must be {values: KeyValue[]}' });
      else checkKeyValues(values, [...at, 'values'], problems);
    } else fields--; // a field of a newer OTLP: ignored
  }
  if (fields > 1) problems.push({ path, message: 'an AnyValue holds one of its fields, not several' });
}

function checkKeyValues(list: unknown, path: Array<string | number>, problems: Problem[]): void {
  if (list === undefined) return;
  if (!Array.isArray(list)) return void problems.push({ path, message: 'must be a list of {key, value}' });
  list.forEach((kv, i) => {
    if (!isObject(kv)) return void problems.push({ path: [...path, i], message: 'must be a {key, value} object' });
    if (typeof kv.key !== 'string') problems.push({ path: [...path, i, 'key'], message: 'must be a string' });
    if (kv.value !== undefined && kv.value !== null) checkAnyValue(kv.value, [...path, i, 'value'], problems);
  });
}

/** A list of OTLP KeyValues (attributes). */
const attributes = z
  .unknown()
  .superRefine((v, ctx) => {
    const problems: Problem[] = [];
    checkKeyValues(v, [], problems);
    for (const p of problems) ctx.addIssue({ code: 'custom', path: p.path, message: p.message });
  })
  .transform((v) => v as OtlpKeyValue[] | undefined)
  .optional();

/** SpanKind: OTLP/JSON writes enums as numbers; the protobuf JSON mapping also allows their names. */
export const SPAN_KINDS = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'] as const;
export type SpanKindName = (typeof SPAN_KINDS)[number];
const KIND = 'must be a SpanKind (0 to 5)';
const spanKind = z
  .union(
    [
      z.number().int(KIND).min(0, KIND).max(5, KIND),
      z.enum(
        [
          'SPAN_KIND_UNSPECIFIED',
          'SPAN_KIND_INTERNAL',
          'SPAN_KIND_SERVER',
          'SPAN_KIND_CLIENT',
          'SPAN_KIND_PRODUCER',
          'SPAN_KIND_CONSUMER',
        ],
        KIND,
      ),
    ],
    KIND,
  )
  .transform((k): SpanKindName =>
    typeof k === 'number' ? SPAN_KINDS[k] : (k.slice('SPAN_KIND_'.length).toLowerCase() as SpanKindName),
  );

export const STATUS_CODES = ['unset', 'ok', 'error'] as const;
export type StatusCodeName = (typeof STATUS_CODES)[number];
const STATUS = 'must be a StatusCode (0 to 2)';
const statusCode = z
  .union(
    [
      z.number().int(STATUS).min(0, STATUS).max(2, STATUS),
      z.enum(['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR'], STATUS),
    ],
    STATUS,
  )
  .transform((c): StatusCodeName =>
    typeof c === 'number' ? STATUS_CODES[c] : (c.slice('STATUS_CODE_'.length).toLowerCase() as StatusCodeName),
  );

export const OtlpSpan = z.object({
  traceId: TRACE_ID,
  spanId: SPAN_ID,
  // '' (or absent) for a root span
  parentSpanId: z.union([z.literal(''), SPAN_ID]).optional(),
  traceState: z.string().optional(),
  name: z.string(),
  kind: spanKind.optional(),
  startTimeUnixNano: uint64,
  endTimeUnixNano: uint64,
  attributes,
  droppedAttributesCount: z.number().optional(),
  events: z
    .array(
      z.object({ timeUnixNano: uint64, name: z.string(), attributes, droppedAttributesCount: z.number().optional() }),
    )
    .optional(),
  droppedEventsCount: z.number().optional(),
  links: z
    .array(
      z.object({
        traceId: TRACE_ID,
        spanId: SPAN_ID,
        traceState: z.string().optional(),
        attributes,
        droppedAttributesCount: z.number().optional(),
      }),
    )
    .optional(),
  droppedLinksCount: z.number().optional(),
  status: z.object({ code: statusCode.optional(), message: z.string().optional() }).optional(),
  flags: z.number().optional(),
});
export type OtlpSpan = z.output<typeof OtlpSpan>;

/** POST /v1/traces: ExportTraceServiceRequest. An empty request is valid (OTLP: nothing to store). */
export const ExportTraceServiceRequest = z.object({
  resourceSpans: z
    .array(
      z.object({
        resource: z.object({ attributes, droppedAttributesCount: z.number().optional() }).optional(),
        scopeSpans: z
          .array(
            z.object({
              scope: z.object({ name: z.string().optional(), version: z.string().optional(), attributes }).optional(),
              spans: z.array(OtlpSpan).optional(),
              schemaUrl: z.string().optional(),
            }),
          )
          .optional(),
        schemaUrl: z.string().optional(),
      }),
    )
    .optional(),
});
export type ExportTraceServiceRequest = z.output<typeof ExportTraceServiceRequest>;

/** The answer to POST /v1/traces: `{}` when every span was kept, else how many were not and why (OTLP's partial success). */
export interface ExportTraceServiceResponse {
  partialSuccess?: { rejectedSpans: number; errorMessage: string };
}

/** An attribute's value as the API gives it: AnyValue made plain (an int past 2^53 stays a string). */
export type AttributeValue = string | number | boolean | null | AttributeValue[] | { [key: string]: AttributeValue };

/** One span as GET /api/traces… answers it: times in ms since the epoch (fractions kept), the service from its resource. */
export interface TraceSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: SpanKindName;
  /** The resource's service.name ('unknown_service' when the exporter sent none). */
  service: string;
  /** The resource's service.instance.id, when set. */
  instance?: string;
  /** The instrumentation scope (tracer name), e.g. @warren/messaging. */
  scope: string;
  startMs: number;
  endMs: number;
  durationMs: number;
  attributes: Record<string, AttributeValue>;
  status: { code: StatusCodeName; message?: string };
  events: Array<{ name: string; timeMs: number; attributes: Record<string, AttributeValue> }>;
  links: Array<{ traceId: string; spanId: string; attributes: Record<string, AttributeValue> }>;
}

/** One trace: its spans by start time, the services it crossed, the orders it concerns. */
export interface Trace {
  traceId: string;
  startMs: number;
  endMs: number;
  durationMs: number;
  services: string[];
  orderIds: string[];
  spans: TraceSpan[];
}

/** GET /api/traces?orderId= */
export const TracesQuery = z.strictObject({ orderId: z.uuid('must be an order id (a UUID)') });
/** GET /api/traces/:traceId */
export const TraceParams = z.strictObject({ traceId: TRACE_ID });

/** GET /api/traces?orderId=: every trace that carries the order's id, oldest first (empty when none came yet). */
export interface OrderTraces {
  orderId: string;
  traces: Trace[];
}

/**
 * The live stream's `traces` source: what the receiver took in, what the store holds and its bounds, the
 * forwarding's counts, and the orders whose traces changed last (a view refreshes an order's waterfall when
 * its entry changes, so it keeps no timer).
 */
export interface TraceReceiverState {
  received: { requests: number; spans: number; rejectedSpans: number; lastAt?: string };
  /** Requests answered 4xx (not JSON, too big, malformed), with the last one's reason. */
  refused: { requests: number; lastReason?: string; lastAt?: string };
  stored: { traces: number; spans: number; evictedTraces: number };
  bounds: { maxTraces: number; maxSpans: number; maxBodyBytes: number };
  forward?: {
    url: string;
    sent: number;
    failed: number;
    dropped: number;
    queued: number;
    lastError?: string;
    lastErrorAt?: string;
  };
  /** The orders whose traces changed most recently (newest first, at most 50): id, spans held, when. */
  recentOrders: Array<{ orderId: string; spans: number; updatedAt: string }>;
}
