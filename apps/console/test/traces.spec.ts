// The console's OTLP receiver (POST /v1/traces, OTLP/HTTP JSON) and its API: what it accepts, stores and answers;
// what it refuses and why (400, 413, 415, 405); its bounds; the index by order id; the live stream's `traces`
// event; and forwarding to another receiver, a real HTTP server here, including one that is down or stalls.
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import { eventually } from '../../../tools/testing/eventually';
import { freePort } from '../../../tools/testing/ports';
import type { OrderTraces, Trace, TraceReceiverState } from '../src/contracts/traces';
import { OtlpForwarder } from '../src/server/traces/otlp-forwarder';
import { closedUrl, listen, startConsole, type TestConsole } from './support/console';
import { orderTrace, postTraces } from './support/order-trace';

const getJson = async (url: string): Promise<{ status: number; body: any }> => {
  const res = await fetch(url);
  return { status: res.status, body: await res.json() };
};
const health = async (base: string): Promise<Omit<TraceReceiverState, 'recentOrders'>> =>
  (await getJson(`${base}/api/health`)).body.traces;

/** One span of its own trace, with the attributes given (an order id, or nothing). */
const single = (
  attributes: Record<string, string> = {},
  traceId = randomUUID().replace(/-/g, ''),
  spanId = randomUUID().replace(/-/g, '').slice(0, 16),
) => ({
  resourceSpans: [
    {
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'orders' } }] },
      scopeSpans: [
        {
          scope: { name: 'test' },
          spans: [
            {
              traceId,
              spanId,
              name: 'GET /orders',
              kind: 2,
              startTimeUnixNano: '1764700000000000000',
              endTimeUnixNano: 1764700000002500000,
              attributes: Object.entries(attributes).map(([key, v]) => ({ key, value: { stringValue: v } })),
            },
          ],
        },
      ],
    },
  ],
});

/** A little OTLP receiver standing in for Jaeger: it keeps what it is sent, answering with `status`. */
class FakeJaeger {
  readonly bodies: Array<{ contentType?: string; contentEncoding?: string; body: Buffer }> = [];
  status = 200;
  /** While set, requests are held unanswered (a receiver that stalls). */
  hold = false;
  readonly held: ServerResponse[] = [];
  private readonly server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (this.hold) return void this.held.push(res);
      this.bodies.push({
        contentType: req.headers['content-type'],
        contentEncoding: req.headers['content-encoding'],
        body: Buffer.concat(chunks),
      });
      res
        .writeHead(this.status, { 'content-type': 'application/json' })
        .end(this.status === 200 ? '{}' : '{"message":"jaeger is unwell"}');
    });
  });
  url = '';

  static async start(): Promise<FakeJaeger> {
    const jaeger = new FakeJaeger();
    const port = await freePort();
    await new Promise<void>((resolve) => jaeger.server.listen(port, '127.0.0.1', resolve));
    jaeger.url = `http://127.0.0.1:${port}/v1/traces`;
    return jaeger;
  }

  close(): Promise<void> {
    this.held.forEach((res) => res.destroy());
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

describe('the OTLP receiver: POST /v1/traces', () => {
  let server: TestConsole;
  let base: string;

  beforeAll(async () => {
    server = await startConsole({ CONSOLE_OTLP_MAX_BYTES: String(64 * 1024) });
    base = server.base;
  });
  afterAll(() => server?.close());

  it('stores a multi-service trace, answers {} and gives it back by order id and by trace id', async () => {
    const orderId = randomUUID();
    const trace = orderTrace(orderId);
    for (const r of trace.requests) expect(await postTraces(base, r.body)).toEqual({ status: 200, body: {} });

    const byOrder = await getJson(`${base}/api/traces?orderId=${orderId}`);
    expect(byOrder.status).toBe(200);
    const answer = byOrder.body as OrderTraces;
    expect(answer.orderId).toBe(orderId);
    expect(answer.traces.map((t) => t.traceId)).toEqual([trace.traceId]);
    const t = answer.traces[0];
    expect(t.spans).toHaveLength(trace.spanCount);
    expect(new Set(t.services)).toEqual(new Set(['orders', 'inventory', 'payments', 'notifications']));
    expect(t.orderIds).toEqual([orderId]);
    expect(t.durationMs).toBeCloseTo(176, 3);

    const byId = (await getJson(`${base}/api/traces/${trace.traceId.toUpperCase()}`)) as {
      status: number;
      body: Trace;
    };
    expect(byId.status).toBe(200);
    const root = byId.body.spans[0];
    expect(root).toMatchObject({
      spanId: trace.ids['POST /orders'],
      name: 'POST /orders',
      kind: 'server',
      service: 'orders',
      instance: 'orders',
      scope: '@opentelemetry/instrumentation-http',
      status: { code: 'unset' },
    });
    expect(root.parentSpanId).toBeUndefined();
    expect(root.durationMs).toBeCloseTo(19.4, 3);
    expect(root.attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.response.status_code': 201,
      'warren.order.id': orderId,
    });
    const relay = byId.body.spans.find((s) => s.spanId === trace.ids['send order.placed'])!;
    expect(relay).toMatchObject({
      kind: 'producer',
      parentSpanId: trace.ids['POST /orders'],
      links: [
        { traceId: trace.traceId, spanId: trace.ids['POST /orders'], attributes: { 'warren.link': 'outbox-row' } },
      ],
    });
    const failed = byId.body.spans.find((s) => s.spanId === trace.ids['smtp failed'])!;
    expect(failed).toMatchObject({
      kind: 'client',
      service: 'notifications',
      status: { code: 'error', message: '421 4.3.0 try again later' },
      events: [{ name: 'exception', attributes: { 'exception.type': 'SMTPError' } }],
    });
    // spans by start time
    expect(byId.body.spans.map((s) => s.startMs)).toEqual(
      [...byId.body.spans.map((s) => s.startMs)].sort((a, b) => a - b),
    );
  });

  it('takes the times as strings or numbers, the enums by name, gzip, and an empty request; a span sent again replaces itself', async () => {
    const traceId = 'ab'.repeat(16);
    const body = {
      resourceSpans: [
        {
          resource: {
            attributes: [
              { key: 'service.name', value: { stringValue: 'payments' } },
              { key: 'big', value: { intValue: '9007199254740993' } },
            ],
          },
          scopeSpans: [
            {
              spans: [
                {
                  traceId,
                  spanId: '00000000000000a1',
                  name: 'capture',
                  kind: 'SPAN_KIND_INTERNAL',
                  startTimeUnixNano: 1764700000000000000,
                  endTimeUnixNano: '1764700000000040000',
                  status: { code: 'STATUS_CODE_ERROR' },
                  attributes: [
                    { key: 'n', value: { intValue: 3 } },
                    { key: 'big', value: { intValue: '9007199254740993' } },
                    { key: 'list', value: { arrayValue: { values: [{ stringValue: 'a' }, { boolValue: true }] } } },
                    { key: 'map', value: { kvlistValue: { values: [{ key: 'x', value: { doubleValue: 1.5 } }] } } },
                    { key: 'empty', value: {} },
                  ],
                  unknownFutureField: 'ignored',
                },
              ],
            },
          ],
        },
      ],
    };
    expect(await postTraces(base, gzipSync(JSON.stringify(body)), { 'content-encoding': 'gzip' })).toEqual({
      status: 200,
      body: {},
    });
    expect(await postTraces(base, body)).toEqual({ status: 200, body: {} }); // the exporter's retry: no second span
    expect(await postTraces(base, {})).toEqual({ status: 200, body: {} });
    expect(
      await postTraces(base, { resourceSpans: [] }, { 'content-type': 'application/json; charset=utf-8' }),
    ).toEqual({ status: 200, body: {} });
    const { body: t } = (await getJson(`${base}/api/traces/${traceId}`)) as { body: Trace };
    expect(t.spans).toHaveLength(1);
    expect(t.spans[0]).toMatchObject({
      kind: 'internal',
      service: 'payments',
      durationMs: 0.04,
      status: { code: 'error' },
      attributes: { n: 3, big: '9007199254740993', list: ['a', true], map: { x: 1.5 }, empty: null },
    });
  });

  it('refuses a malformed body with a 400 listing every problem, and stores nothing of it', async () => {
    const before = await health(base);
    expect(await postTraces(base, '{"resourceSpans": [')).toMatchObject({
      status: 400,
      body: { statusCode: 400, error: 'Bad Request', message: expect.stringMatching(/^the body is not JSON: /) },
    });
    const bad = {
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: [
                {
                  traceId: 'xyz',
                  spanId: '0000000000000000',
                  name: 'a',
                  startTimeUnixNano: '-1',
                  endTimeUnixNano: '2',
                  kind: 9,
                },
                {
                  traceId: 'ab'.repeat(16),
                  spanId: 'ab'.repeat(8),
                  startTimeUnixNano: '1',
                  endTimeUnixNano: '2',
                  attributes: [{ key: 'k', value: { stringValue: 'a', intValue: 1 } }],
                },
              ],
            },
          ],
        },
      ],
    };
    const res = await postTraces(base, bad);
    expect(res.status).toBe(400);
    expect(res.body.message).toBe('the body is not an OTLP ExportTraceServiceRequest (OTLP/HTTP JSON)');
    const at = (path: string) =>
      res.body.issues.filter((i: { path: string }) => i.path === path).map((i: { message: string }) => i.message);
    const span0 = 'resourceSpans.0.scopeSpans.0.spans.0';
    const span1 = 'resourceSpans.0.scopeSpans.0.spans.1';
    expect(at(`${span0}.traceId`)).toEqual(['must be 32 hex digits (a trace id)']);
    expect(at(`${span0}.spanId`)).toEqual(['must not be all zeros (an invalid span id)']);
    expect(at(`${span0}.startTimeUnixNano`)).toHaveLength(1);
    expect(at(`${span0}.kind`)).toEqual(['must be a SpanKind (0 to 5)']);
    expect(at(`${span1}.name`)).toHaveLength(1);
    expect(at(`${span1}.attributes.0.value`)).toEqual(['an AnyValue holds one of its fields, not several']);
    expect(await postTraces(base, [])).toMatchObject({ status: 400, body: { issues: [{ path: '(body)' }] } });
    expect(await postTraces(base, { resourceSpans: 'all of them' })).toMatchObject({
      status: 400,
      body: { issues: [{ path: 'resourceSpans' }] },
    });
    const after = await health(base);
    expect(after.stored.spans).toBe(before.stored.spans);
    expect(after.refused.requests).toBe(before.refused.requests + 4);
    expect(after.refused.lastReason).toMatch(/^400: /);
  });

  it('names each malformed attribute value by its path', async () => {
    const attrs = (attributes: unknown) => ({ resourceSpans: [{ resource: { attributes }, scopeSpans: [] }] });
    const problems = async (attributes: unknown) => {
      const res = await postTraces(base, attrs(attributes));
      expect(res.status).toBe(400);
      return res.body.issues.map(
        (i: { path: string; message: string }) =>
          `${i.path.replace('resourceSpans.0.resource.attributes', '@')}: ${i.message}`,
      );
    };
    expect(await problems('service.name=orders')).toEqual(['@: must be a list of {key, value}']);
    expect(
      await problems([
        'k=v',
        { value: { stringValue: 'no key' } },
        { key: 'a', value: { boolValue: 'yes' } },
        { key: 'b', value: { intValue: '1.5' } },
        { key: 'c', value: { doubleValue: 'x' } },
        { key: 'd', value: { arrayValue: { values: 3 } } },
        { key: 'e', value: { arrayValue: { values: [{ stringValue: 1 }] } } },
        { key: 'f', value: { kvlistValue: { values: [{ key: 'g', value: 'plain' }] } } },
        { key: 'h', value: { bytesValue: 5, futureValue: 'ignored' } },
      ]),
    ).toEqual([
      '@.0: must be a {key, value} object',
      '@.1.key: must be a string',
      '@.2.value.boolValue: must be true or false',
      '@.3.value.intValue: must be a whole number',
      '@.4.value.doubleValue: must be a number',
      '@.5.value.arrayValue: must be {values: AnyValue[]}',
      '@.6.value.arrayValue.values.0.stringValue: must be a string',
      '@.7.value.kvlistValue.values.0.value: must be an AnyValue object',
      '@.8.value.bytesValue: must be a string',
    ]);
    // the plain forms all pass: NaN as the JSON mapping writes it, a negative int, nested lists and maps, no value
    expect(
      await postTraces(
        base,
        attrs([
          { key: 'n', value: { doubleValue: 'NaN' } },
          { key: 'i', value: { intValue: -3 } },
          { key: 'l', value: { arrayValue: { values: [{ kvlistValue: { values: [{ key: 'x' }] } }] } } },
          { key: 'none' },
        ]),
      ),
    ).toEqual({ status: 200, body: {} });
  });

  it('caps the problems it lists', async () => {
    const spans = Array.from({ length: 30 }, () => ({ traceId: 'nope' }));
    const res = await postTraces(base, { resourceSpans: [{ scopeSpans: [{ spans }] }] });
    expect(res.status).toBe(400);
    expect(res.body.issues).toHaveLength(21);
    expect(res.body.issues[20].message).toMatch(/^and \d+ more problems$/);
  });

  it('refuses protobuf and other types with a 415 that says to set OTEL_EXPORTER_OTLP_PROTOCOL=http/json', async () => {
    for (const [type, what] of [
      ['application/x-protobuf', 'a protobuf body'],
      ['application/protobuf', 'a protobuf body'],
      ['text/plain', 'a body of type text/plain'],
    ]) {
      const res = await postTraces(base, Buffer.from([0x0a, 0x02, 0x08, 0x01]), { 'content-type': type });
      expect(res).toMatchObject({ status: 415, body: { statusCode: 415, error: 'Unsupported Media Type' } });
      expect(res.body.message).toBe(
        `${what}: this console reads OTLP/HTTP JSON only: set OTEL_EXPORTER_OTLP_PROTOCOL=http/json (or OTEL_EXPORTER_OTLP_TRACES_PROTOCOL) on the exporting service`,
      );
    }
    const bare = await fetch(`${base}/v1/traces`, { method: 'POST', body: new Uint8Array([1, 2, 3]) });
    expect(bare.status).toBe(415);
    expect(((await bare.json()) as { message: string }).message).toMatch(/^a body without a content type: /);
    expect((await postTraces(base, '{}', { 'content-encoding': 'br' })).body.message).toBe(
      "content-encoding 'br' is not read here: send gzip or none (OTEL_EXPORTER_OTLP_COMPRESSION)",
    );
    expect(await postTraces(base, 'not gzip at all', { 'content-encoding': 'gzip' })).toMatchObject({
      status: 400,
      body: { message: expect.stringMatching(/^the body is not valid gzip/) },
    });
    expect((await health(base)).refused.lastReason).toMatch(/^400: the body is not valid gzip/);
  });

  it('refuses a body past CONSOLE_OTLP_MAX_BYTES with a 413: declared, streamed without a length, or inflated from gzip', async () => {
    const big = JSON.stringify({ resourceSpans: [], padding: 'x'.repeat(70 * 1024) });
    const declared = await postTraces(base, big);
    expect(declared).toMatchObject({
      status: 413,
      body: {
        statusCode: 413,
        error: 'Payload Too Large',
        message: expect.stringContaining('this console reads at most 65536 (CONSOLE_OTLP_MAX_BYTES)'),
      },
    });

    // chunked: no content-length, the bound is found while reading
    const streamed = await new Promise<{ status: number; body: any }>((resolve, reject) => {
      const req = request(
        `${base}/v1/traces`,
        { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } },
        (res) => {
          let text = '';
          res.on('data', (d) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
        },
      );
      req.on('error', reject);
      for (let i = 0; i < 70; i++) req.write('x'.repeat(1024));
      req.end();
    });
    expect(streamed).toMatchObject({
      status: 413,
      body: { message: expect.stringContaining('the body is past 65536 bytes') },
    });

    const inflated = await postTraces(base, gzipSync(big), { 'content-encoding': 'gzip' });
    expect(inflated).toMatchObject({
      status: 413,
      body: { message: 'the body inflates past 65536 bytes, the most this console reads (CONSOLE_OTLP_MAX_BYTES)' },
    });
    // the receiver still takes the next one
    expect(await postTraces(base, single())).toEqual({ status: 200, body: {} });
  });

  it('answers 405 to another method and 404 under the path; the API answers 400 for a bad id and 404 for an unknown trace', async () => {
    const get = await fetch(`${base}/v1/traces`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect(
      (
        await fetch(`${base}/v1/traces/extra`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{}',
        })
      ).status,
    ).toBe(404);
    expect(await getJson(`${base}/api/traces?orderId=not-a-uuid`)).toMatchObject({
      status: 400,
      body: { message: 'invalid query', issues: [{ path: 'orderId', message: 'must be an order id (a UUID)' }] },
    });
    expect((await getJson(`${base}/api/traces`)).status).toBe(400);
    expect(await getJson(`${base}/api/traces/xyz`)).toMatchObject({
      status: 400,
      body: {
        message: 'invalid path parameters',
        issues: [{ path: 'traceId', message: 'must be 32 hex digits (a trace id)' }],
      },
    });
    const unknown = 'cd'.repeat(16);
    expect(await getJson(`${base}/api/traces/${unknown}`)).toMatchObject({
      status: 404,
      body: { message: expect.stringContaining(`no trace ${unknown} here`) },
    });
    const orderId = randomUUID();
    expect(await getJson(`${base}/api/traces?orderId=${orderId}`)).toEqual({
      status: 200,
      body: { orderId, traces: [] },
    });
  });

  it('indexes a trace by warren.order.id and by messaging.message.conversation_id, and announces the order on the live stream', async () => {
    const stream = await listen(base);
    try {
      const [a, b] = [randomUUID(), randomUUID()];
      const traceA = single({ 'warren.order.id': a });
      const traceB = single({ 'messaging.message.conversation_id': b });
      await postTraces(base, traceA);
      await postTraces(base, traceB);
      expect((await getJson(`${base}/api/traces?orderId=${a}`)).body.traces.map((t: Trace) => t.traceId)).toEqual([
        traceA.resourceSpans[0].scopeSpans[0].spans[0].traceId,
      ]);
      expect((await getJson(`${base}/api/traces?orderId=${b}`)).body.traces.map((t: Trace) => t.traceId)).toEqual([
        traceB.resourceSpans[0].scopeSpans[0].spans[0].traceId,
      ]);
      const announced = await eventually('both orders on the live stream', () => {
        const last = stream.events.filter((e) => e.type === 'traces').at(-1)?.data.data as
          TraceReceiverState | undefined;
        const ids = last?.recentOrders.map((o) => o.orderId) ?? [];
        return ids.includes(a) && ids.includes(b) ? last : undefined;
      });
      expect(announced!.recentOrders[0]).toMatchObject({ orderId: b, spans: 1, updatedAt: expect.any(String) });
      expect(announced!.received.spans).toBeGreaterThan(0);
    } finally {
      stream.close();
    }
  });
});

describe('the OTLP receiver: bounds', () => {
  let server: TestConsole;

  beforeAll(async () => {
    server = await startConsole({ CONSOLE_TRACES_MAX: '3', CONSOLE_SPANS_MAX: '30' });
  });
  afterAll(() => server?.close());

  it('keeps the latest CONSOLE_TRACES_MAX traces, evicting whole traces, those of no order first, and drops the order index with them', async () => {
    const base = server.base;
    const orders = [randomUUID(), randomUUID(), randomUUID()];
    const traceOf = (body: ReturnType<typeof single>) => body.resourceSpans[0].scopeSpans[0].spans[0].traceId;
    const polled = single(); // a trace of no order (the console's own poll of a service, say)
    const ordered = orders.map((id) => single({ 'warren.order.id': id }));
    await postTraces(base, ordered[0]);
    await postTraces(base, polled);
    await postTraces(base, ordered[1]);
    // a fourth trace: the trace of no order goes, though the first order's is older
    await postTraces(base, ordered[2]);
    expect((await getJson(`${base}/api/traces/${traceOf(polled)}`)).status).toBe(404);
    for (const [i, id] of orders.entries())
      expect((await getJson(`${base}/api/traces?orderId=${id}`)).body.traces.map((t: Trace) => t.traceId)).toEqual([
        traceOf(ordered[i]),
      ]);
    // a fifth: now the least recently updated order trace goes, and its order has no trace left
    await postTraces(base, single({ 'warren.order.id': randomUUID() }));
    expect((await getJson(`${base}/api/traces?orderId=${orders[0]}`)).body).toEqual({ orderId: orders[0], traces: [] });
    expect((await getJson(`${base}/api/traces/${traceOf(ordered[0])}`)).status).toBe(404);
    const h = (await getJson(`${base}/api/health`)).body.traces as TraceReceiverState;
    expect(h.stored).toEqual({ traces: 3, spans: 3, evictedTraces: 2 });
    expect(h.bounds).toEqual({ maxTraces: 3, maxSpans: 30, maxBodyBytes: 4 * 1024 * 1024 });
  });

  it('keeps at most CONSOLE_SPANS_MAX spans: a bigger trace pushes out older ones, and spans past the bound in one trace are refused as a partial success', async () => {
    const base = server.base;
    const big = orderTrace(randomUUID()); // 18 spans
    for (const r of big.requests) expect((await postTraces(base, r.body)).status).toBe(200);
    const second = orderTrace(randomUUID());
    for (const r of second.requests) expect((await postTraces(base, r.body)).status).toBe(200);
    // 36 spans would be past 30: the older order trace went whole
    expect((await getJson(`${base}/api/traces/${big.traceId}`)).status).toBe(404);
    expect((await getJson(`${base}/api/traces/${second.traceId}`)).body.spans).toHaveLength(18);
    expect(((await getJson(`${base}/api/health`)).body.traces as TraceReceiverState).stored.spans).toBeLessThanOrEqual(
      30,
    );

    const traceId = 'ef'.repeat(16);
    const spans = Array.from({ length: 35 }, (_, i) => ({
      traceId,
      spanId: (i + 1).toString(16).padStart(16, '0'),
      name: `s${i}`,
      startTimeUnixNano: '1',
      endTimeUnixNano: '2',
    }));
    expect(await postTraces(base, { resourceSpans: [{ scopeSpans: [{ spans }] }] })).toEqual({
      status: 200,
      body: {
        partialSuccess: {
          rejectedSpans: 5,
          errorMessage:
            '5 span(s) refused: their trace already holds 30 spans, the most the console keeps (CONSOLE_SPANS_MAX)',
        },
      },
    });
    expect((await getJson(`${base}/api/traces/${traceId}`)).body.spans).toHaveLength(30);
    const h = (await getJson(`${base}/api/health`)).body.traces as TraceReceiverState;
    expect(h.stored).toMatchObject({ traces: 1, spans: 30 });
    expect(h.received.rejectedSpans).toBe(5);
  });
});

describe('the OTLP receiver: forwarding (CONSOLE_OTLP_FORWARD_URL)', () => {
  let jaeger: FakeJaeger;
  let server: TestConsole;

  beforeAll(async () => {
    jaeger = await FakeJaeger.start();
    server = await startConsole({ CONSOLE_OTLP_FORWARD_URL: jaeger.url });
  });
  afterAll(async () => {
    await server?.close();
    await jaeger?.close();
  });

  it('passes each accepted body on as it came, and not a refused one', async () => {
    const trace = orderTrace(randomUUID());
    const raw = JSON.stringify(trace.requests[0].body);
    const zipped = gzipSync(JSON.stringify(trace.requests[1].body));
    await postTraces(server.base, raw);
    await postTraces(server.base, zipped, { 'content-encoding': 'gzip' });
    await postTraces(server.base, '{"resourceSpans": 1}'); // 400: not forwarded
    await eventually('both bodies at the other receiver', () => (jaeger.bodies.length >= 2 ? true : undefined));
    expect(jaeger.bodies[0]).toEqual({
      contentType: 'application/json',
      contentEncoding: undefined,
      body: Buffer.from(raw),
    });
    expect(jaeger.bodies[1]).toEqual({ contentType: 'application/json', contentEncoding: 'gzip', body: zipped });
    const forward = await eventually('the counts', async () => {
      const f = (await health(server.base)).forward;
      return f?.sent === 2 ? f : undefined;
    });
    expect(forward).toEqual({ url: jaeger.url, sent: 2, failed: 0, dropped: 0, queued: 0 });
    expect(jaeger.bodies).toHaveLength(2);
  });

  it('counts a refusal by the other receiver, with its reason', async () => {
    jaeger.status = 503;
    try {
      await postTraces(server.base, single());
      const forward = await eventually('the failure to be counted', async () => {
        const f = (await health(server.base)).forward;
        return f && f.failed >= 1 ? f : undefined;
      });
      expect(forward.lastError).toBe(`${jaeger.url} answered 503: {"message":"jaeger is unwell"}`);
    } finally {
      jaeger.status = 200;
    }
  });
});

describe('the OTLP receiver: a forwarding target that is down or stalls', () => {
  it('counts every failed forward, and the receiver answers and stores as before', async () => {
    const down = `${await closedUrl()}/v1/traces`;
    const server = await startConsole({ CONSOLE_OTLP_FORWARD_URL: down });
    try {
      const orderId = randomUUID();
      const trace = orderTrace(orderId);
      const started = Date.now();
      for (const r of trace.requests) expect(await postTraces(server.base, r.body)).toEqual({ status: 200, body: {} });
      expect(Date.now() - started).toBeLessThan(2000);
      expect((await getJson(`${server.base}/api/traces?orderId=${orderId}`)).body.traces[0].spans).toHaveLength(
        trace.spanCount,
      );
      const forward = await eventually('four failures', async () => {
        const f = (await health(server.base)).forward;
        return f && f.failed === 4 ? f : undefined;
      });
      expect(forward).toMatchObject({
        url: down,
        sent: 0,
        failed: 4,
        dropped: 0,
        queued: 0,
        lastError: `${down}: ECONNREFUSED`,
        lastErrorAt: expect.any(String),
      });
      // the live stream says so too, for the console's page
      const stream = await listen(server.base);
      try {
        // (the stream's events come at most every 250 ms: the last failures may be in the next one)
        const state = await eventually('the traces event with the failures', () => {
          const last = stream.events.filter((e) => e.type === 'traces').at(-1)?.data.data as
            TraceReceiverState | undefined;
          return last?.forward?.failed === 4 ? last : undefined;
        });
        expect(state.forward).toMatchObject({ failed: 4, lastError: `${down}: ECONNREFUSED` });
      } finally {
        stream.close();
      }
    } finally {
      await server.close();
    }
  });

  it('drops (and counts) what overflows its queue while the target stalls, never holding the sender', async () => {
    const jaeger = await FakeJaeger.start();
    jaeger.hold = true;
    const forwarder = new OtlpForwarder({ url: jaeger.url, maxQueued: 2, timeoutMs: 60_000 });
    try {
      const body = { body: Buffer.from('{}'), contentType: 'application/json' };
      for (let i = 0; i < 5; i++) forwarder.push(body); // one in flight, two queued, two dropped
      await eventually('the first request to reach the stalled target', () =>
        jaeger.held.length === 1 ? true : undefined,
      );
      expect(forwarder.stats()).toMatchObject({
        sent: 0,
        failed: 0,
        dropped: 2,
        queued: 2,
        lastError: expect.stringContaining('the queue was full (2 bodies waiting'),
      });
      jaeger.hold = false;
      jaeger.held.splice(0).forEach((res) => res.writeHead(200).end('{}'));
      await forwarder.idle();
      expect(forwarder.stats()).toMatchObject({ sent: 3, failed: 0, dropped: 2, queued: 0 });
    } finally {
      forwarder.close();
      await jaeger.close();
    }
  });

  it('refuses a forward URL that is not http(s) at start', async () => {
    await expect(startConsole({ CONSOLE_OTLP_FORWARD_URL: 'grpc://jaeger:4317' })).rejects.toThrow(
      "CONSOLE_OTLP_FORWARD_URL must be an http(s) URL, got 'grpc://jaeger:4317'",
    );
  });
});
