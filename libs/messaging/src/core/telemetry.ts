// Spans and metrics, through @opentelemetry/api only: the library records them, the service's SDK (if any) exports
// them. Without an SDK the API hands out non-recording spans and no-op instruments, and the library keeps its own
// W3C ids (trace-context.ts), so every message still carries a traceparent.
//
// Span names and attributes follow the OpenTelemetry messaging semantic conventions: `send <exchange>` (PRODUCER)
// for a publish, `create <exchange>` (PRODUCER) for an outbox write made outside any span, `process <queue>`
// (CONSUMER) for a delivery.
import {
  context,
  isSpanContextValid,
  metrics,
  propagation,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Counter,
  type Histogram,
  type Link,
  type Span,
  type SpanContext,
  type TextMapGetter,
  type Tracer,
} from '@opentelemetry/api';
import { Headers, type FailureReason } from './headers';
import { parseTraceparent } from './trace-context';

/** The instrumentation scope of the library's tracer and meter. */
export const INSTRUMENTATION_NAME = '@warren/messaging';

/** Attribute names (semantic conventions, plus the few of our own under `warren.`). */
export const Attr = {
  system: 'messaging.system',
  operationType: 'messaging.operation.type',
  operationName: 'messaging.operation.name',
  destination: 'messaging.destination.name',
  routingKey: 'messaging.rabbitmq.destination.routing_key',
  messageId: 'messaging.message.id',
  conversationId: 'messaging.message.conversation_id',
  messageType: 'warren.message.type',
  errorType: 'error.type',
  failureReason: 'warren.failure.reason',
  outcome: 'warren.outcome',
  attempt: 'warren.message.attempt',
  link: 'warren.link',
} as const;

const SYSTEM = 'rabbitmq';

/** The destination name of an exchange: the default exchange has none, the conventions call it amq.default. */
export const exchangeName = (exchange: string): string => (exchange === '' ? 'amq.default' : exchange);

/**
 * The registered SDK's tracer, or undefined when none is registered. Asked before any span work, so that without an
 * SDK a message costs no span, context or header parsing beyond what the hand-made ids need (the API's no-op path
 * still allocates). The global provider is the API's proxy, whose delegate tracer is undefined until an SDK
 * registers; asking each time (the SDK caches its tracers) also follows a provider registered again after
 * trace.disable(), which a tracer kept from load time would not. A provider that is not the proxy (another copy of
 * the API) is asked directly: isOwnSpan then decides.
 */
function sdkTracer(): Tracer | undefined {
  const provider = trace.getTracerProvider();
  return provider instanceof ProxyTracerProvider
    ? provider.getDelegateTracer(INSTRUMENTATION_NAME)
    : provider.getTracer(INSTRUMENTATION_NAME);
}

/**
 * Whether `span` is a span an SDK made for us: a valid context with ids of its own. Without an SDK the API returns
 * the parent's context (or an invalid one) wrapped in a non-recording span; the library then keeps its own ids.
 */
function isOwnSpan(span: Span, parent: Context): boolean {
  const sc = span.spanContext();
  return isSpanContextValid(sc) && sc.spanId !== trace.getSpanContext(parent)?.spanId;
}

/**
 * The span an outbox row should carry when an SDK is registered: the active one, when it is an SDK's span (the
 * request or the handler writing the row); otherwise a `create <exchange>` span started and ended here, so the
 * message begins a trace of its own rather than naming a span nobody recorded. Undefined without an SDK.
 */
export function outboxWriterSpan(exchange: string): { span: Span; own: boolean } | undefined {
  if (!sdkTracer()) return undefined;
  const active = trace.getSpan(context.active());
  if (active && isSpanContextValid(active.spanContext()) && !active.spanContext().isRemote)
    return { span: active, own: false };
  const span = startProducerSpan('create', exchange);
  return span ? { span, own: true } : undefined;
}

/** What a producer span describes; set once the message is stamped (its id may be chosen then). */
export interface ProducedMessage {
  exchange: string;
  routingKey: string;
  type: string;
  messageId: string;
  correlationId: string;
}

/**
 * Starts a PRODUCER span (`send` for a publish, `create` for an outbox write) under `parent` (default: the active
 * context). Returns undefined when no SDK made a span (tracing is off): the caller keeps the hand-made ids.
 */
export function startProducerSpan(
  operation: 'send' | 'create',
  exchange: string,
  opts: { parent?: Context; links?: Link[] } = {},
): Span | undefined {
  const tracer = sdkTracer();
  if (!tracer) return undefined;
  const parent = opts.parent ?? context.active();
  const span = tracer.startSpan(
    `${operation} ${exchangeName(exchange)}`,
    { kind: SpanKind.PRODUCER, links: opts.links },
    parent,
  );
  if (isOwnSpan(span, parent)) return span;
  span.end();
  return undefined;
}

export function describeProduced(span: Span | undefined, operation: 'send' | 'create', m: ProducedMessage): void {
  if (!span?.isRecording()) return;
  span.setAttributes({
    [Attr.system]: SYSTEM,
    [Attr.operationType]: operation,
    [Attr.operationName]: operation,
    [Attr.destination]: exchangeName(m.exchange),
    [Attr.routingKey]: m.routingKey,
    [Attr.messageId]: m.messageId,
    [Attr.conversationId]: m.correlationId,
    [Attr.messageType]: m.type,
  });
}

/**
 * Writes `span`'s context into `headers` with the registered propagator (W3C trace context, and baggage when the
 * SDK registered it). A process that registered a tracer but no propagator still gets a traceparent: it is
 * formatted from the span's context here.
 */
export function injectSpan(span: Span, headers: Record<string, unknown>): void {
  propagation.inject(trace.setSpan(context.active(), span), headers);
  if (typeof headers[Headers.traceparent] === 'string') return;
  const sc = span.spanContext();
  headers[Headers.traceparent] = `00-${sc.traceId}-${sc.spanId}-${flagsHex(sc.traceFlags)}`;
  const state = sc.traceState?.serialize();
  if (state && headers[Headers.tracestate] === undefined) headers[Headers.tracestate] = state;
}

export const flagsHex = (flags: number): string => (flags & 0xff).toString(16).padStart(2, '0');

export function endSpan(span: Span | undefined, error?: unknown): void {
  if (!span) return;
  if (error !== undefined) failSpan(span, error);
  span.end();
}

function failSpan(span: Span, error: unknown): void {
  const e = asError(error);
  span.recordException(e);
  span.setStatus({ code: SpanStatusCode.ERROR, message: e.message });
  span.setAttribute(Attr.errorType, errorType(e));
}

/** AMQP header values are strings, or Buffers when another client wrote them as byte arrays. */
const headerGetter: TextMapGetter<Record<string, unknown>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const v = carrier[key];
    if (typeof v === 'string') return v;
    return Buffer.isBuffer(v) ? v.toString('utf8') : undefined;
  },
};

/**
 * The context a message's headers carry: through the registered propagator, or, when none is registered, from the
 * traceparent read by hand (so a consumer span still joins the producer's trace). ROOT_CONTEXT when it has none.
 */
export function contextFromHeaders(headers: Record<string, unknown>): Context {
  const extracted = propagation.extract(ROOT_CONTEXT, headers, headerGetter);
  if (trace.getSpanContext(extracted)) return extracted;
  const parsed = parseTraceparent(headerGetter.get(headers, Headers.traceparent));
  if (!parsed) return ROOT_CONTEXT;
  const sc: SpanContext = {
    traceId: parsed.traceId,
    spanId: parsed.spanId,
    traceFlags: parseInt(parsed.flags, 16) & 1,
    isRemote: true,
  };
  return trace.setSpanContext(ROOT_CONTEXT, sc);
}

/** The link from the relay's publish to the span that wrote the outbox row; undefined when the row has no context. */
export function outboxRowLink(rowContext: Context): Link | undefined {
  const sc = trace.getSpanContext(rowContext);
  return sc && isSpanContextValid(sc) ? { context: sc, attributes: { [Attr.link]: 'outbox-row' } } : undefined;
}

/** A low-cardinality name for an error (error.type): its class. */
export function errorType(error: unknown): string {
  const e = asError(error);
  return e.name && e.name !== 'Error' ? e.name : (e.constructor?.name ?? 'Error');
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(typeof e === 'string' ? e : String(e));
}

/**
 * The library's instruments on one meter. Made per Messaging instance at construction, never at load time: a meter
 * taken before the service registers its MeterProvider would stay a no-op for ever (the API has no proxy for it).
 */
export class MessagingInstruments {
  readonly sent: Counter;
  readonly consumed: Counter;
  readonly processDuration: Histogram;
  readonly failed: Counter;
  readonly retried: Counter;
  readonly deadLettered: Counter;

  constructor() {
    const meter = metrics.getMeter(INSTRUMENTATION_NAME);
    this.sent = meter.createCounter('messaging.client.sent.messages', {
      unit: '{message}',
      description: 'Messages the broker confirmed (or refused: error.type)',
    });
    this.consumed = meter.createCounter('messaging.client.consumed.messages', {
      unit: '{message}',
      description: 'Deliveries taken for processing',
    });
    this.processDuration = meter.createHistogram('messaging.process.duration', {
      unit: 's',
      description: 'Time from delivery to the message being settled (handler, reply, retry or parking)',
      advice: { explicitBucketBoundaries: [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10] },
    });
    this.failed = meter.createCounter('warren.messaging.failed.messages', {
      unit: '{message}',
      description: 'Deliveries whose handling failed',
    });
    this.retried = meter.createCounter('warren.messaging.retried.messages', {
      unit: '{message}',
      description: 'Failed deliveries sent for another attempt',
    });
    this.deadLettered = meter.createCounter('warren.messaging.dead_lettered.messages', {
      unit: '{message}',
      description: 'Messages parked in <queue>.dlq',
    });
  }

  countSent(m: { exchange: string; type?: string; routingKey: string }, error?: unknown): void {
    const attributes: Attributes = {
      [Attr.system]: SYSTEM,
      [Attr.destination]: exchangeName(m.exchange),
      [Attr.messageType]: m.type ?? m.routingKey,
    };
    if (error !== undefined) attributes[Attr.errorType] = errorType(error);
    this.sent.add(1, attributes);
  }

  countDeadLettered(queue: string, type: string, reason: FailureReason): void {
    this.deadLettered.add(1, { [Attr.destination]: queue, [Attr.messageType]: type, [Attr.failureReason]: reason });
  }
}

/** How the processing of one delivery ended, as the consumer span's `warren.outcome` says it. */
export type DeliveryOutcome = 'ok' | 'retried' | 'dead-lettered' | 'rpc-error' | 'requeued' | 'counted';

/**
 * The telemetry of one delivery: its CONSUMER span (when an SDK made one) and its metrics. The consumer reports what
 * happens; end() records the duration and closes the span.
 */
export class DeliveryTelemetry {
  readonly span?: Span;
  /** The context the handler runs in (the span's); undefined when tracing is off. */
  readonly context?: Context;
  private readonly started = performance.now();
  private readonly attributes: Attributes;
  private error?: unknown;
  private outcome: DeliveryOutcome = 'ok';

  constructor(
    private readonly instruments: MessagingInstruments,
    queue: string,
    m: {
      type: string;
      messageId: string;
      correlationId: string;
      routingKey: string;
      attempt: number;
      headers: Record<string, unknown>;
    },
  ) {
    this.attributes = { [Attr.destination]: queue, [Attr.messageType]: m.type };
    instruments.consumed.add(1, this.attributes);
    const tracer = sdkTracer();
    if (!tracer) return;
    const parent = contextFromHeaders(m.headers);
    const span = tracer.startSpan(`process ${queue}`, { kind: SpanKind.CONSUMER }, parent);
    if (!isOwnSpan(span, parent)) {
      span.end();
      return;
    }
    this.span = span;
    this.context = trace.setSpan(parent, span);
    span.setAttributes({
      [Attr.system]: SYSTEM,
      [Attr.operationType]: 'process',
      [Attr.operationName]: 'process',
      [Attr.destination]: queue,
      [Attr.routingKey]: m.routingKey,
      [Attr.messageId]: m.messageId,
      [Attr.conversationId]: m.correlationId,
      [Attr.messageType]: m.type,
      [Attr.attempt]: m.attempt,
    });
  }

  /** The handler (or the checks before it) failed. */
  failed(error: unknown): void {
    this.error = error;
    this.instruments.failed.add(1, this.attributes);
    if (this.span) failSpan(this.span, error);
  }

  retried(delayMs: number, nextAttempt: number): void {
    this.outcome = 'retried';
    this.instruments.retried.add(1, this.attributes);
    this.span?.addEvent('retried', { 'warren.retry.delay_ms': delayMs, [Attr.attempt]: nextAttempt });
  }

  deadLettered(reason: FailureReason): void {
    this.outcome = 'dead-lettered';
    this.instruments.deadLettered.add(1, { ...this.attributes, [Attr.failureReason]: reason });
    this.span?.addEvent('dead-lettered', { [Attr.failureReason]: reason });
  }

  settledAs(outcome: DeliveryOutcome): void {
    this.outcome = outcome;
  }

  end(): void {
    const seconds = (performance.now() - this.started) / 1000;
    this.instruments.processDuration.record(
      seconds,
      this.error === undefined ? this.attributes : { ...this.attributes, [Attr.errorType]: errorType(this.error) },
    );
    if (!this.span) return;
    this.span.setAttribute(Attr.outcome, this.outcome);
    this.span.end();
  }
}

/**
 * Counts the duplicates an inbox skipped (`warren.inbox.duplicates`). Made by each inbox at construction, for the
 * same reason as MessagingInstruments.
 */
export class InboxDuplicates {
  private readonly counter: Counter = metrics.getMeter(INSTRUMENTATION_NAME).createCounter('warren.inbox.duplicates', {
    unit: '{message}',
    description: 'Redelivered messages an inbox skipped (already handled)',
  });

  /** `message` is the delivery when the handler passed it whole (its queue and type); else only the consumer name is known. */
  count(message: { messageId: string; queue?: unknown; type?: unknown }, consumer: string): void {
    const attributes: Attributes = { [Attr.destination]: typeof message.queue === 'string' ? message.queue : consumer };
    if (typeof message.type === 'string') attributes[Attr.messageType] = message.type;
    this.counter.add(1, attributes);
  }
}
