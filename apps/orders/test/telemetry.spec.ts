// The saga's own telemetry, on the real app over real brokers: warren.saga.outcomes counts each order once when
// it settles, warren.saga.step.duration times every step from the order's history, the spans name the order, and
// every message the saga sends carries the order id as its correlation id.
import { SpanStatusCode, trace } from '@opentelemetry/api';
import { PaymentCaptured, StockReserved } from '@warren/contracts';
import { randomUUID } from 'node:crypto';
import { installTestTelemetry, parentId, spanId, traceId } from '../../../tools/testing/otel';
import { OrdersController } from '../src/orders/orders.controller';
import { SagaSweeperService } from '../src/saga/saga-sweeper.service';
import { eventually, OrdersUnderTest, testMatrix } from './support';

// before any app exists: the services take their meters when the app creates them
const otel = installTestTelemetry();
afterAll(() => otel.shutdown());

const STEP_TIMEOUT_MS = 60_000;
const line = (sku: string, quantity: number) => ({ sku, quantity });
const atOf = (order: { history: Array<{ step: string; at: string }> }, step: string) =>
  Date.parse(order.history.find((h) => h.step === step)!.at);
const OUTCOMES = 'warren.saga.outcomes';
const STEPS = 'warren.saga.step.duration';

describe.each(testMatrix())('orders telemetry ($label)', ({ broker, db }) => {
  // the sweeper runs only when the test calls it: a timeout happens when the test says so
  const t = new OrdersUnderTest(broker, db, { stepTimeoutMs: STEP_TIMEOUT_MS, sweepIntervalMs: 600_000 });

  beforeAll(() => t.start());
  afterAll(() => t.stop());

  /** The current value of every series the test looks at, to compare with later. */
  const snapshot = async () => ({
    confirmed: await otel.total(OUTCOMES, { 'warren.saga.outcome': 'confirmed' }),
    outOfStock: await otel.total(OUTCOMES, {
      'warren.saga.outcome': 'cancelled',
      'warren.saga.reason': 'out-of-stock',
    }),
    declined: await otel.total(OUTCOMES, {
      'warren.saga.outcome': 'cancelled',
      'warren.saga.reason': 'payment-declined',
    }),
    timedOut: await otel.total(OUTCOMES, { 'warren.saga.outcome': 'cancelled', 'warren.saga.reason': 'timeout' }),
    steps: Object.fromEntries(
      await Promise.all(
        ['STOCK_RESERVED', 'CONFIRMED', 'CANCELLED', 'STOCK_RELEASED', 'STOCK_RELEASE_REQUESTED'].map(
          async (s) => [s, await otel.total(STEPS, { 'warren.saga.step': s })] as const,
        ),
      ),
    ),
    confirmedSeconds: (await otel.points(STEPS))
      .filter((p) => p.attributes['warren.saga.step'] === 'CONFIRMED')
      .reduce((sum, p) => sum + (p.sum ?? 0), 0),
  });

  it('counts each settled order once by outcome and reason, and times each step it entered', async () => {
    const before = await snapshot();
    const confirmed = await t.place('ada@example.com', [line('SKU-001', 1)]);
    const outOfStock = await t.place('bob@example.com', [line('SKU-003', 5)]);
    const declined = await t.place('decline@example.com', [line('SKU-004', 1)]);
    const stuck = await t.place('carol@example.com', [line('SKU-999', 1)]); // inventory never answers
    const delivered = await t.place('silent@example.com', [line('SKU-006', 1)]); // payments never answers: the test does

    const confirmedOrder = await t.settled(confirmed, 'CONFIRMED');
    await t.settled(outOfStock, 'CANCELLED');
    await t.settled(declined, 'CANCELLED');
    // the capture for `delivered` comes twice under one message id (a redelivery), then an answer it is past
    await eventually('delivered to wait for its payment', async () =>
      (await t.get(`/orders/${delivered}`)).body.history.some((h: any) => h.step === 'STOCK_RESERVED')
        ? true
        : undefined,
    );
    const messageId = randomUUID();
    const captured = { orderId: delivered, paymentId: randomUUID(), amount: 1000 };
    await t.fakes.messaging.emit(PaymentCaptured, captured, { messageId });
    await t.fakes.messaging.emit(PaymentCaptured, captured, { messageId });
    await t.harness.waitForCount('acked', 2, { messageId });
    const stray = await t.fakes.messaging.emit(StockReserved, {
      orderId: delivered,
      items: [{ sku: 'SKU-006', quantity: 1, unitPrice: 1000 }],
      total: 1000,
    });
    await t.harness.waitFor('acked', { messageId: stray.messageId });
    const deliveredOrder = await t.settled(delivered, 'CONFIRMED');
    // the deadline of the stuck order passes (nothing else is waiting by now)
    expect(await t.orders.app.get(SagaSweeperService).sweep(Date.now() + STEP_TIMEOUT_MS)).toBe(1);
    await t.settled(stuck, 'CANCELLED');
    // the compensations' acknowledgements (declined's and stuck's stock released) are steps too
    for (const id of [declined, stuck])
      await eventually(`STOCK_RELEASED for ${id}`, async () =>
        (await t.get(`/orders/${id}`)).body.history.some((h: any) => h.step === 'STOCK_RELEASED') ? true : undefined,
      );

    const after = await snapshot();
    expect({
      confirmed: after.confirmed - before.confirmed,
      outOfStock: after.outOfStock - before.outOfStock,
      declined: after.declined - before.declined,
      timedOut: after.timedOut - before.timedOut,
    }).toEqual({ confirmed: 2, outOfStock: 1, declined: 1, timedOut: 1 });
    // one point per step entered: reserved (confirmed, declined, delivered), confirmed twice, cancelled three times,
    // two releases acknowledged; PLACED has no step before it and is not timed
    expect(Object.fromEntries(Object.entries(after.steps).map(([s, n]) => [s, n - before.steps[s]]))).toEqual({
      STOCK_RESERVED: 3,
      CONFIRMED: 2,
      CANCELLED: 3,
      STOCK_RELEASED: 2,
      STOCK_RELEASE_REQUESTED: 0,
    });
    expect(await otel.total(STEPS, { 'warren.saga.step': 'PLACED' })).toBe(0);
    // the time recorded is the time between the history's rows
    const expectedSeconds = [confirmedOrder, deliveredOrder].reduce(
      (sum, o) => sum + (atOf(o, 'CONFIRMED') - atOf(o, 'STOCK_RESERVED')) / 1000,
      0,
    );
    expect(after.confirmedSeconds - before.confirmedSeconds).toBeCloseTo(expectedSeconds, 6);
    expect(await otel.metric(STEPS)).toMatchObject({ descriptor: { unit: 's' } });
    // a confirmed order has no reason; only the three cancellation reasons appear
    const reasons = new Set(
      (await otel.points(OUTCOMES)).map(
        (p) => `${p.attributes['warren.saga.outcome']}/${p.attributes['warren.saga.reason'] ?? ''}`,
      ),
    );
    expect([...reasons].sort()).toEqual([
      'cancelled/out-of-stock',
      'cancelled/payment-declined',
      'cancelled/timeout',
      'confirmed/',
    ]);

    // every message sent for these orders, by orders and by the answers in its scope, is correlated by the order id
    const ids = [confirmed, outOfStock, declined, stuck, delivered];
    const sent = [...t.fakes.commands, ...t.fakes.orderEvents].filter((m) => ids.includes(m.payload.orderId));
    expect(sent.length).toBeGreaterThanOrEqual(15);
    for (const m of sent) expect([m.type, m.correlationId]).toEqual([m.type, m.payload.orderId]);

    // each answer applied names the order and the step it entered on the span it was handled in (the messaging
    // library's consumer span); an answer that changed nothing names the order only
    const handled = otel
      .spansNamed(`process ${t.namespace}.orders.saga`)
      .filter((s) => s.attributes['warren.order.id'] === delivered);
    // (sorted: the two deliveries of one capture may end in either order)
    expect(
      handled.map((s) => `${s.attributes['warren.message.type']} ${s.attributes['warren.saga.step'] ?? '-'}`).sort(),
    ).toEqual([
      'inventory.stock-reserved -', // the stray answer: ignored
      'inventory.stock-reserved STOCK_RESERVED',
      'payment.captured -', // the redelivery: the inbox skipped it
      'payment.captured CONFIRMED',
    ]);
  });

  it('names the order on the span of POST /orders, and continues its trace when the deadline cancels it', async () => {
    // HTTP and Nest instrumentations give the handler its span in a service; here the test's span stands in for it
    const controller = t.orders.app.get(OrdersController);
    const post = await trace.getTracer('orders-test').startActiveSpan('POST /orders', async (span) => {
      const order = await controller.place(
        { customerEmail: 'dora@example.com', items: [line('SKU-999', 2)] },
        undefined,
        { status: () => undefined },
      );
      span.end();
      return { id: order.id, span: otel.spans().find((s) => spanId(s) === span.spanContext().spanId)! };
    });
    expect(post.span.attributes['warren.order.id']).toBe(post.id);
    // an order placed without a span (tracing off) has no trace to continue: its timeout starts one
    const untraced = await t.place('dora@example.com', [line('SKU-999', 1)]);

    expect(await t.orders.app.get(SagaSweeperService).sweep(Date.now() + STEP_TIMEOUT_MS)).toBe(2);
    const timeoutOf = (id: string) =>
      eventually(`the timeout span of ${id}`, () =>
        otel.spansNamed('saga timeout').find((s) => s.attributes['warren.order.id'] === id),
      );
    const continued = await timeoutOf(post.id);
    expect([continued.attributes, continued.status.code]).toEqual([
      { 'warren.order.id': post.id, 'warren.saga.step': 'CANCELLED' },
      SpanStatusCode.UNSET,
    ]);
    expect([traceId(continued), parentId(continued)]).toEqual([traceId(post.span), spanId(post.span)]);
    const started = await timeoutOf(untraced);
    expect(started.attributes).toEqual({ 'warren.order.id': untraced, 'warren.saga.step': 'CANCELLED' });
    expect(parentId(started)).toBeUndefined();
    for (const id of [post.id, untraced])
      expect((await t.settled(id, 'CANCELLED')).reason).toBe('timed out waiting for stock reservation');
    // what the timeout sent (the compensation, order.cancelled) travels in the order's trace
    await eventually('the compensation and the event', () =>
      t.fakes.received('inventory.release-stock', post.id).length && t.fakes.events('order.cancelled', post.id).length
        ? true
        : undefined,
    );
    for (const m of [
      ...t.fakes.received('inventory.release-stock', post.id),
      ...t.fakes.events('order.cancelled', post.id),
    ])
      expect([m.type, m.traceparent.split('-')[1]]).toEqual([m.type, traceId(post.span)]);
  });
});
