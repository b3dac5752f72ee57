// A realistic trace of one order, as the services export it over OTLP/HTTP JSON: one request per service (each
// with its resource's service.name), the saga's hops from POST /orders through inventory, payments and back to
// the emails in notifications, with the messaging library's producer and consumer spans, the database and HTTP
// client spans below them, and one failed SMTP attempt that was retried.
import { randomBytes } from 'node:crypto';
import type { OtlpKeyValue } from '../../src/contracts/traces';

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

type Value = string | number | boolean;
const kv = (attributes: Record<string, Value>): OtlpKeyValue[] =>
  Object.entries(attributes).map(([key, v]) => ({
    key,
    value:
      typeof v === 'string'
        ? { stringValue: v }
        : typeof v === 'boolean'
          ? { boolValue: v }
          : Number.isInteger(v)
            ? { intValue: String(v) }
            : { doubleValue: v },
  }));

interface SpanSpec {
  id: string;
  parent?: string;
  service: 'orders' | 'inventory' | 'payments' | 'notifications';
  name: string;
  /** 1 internal, 2 server, 3 client, 4 producer, 5 consumer */
  kind: number;
  scope: string;
  /** ms after the trace's start */
  from: number;
  to: number;
  attributes?: Record<string, Value>;
  error?: string;
  linkTo?: string;
}

export interface OrderTrace {
  traceId: string;
  orderId: string;
  /** One ExportTraceServiceRequest per service, in the order the services would export them. */
  requests: Array<{ service: string; body: unknown }>;
  spanCount: number;
  /** Span name → its id, for assertions. */
  ids: Record<string, string>;
}

const messaging = (
  operation: 'send' | 'process',
  destination: string,
  orderId: string,
  type: string,
): Record<string, Value> => ({
  'messaging.system': 'rabbitmq',
  'messaging.operation.type': operation,
  'messaging.operation.name': operation === 'process' ? 'process' : 'publish',
  'messaging.destination.name': destination,
  'messaging.message.id': hex(8),
  'messaging.message.conversation_id': orderId,
  'warren.message.type': type,
});

/** The trace of one order that went to CONFIRMED, starting at startMs (default: now less 200 ms). */
export function orderTrace(orderId: string, startMs = Date.now() - 200): OrderTrace {
  const traceId = hex(16);
  const ids: Record<string, string> = {};
  const id = (name: string) => (ids[name] = hex(8));
  const M = '@warren/messaging';
  const specs: SpanSpec[] = [
    {
      id: id('POST /orders'),
      service: 'orders',
      name: 'POST /orders',
      kind: 2,
      scope: '@opentelemetry/instrumentation-http',
      from: 0,
      to: 19.4,
      attributes: {
        'http.request.method': 'POST',
        'http.route': '/orders',
        'http.response.status_code': 201,
        'warren.order.id': orderId,
      },
    },
    {
      id: id('orders insert'),
      parent: ids['POST /orders'],
      service: 'orders',
      name: 'pg.query:INSERT warren',
      kind: 3,
      scope: '@opentelemetry/instrumentation-pg',
      from: 2.1,
      to: 6.8,
      attributes: { 'db.system.name': 'postgresql', 'db.operation.name': 'INSERT' },
    },
    {
      id: id('send order.placed'),
      parent: ids['POST /orders'],
      service: 'orders',
      name: 'send warren.events',
      kind: 4,
      scope: M,
      from: 24.5,
      to: 26.9,
      attributes: messaging('send', 'warren.events', orderId, 'order.placed'),
      linkTo: ids['POST /orders'],
    },
    {
      id: id('process order-placed'),
      parent: ids['send order.placed'],
      service: 'inventory',
      name: 'process inventory.order-placed',
      kind: 5,
      scope: M,
      from: 28.3,
      to: 41.0,
      attributes: messaging('process', 'inventory.order-placed', orderId, 'order.placed'),
    },
    {
      id: id('reserve'),
      parent: ids['process order-placed'],
      service: 'inventory',
      name: 'pg.query:UPDATE warren',
      kind: 3,
      scope: '@opentelemetry/instrumentation-pg',
      from: 30.0,
      to: 34.6,
      attributes: { 'db.system.name': 'postgresql', 'db.operation.name': 'UPDATE' },
    },
    {
      id: id('send stock.reserved'),
      parent: ids['process order-placed'],
      service: 'inventory',
      name: 'send warren.events',
      kind: 4,
      scope: M,
      from: 42.4,
      to: 43.9,
      attributes: messaging('send', 'warren.events', orderId, 'stock.reserved'),
      linkTo: ids['process order-placed'],
    },
    {
      id: id('saga reserved'),
      parent: ids['send stock.reserved'],
      service: 'orders',
      name: 'process orders.saga',
      kind: 5,
      scope: M,
      from: 45.1,
      to: 55.7,
      attributes: messaging('process', 'orders.saga', orderId, 'stock.reserved'),
    },
    {
      id: id('send capture'),
      parent: ids['saga reserved'],
      service: 'orders',
      name: 'send warren.commands',
      kind: 4,
      scope: M,
      from: 50.2,
      to: 51.3,
      attributes: messaging('send', 'warren.commands', orderId, 'payments.capture'),
    },
    {
      id: id('process capture'),
      parent: ids['send capture'],
      service: 'payments',
      name: 'process payments.capture',
      kind: 5,
      scope: M,
      from: 53.0,
      to: 96.2,
      attributes: messaging('process', 'payments.capture', orderId, 'payments.capture'),
    },
    {
      id: id('gateway'),
      parent: ids['process capture'],
      service: 'payments',
      name: 'POST',
      kind: 3,
      scope: '@opentelemetry/instrumentation-http',
      from: 55.4,
      to: 89.8,
      attributes: {
        'http.request.method': 'POST',
        'server.address': 'gateway.local',
        'http.response.status_code': 200,
      },
    },
    {
      id: id('send captured'),
      parent: ids['process capture'],
      service: 'payments',
      name: 'send warren.events',
      kind: 4,
      scope: M,
      from: 91.0,
      to: 92.2,
      attributes: messaging('send', 'warren.events', orderId, 'payment.captured'),
    },
    {
      id: id('saga captured'),
      parent: ids['send captured'],
      service: 'orders',
      name: 'process orders.saga',
      kind: 5,
      scope: M,
      from: 94.0,
      to: 104.5,
      attributes: messaging('process', 'orders.saga', orderId, 'payment.captured'),
    },
    {
      id: id('send confirmed'),
      parent: ids['saga captured'],
      service: 'orders',
      name: 'send warren.events',
      kind: 4,
      scope: M,
      from: 100.1,
      to: 101.0,
      attributes: messaging('send', 'warren.events', orderId, 'order.confirmed'),
    },
    {
      id: id('process confirmed'),
      parent: ids['send confirmed'],
      service: 'notifications',
      name: 'process notifications.order-events',
      kind: 5,
      scope: M,
      from: 103.2,
      to: 110.9,
      attributes: messaging('process', 'notifications.order-events', orderId, 'order.confirmed'),
    },
    {
      id: id('job add'),
      parent: ids['process confirmed'],
      service: 'notifications',
      name: 'add send-email',
      kind: 4,
      scope: 'bullmq',
      from: 105.0,
      to: 106.4,
      attributes: { 'bullmq.queue.name': 'emails', 'warren.order.id': orderId },
    },
    {
      id: id('job'),
      parent: ids['job add'],
      service: 'notifications',
      name: 'process send-email',
      kind: 5,
      scope: 'bullmq',
      from: 112.0,
      to: 176.0,
      attributes: { 'bullmq.queue.name': 'emails', 'bullmq.job.attempts': 2 },
    },
    {
      id: id('smtp failed'),
      parent: ids['job'],
      service: 'notifications',
      name: 'smtp send',
      kind: 3,
      scope: '@warren/notifications',
      from: 114.0,
      to: 131.5,
      attributes: { 'warren.email.template': 'order-confirmed' },
      error: '421 4.3.0 try again later',
    },
    {
      id: id('smtp send'),
      parent: ids['job'],
      service: 'notifications',
      name: 'smtp send',
      kind: 3,
      scope: '@warren/notifications',
      from: 150.3,
      to: 174.8,
      attributes: { 'warren.email.template': 'order-confirmed' },
    },
  ];
  const nanos = (ms: number) => (BigInt(Math.round((startMs + ms) * 1000)) * 1000n).toString();
  const services = ['orders', 'inventory', 'payments', 'notifications'] as const;
  const requests = services.map((service) => {
    const mine = specs.filter((s) => s.service === service);
    const scopes = [...new Set(mine.map((s) => s.scope))];
    return {
      service,
      body: {
        resourceSpans: [
          {
            resource: {
              attributes: kv({
                'service.name': service,
                'service.instance.id': service,
                'telemetry.sdk.language': 'nodejs',
              }),
            },
            scopeSpans: scopes.map((scope) => ({
              scope: { name: scope, version: '1.0.0' },
              spans: mine
                .filter((s) => s.scope === scope)
                .map((s) => ({
                  traceId,
                  spanId: s.id,
                  parentSpanId: s.parent ?? '',
                  name: s.name,
                  kind: s.kind,
                  startTimeUnixNano: nanos(s.from),
                  endTimeUnixNano: nanos(s.to),
                  attributes: kv(s.attributes ?? {}),
                  droppedAttributesCount: 0,
                  events: s.error
                    ? [
                        {
                          timeUnixNano: nanos(s.to),
                          name: 'exception',
                          attributes: kv({ 'exception.type': 'SMTPError', 'exception.message': s.error }),
                        },
                      ]
                    : [],
                  status: s.error ? { code: 2, message: s.error } : { code: 0 },
                  links: s.linkTo
                    ? [{ traceId, spanId: s.linkTo, attributes: kv({ 'warren.link': 'outbox-row' }) }]
                    : [],
                })),
            })),
          },
        ],
      },
    };
  });
  return { traceId, orderId, requests, spanCount: specs.length, ids };
}

/** POSTs OTLP/HTTP JSON to a console's /v1/traces. */
export async function postTraces(
  base: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}
