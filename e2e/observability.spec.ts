// Observability end to end, on both brokers: the services run as processes with tracing on (OTLP/JSON to an
// in-memory receiver of the test's own), an order is placed over HTTP, and
// - its trace is one tree: every span of every service that touched the order shares one trace id, has its parent
//   in the trace (no orphans), and the tree holds the POST, the saga in orders, the reservation in inventory, the
//   capture in payments, and both emails' jobs and SMTP sends in notifications, each under the right parent;
// - every JSON log line those services wrote about the order carries that trace id;
// - every service's GET /metrics is Prometheus text (tools/testing/prometheus.ts reads it as Prometheus does) with
//   the expected families, and the counts move by exactly what the test did.
import { OtlpReceiver, SpanKind, type ReceivedSpan } from '../tools/testing/otlp-receiver';
import { parsePrometheusText, type PrometheusFamily } from '../tools/testing/prometheus';
import { placeOrder, settled } from './support/orders';
import { mailsTo } from './support/observe';
import { brokers, eventually, http, Stack, type ServiceName } from './support/stack';

const SERVICES: ServiceName[] = ['orders', 'inventory', 'payments', 'notifications', 'analytics'];

describe.each(brokers())('observability ($name broker, real processes)', ({ amqpUrl }) => {
  let receiver: OtlpReceiver;
  const stack = new Stack(amqpUrl, { LOG_FORMAT: 'json', SAGA_STEP_TIMEOUT_MS: '60000' }, { services: SERVICES });

  beforeAll(async () => {
    receiver = await OtlpReceiver.start();
    Object.assign(stack.extraEnv, receiver.env);
    await stack.start();
  }, 120_000);

  afterAll(async () => {
    await stack.teardown();
    await receiver?.close();
  });

  /** The spans of the order's trace: the one trace every span that names the order belongs to. */
  const traceOf = (orderId: string): { traceId: string; spans: ReceivedSpan[] } | undefined => {
    const tagged = receiver
      .spans()
      .filter(
        (s) =>
          s.attributes['warren.order.id'] === orderId || s.attributes['messaging.message.conversation_id'] === orderId,
      );
    const ids = new Set(tagged.map((s) => s.traceId));
    if (ids.size > 1) throw new Error(`order ${orderId} is in ${ids.size} traces: ${[...ids].join(', ')}`);
    const [traceId] = ids;
    return traceId ? { traceId, spans: receiver.trace(traceId) } : undefined;
  };

  const byId = (spans: ReceivedSpan[]) => new Map(spans.map((s) => [s.spanId, s]));
  /** The chain from a span up to the root, the span itself first. */
  const ancestry = (span: ReceivedSpan, spans: ReceivedSpan[]): ReceivedSpan[] => {
    const index = byId(spans);
    const chain = [span];
    for (let p = span.parentSpanId; p; p = index.get(p)?.parentSpanId) {
      const parent = index.get(p);
      if (!parent) break;
      chain.push(parent);
    }
    return chain;
  };
  const describeTrace = (spans: ReceivedSpan[]) =>
    spans.map((s) => `${s.service} ${s.name} (${s.spanId} <- ${s.parentSpanId ?? 'root'})`).join('\n');

  it('places an order over HTTP and records one trace across every service, with correct parents', async () => {
    const customer = `trace-${stack.namespace}@example.com`;
    const orderId = await placeOrder(stack, customer, [{ sku: 'SKU-002', quantity: 1 }]);
    expect((await settled(stack, orderId)).status).toBe('CONFIRMED');
    await mailsTo(stack, customer, 2);

    // spans arrive in batches from five processes: wait for the tree to be complete, then check it whole
    const { traceId, spans } = await eventually(
      'the order trace to be complete',
      () => {
        const t = traceOf(orderId);
        if (!t) return undefined;
        const smtp = t.spans.filter((s) => s.name === 'smtp send');
        const index = byId(t.spans);
        const orphans = t.spans.filter((s) => s.parentSpanId && !index.has(s.parentSpanId));
        return smtp.length === 2 && orphans.length === 0 && new Set(t.spans.map((s) => s.service)).size >= 4
          ? t
          : undefined;
      },
      30_000,
      200,
    ).catch((err: Error) => {
      const t = traceOf(orderId);
      throw new Error(`${err.message}\n${t ? describeTrace(t.spans) : 'no span names the order'}`);
    });

    // one root: the POST /orders the customer made, a server span of orders
    const roots = spans.filter((s) => !s.parentSpanId);
    expect(
      roots.map((s) => [s.service, s.kind, s.attributes['http.request.method'] ?? s.attributes['http.method']]),
    ).toEqual([['orders', SpanKind.server, 'POST']]);
    expect(new Set(spans.map((s) => s.service))).toEqual(new Set(['orders', 'inventory', 'payments', 'notifications']));

    const consumers = (service: string) =>
      spans.filter((s) => s.service === service && s.kind === SpanKind.consumer && s.scope === '@warren/messaging');
    const parentOf = (s: ReceivedSpan) => spans.find((p) => p.spanId === s.parentSpanId)!;
    // every message handled about the order continues the trace from the span that sent (or wrote) it, in
    // another service for commands and events
    for (const service of ['inventory', 'payments', 'notifications'] as const) {
      const handled = consumers(service);
      expect(handled.length).toBeGreaterThan(0);
      for (const s of handled) {
        expect(parentOf(s)).toMatchObject({ kind: SpanKind.producer, service: 'orders' });
        expect(s.name).toMatch(/^process /);
        expect(s.attributes).toMatchObject({
          'messaging.system': 'rabbitmq',
          'messaging.operation.type': 'process',
          'messaging.message.conversation_id': orderId,
        });
      }
    }
    // every message went through an outbox written inside a span: the relay's send is a child of that span and
    // links it, and no write needed a create span of its own
    const relayed = spans.filter(
      (s) => s.kind === SpanKind.producer && s.links.some((l) => l.attributes['warren.link'] === 'outbox-row'),
    );
    expect(relayed.length).toBeGreaterThan(0);
    for (const s of relayed)
      expect(s.links).toEqual([{ traceId, spanId: s.parentSpanId, attributes: { 'warren.link': 'outbox-row' } }]);
    expect(spans.filter((s) => s.name.startsWith('create '))).toEqual([]);
    // the saga's steps in orders: the replies from inventory and payments handled under their senders' spans
    const sagaSteps = consumers('orders');
    expect(sagaSteps.map((s) => parentOf(s).service).sort()).toEqual(expect.arrayContaining(['inventory', 'payments']));
    // the capture in payments happened in the trace
    expect(spans.some((s) => s.service === 'payments' && /capture/.test(s.name))).toBe(true);
    // each email: the SMTP send under its BullMQ job, the job under the handling of the order event
    for (const send of spans.filter((s) => s.name === 'smtp send')) {
      const chain = ancestry(send, spans);
      expect(chain.at(-1)).toBe(roots[0]);
      expect(
        chain.some(
          (s) => s.service === 'notifications' && s.scope === '@warren/messaging' && s.kind === SpanKind.consumer,
        ),
      ).toBe(true);
      expect(chain.some((s) => s.service === 'notifications' && s.scope.includes('bullmq'))).toBe(true);
    }

    // the JSON logs: every line about the order, in every service that touched it, carries the trace id
    await eventually(
      'each service to log about the order with its trace id',
      () => {
        const missing = (['orders', 'inventory', 'payments', 'notifications'] as const).filter(
          (name) => !jsonLines(stack.services[name].tail(200_000)).some((l) => l.trace_id === traceId),
        );
        return missing.length === 0 ? true : undefined;
      },
      10_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${stack.logs()}`);
    });
    for (const name of ['orders', 'inventory', 'payments', 'notifications'] as const) {
      const lines = jsonLines(stack.services[name].tail(200_000));
      const aboutOrder = lines.filter((l) => typeof l.msg === 'string' && l.msg.includes(orderId));
      expect([name, aboutOrder.length > 0]).toEqual([name, true]);
      for (const line of aboutOrder) expect([name, line.msg, line.trace_id]).toEqual([name, line.msg, traceId]);
    }
  });

  it("serves Prometheus text on every service's /metrics, counting exactly what the test did", async () => {
    const before = await scrapeAll(stack);
    const customers = [`metrics-a-${stack.namespace}@example.com`, `metrics-b-${stack.namespace}@example.com`];
    const ids: string[] = [];
    for (const c of customers) ids.push(await placeOrder(stack, c, [{ sku: 'SKU-003', quantity: 1 }]));
    for (const id of ids) expect((await settled(stack, id)).status).toBe('CONFIRMED');
    for (const c of customers) await mailsTo(stack, c, 2);
    const clicks = await http('POST', `${stack.url('analytics')}/collect`, {
      events: Array.from({ length: 3 }, (_, i) => ({
        type: 'page_view',
        visitorId: `v${i}`,
        url: 'https://shop.example/metrics-test',
      })),
    });
    expect(clicks.status).toBeLessThan(300);
    // one read of each service's own API, so every service has requests to count
    const reads: Array<[ServiceName, string, string]> = [
      ['orders', '/orders', '/orders'],
      ['inventory', '/stock', '/stock'],
      ['payments', `/payments?orderId=${ids[0]}`, '/payments'],
      ['notifications', '/notifications', '/notifications'],
      ['analytics', '/stats', '/stats'],
    ];
    for (const [service, url] of reads)
      expect([service, (await http('GET', `${stack.url(service)}${url}`)).status]).toEqual([service, 200]);
    // every family a service is documented to expose (docs/observability.md)
    const after = await eventually(
      'the counters to settle',
      async () => {
        const now = await scrapeAll(stack);
        const d = (service: ServiceName, name: string, labels: Record<string, string> = {}) =>
          sum(now[service], name, labels) - sum(before[service], name, labels);
        return d('orders', 'warren_saga_outcomes_total', { warren_saga_outcome: 'confirmed' }) === 2 &&
          d('notifications', 'warren_emails_sent_total') === 4
          ? now
          : undefined;
      },
      15_000,
      200,
    );
    const delta = (service: ServiceName, name: string, labels: Record<string, string> = {}) =>
      sum(after[service], name, labels) - sum(before[service], name, labels);

    for (const service of SERVICES) {
      const families = after[service];
      // a family shows once it has a first value: notifications publishes nothing (its emails go through BullMQ)
      const publishes = service !== 'notifications' ? ['messaging_client_sent_messages_total'] : [];
      for (const name of [
        'http_server_request_duration_seconds',
        'process_memory_usage_bytes',
        'messaging_client_consumed_messages_total',
        'messaging_process_duration_seconds',
        ...publishes,
      ]) {
        expect([service, name, families.has(name)]).toEqual([service, name, true]);
      }
      expect([service, [...families.keys()].some((n) => n.startsWith('nodejs_eventloop'))]).toEqual([service, true]);
    }
    // HTTP: two POST /orders answered 201, and the route is the pattern, not the URL
    expect(
      delta('orders', 'http_server_request_duration_seconds_count', {
        http_request_method: 'POST',
        http_route: '/orders',
        http_response_status_code: '201',
      }),
    ).toBe(2);
    for (const [service, , route] of reads)
      expect([
        service,
        route,
        delta(service, 'http_server_request_duration_seconds_count', {
          http_request_method: 'GET',
          http_route: route,
          http_response_status_code: '200',
        }),
      ]).toEqual([service, route, 1]);
    expect(
      delta('analytics', 'http_server_request_duration_seconds_count', {
        http_request_method: 'POST',
        http_route: '/collect',
        http_response_status_code: '202',
      }),
    ).toBe(1);
    // the saga and the emails
    expect(delta('orders', 'warren_saga_outcomes_total', { warren_saga_outcome: 'confirmed' })).toBe(2);
    expect(delta('orders', 'warren_saga_outcomes_total', { warren_saga_outcome: 'cancelled' })).toBe(0);
    expect(delta('notifications', 'warren_emails_sent_total')).toBe(4);
    expect(delta('notifications', 'warren_emails_failed_total')).toBe(0);
    // each order's placed and confirmed events reached notifications' queue: 2 orders, 2 events each
    expect(
      delta('notifications', 'messaging_client_consumed_messages_total', {
        messaging_destination_name: `${stack.namespace}.notifications.order-events`,
      }),
    ).toBe(4);
    expect(
      delta('notifications', 'messaging_process_duration_seconds_count', {
        messaging_destination_name: `${stack.namespace}.notifications.order-events`,
      }),
    ).toBe(4);
    // nothing failed, so nothing was retried or parked
    for (const service of SERVICES) {
      expect([service, delta(service, 'warren_messaging_failed_messages_total')]).toEqual([service, 0]);
      expect([service, delta(service, 'warren_messaging_dead_lettered_messages_total')]).toEqual([service, 0]);
    }
    // the outbox drained; BullMQ's counts are there
    await eventually('the outbox backlog to be 0', async () =>
      sum((await scrapeAll(stack)).orders, 'warren_outbox_backlog') === 0 ? true : undefined,
    );
    expect(after.notifications.has('warren_bullmq_jobs')).toBe(true);
  });
});

/** The JSON lines of a log (a log line is whatever the service wrote). */
function jsonLines(text: string): Array<Record<string, any>> {
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .flatMap((l) => {
      try {
        return [JSON.parse(l)];
      } catch {
        return [];
      }
    });
}

async function scrapeAll(stack: Stack): Promise<Record<ServiceName, Map<string, PrometheusFamily>>> {
  const out = {} as Record<ServiceName, Map<string, PrometheusFamily>>;
  for (const service of SERVICES) {
    const res = await fetch(`${stack.url(service)}/metrics`);
    expect([service, res.status, res.headers.get('content-type')]).toEqual([
      service,
      200,
      expect.stringContaining('text/plain'),
    ]);
    out[service] = parsePrometheusText(await res.text());
  }
  return out;
}

/** The sum of a sample's values over every series whose labels include `labels` (0 when there is none). */
function sum(families: Map<string, PrometheusFamily>, sample: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const family of families.values()) {
    for (const s of family.samples) {
      if (s.name !== sample) continue;
      if (Object.entries(labels).every(([k, v]) => s.labels[k] === v)) total += s.value;
    }
  }
  return total;
}
