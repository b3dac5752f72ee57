import { PaymentCaptured, PaymentDeclined, StockRejected, StockReserved } from '@warren/contracts';
import { randomUUID } from 'node:crypto';
import { SagaSweeperService } from '../src/saga/saga-sweeper.service';
import { eventually, OrdersUnderTest, testMatrix } from './support';

const STEP_TIMEOUT_MS = 2_000;
const line = (sku: string, quantity: number) => ({ sku, quantity });
const steps = (order: { history: Array<{ step: string }> }) => order.history.map((h) => h.step);
const stepOf = (order: { history: Array<{ step: string }> }, name: string): any =>
  order.history.find((h) => h.step === name);
/** How the history names a delivered or published message. */
const ref = (m: { type: string; messageId: string; correlationId: string }) => ({
  type: m.type,
  messageId: m.messageId,
  correlationId: m.correlationId,
});

describe.each(testMatrix())('orders saga ($label)', ({ broker, db }) => {
  const t = new OrdersUnderTest(broker, db, { stepTimeoutMs: STEP_TIMEOUT_MS, sweepIntervalMs: 100 });

  beforeAll(() => t.start());
  afterAll(() => t.stop());

  it('GET /health answers 200 with the database and the broker up', async () => {
    const res = await t.get('/health');
    expect(res).toMatchObject({
      status: 200,
      body: { status: 'ok', info: { database: { status: 'up' }, broker: { status: 'up' } } },
    });
  });

  it('confirms an order: stock reserved, payment captured for the total, stock committed, order.confirmed published once', async () => {
    const placed = await t.post({ customerEmail: 'ada@example.com', items: [line('SKU-001', 2), line('SKU-002', 1)] });
    expect(placed).toMatchObject({
      status: 201,
      body: { status: 'PENDING', customerEmail: 'ada@example.com', history: [{ step: 'PLACED' }] },
    });
    const id = placed.body.id as string;

    const order = await t.settled(id, 'CONFIRMED');
    expect(steps(order)).toEqual(['PLACED', 'STOCK_RESERVED', 'CONFIRMED']);
    for (const h of order.history) expect(new Date(h.at).toISOString()).toBe(h.at);
    expect(order).toMatchObject({
      total: 3000,
      items: [
        { sku: 'SKU-001', quantity: 2, unitPrice: 1000 },
        { sku: 'SKU-002', quantity: 1, unitPrice: 1000 },
      ],
    });
    expect(order.paymentId).toEqual(expect.any(String));

    await eventually('commit-stock', () => (t.fakes.received('inventory.commit-stock', id).length ? true : undefined));
    await eventually('order.confirmed', () => (t.fakes.events('order.confirmed', id).length ? true : undefined));
    expect(t.fakes.received('inventory.reserve-stock', id)).toHaveLength(1);
    expect(t.fakes.received('payments.capture-payment', id).map((m) => m.payload)).toEqual([
      { orderId: id, amount: 3000, customerEmail: 'ada@example.com', deadline: expect.any(String) },
    ]);
    expect(t.fakes.events('order.placed', id)).toHaveLength(1);
    expect(t.fakes.events('order.confirmed', id).map((m) => m.payload)).toEqual([
      expect.objectContaining({ orderId: id, total: 3000, customerEmail: 'ada@example.com' }),
    ]);
    expect(t.fakes.received('inventory.release-stock', id)).toHaveLength(0);
  });

  it('names in each history step the message that drove it and the messages it sent, by the ids consumers saw', async () => {
    const placed = await t.post({ customerEmail: 'eve@example.com', items: [line('SKU-008', 1)] });
    const id = placed.body.id as string;
    expect(placed.body.history[0]).toMatchObject({
      step: 'PLACED',
      via: 'http',
      sent: [{ type: 'order.placed' }, { type: 'inventory.reserve-stock' }],
    });
    expect(placed.body.history[0].message).toBeUndefined();
    const order = await t.settled(id, 'CONFIRMED');
    await eventually('commit-stock, order.placed and order.confirmed', () =>
      t.fakes.received('inventory.commit-stock', id).length &&
      t.fakes.events('order.placed', id).length &&
      t.fakes.events('order.confirmed', id).length
        ? true
        : undefined,
    );
    const got = (type: string) => ref([...t.fakes.received(type, id), ...t.fakes.events(type, id)][0]);

    // PLACED sent order.placed and reserve-stock: the ids recorded are the ids that were published
    expect(stepOf(order, 'PLACED')).toMatchObject({
      items: [line('SKU-008', 1)],
      via: 'http',
      sent: [got('order.placed'), got('inventory.reserve-stock')],
    });
    // inventory answered reserve-stock in its scope: the answer carries the command's correlation id
    const reserved = stepOf(order, 'STOCK_RESERVED');
    expect(reserved).toMatchObject({
      total: 1000,
      message: {
        type: 'inventory.stock-reserved',
        messageId: expect.any(String),
        correlationId: got('inventory.reserve-stock').correlationId,
      },
      sent: [got('payments.capture-payment')],
    });
    const confirmed = stepOf(order, 'CONFIRMED');
    expect(confirmed).toMatchObject({
      message: { type: 'payment.captured', correlationId: got('inventory.reserve-stock').correlationId },
      sent: [got('inventory.commit-stock'), got('order.confirmed')],
    });
    expect(confirmed.message.messageId).not.toBe(reserved.message.messageId);
    for (const h of order.history) expect(h.compensation).toBeUndefined();
  });

  it('cancels an order inventory cannot fill, naming the SKU, and never asks for the payment', async () => {
    const id = await t.place('bob@example.com', [line('SKU-001', 1), line('SKU-003', 5)]);
    const order = await t.settled(id, 'CANCELLED');
    expect(order.reason).toBe('out of stock: SKU-003 (requested 5, available 2)');
    expect(steps(order)).toEqual(['PLACED', 'CANCELLED']);
    await eventually('order.cancelled', () => (t.fakes.events('order.cancelled', id).length ? true : undefined));
    expect(t.fakes.events('order.cancelled', id)[0].payload).toMatchObject({
      orderId: id,
      reason: order.reason,
      customerEmail: 'bob@example.com',
    });
    expect(t.fakes.received('payments.capture-payment', id)).toHaveLength(0);
  });

  it('cancels a declined order and releases its stock (compensation)', async () => {
    const id = await t.place('decline@example.com', [line('SKU-004', 1)]);
    const order = await t.settled(id, 'CANCELLED');
    expect(order.reason).toBe('payment declined: card declined');
    await eventually('release-stock', () =>
      t.fakes.received('inventory.release-stock', id).length ? true : undefined,
    );
    await eventually('order.cancelled', () => (t.fakes.events('order.cancelled', id).length ? true : undefined));
    expect(t.fakes.received('inventory.commit-stock', id)).toHaveLength(0);
    // inventory's answer to the release lands in the history
    await eventually('STOCK_RELEASED in the history', async () =>
      steps((await t.get(`/orders/${id}`)).body).includes('STOCK_RELEASED') ? true : undefined,
    );
    const settled = (await t.get(`/orders/${id}`)).body;
    expect(steps(settled)).toEqual(['PLACED', 'STOCK_RESERVED', 'CANCELLED', 'STOCK_RELEASED']);
    // the cancellation sent the compensation; inventory's acknowledgement of it is a compensating step
    const release = ref(t.fakes.received('inventory.release-stock', id)[0]);
    expect(stepOf(settled, 'CANCELLED')).toMatchObject({
      message: { type: 'payment.declined' },
      sent: [release, ref(t.fakes.events('order.cancelled', id)[0])],
      compensations: ['inventory.release-stock'],
    });
    expect(stepOf(settled, 'CANCELLED').compensation).toBeUndefined();
    expect(stepOf(settled, 'STOCK_RELEASED')).toEqual(
      expect.objectContaining({
        compensation: true,
        message: expect.objectContaining({ type: 'inventory.stock-released', correlationId: release.correlationId }),
        sent: [],
      }),
    );
    // the acknowledgement changes no state but grows the history: updatedAt says so
    expect(settled.updatedAt).toBe(stepOf(settled, 'STOCK_RELEASED').at);
  });

  it('times out a saga stuck in either waiting step and compensates; a capture that comes after that is refunded', async () => {
    const [awaitingStock, awaitingPayment] = await Promise.all([
      t.place('carol@example.com', [line('SKU-999', 1)]),
      t.place('silent@example.com', [line('SKU-005', 3)]),
    ]);

    const a = await t.settled(awaitingStock, 'CANCELLED', STEP_TIMEOUT_MS + 10_000);
    expect(a.reason).toBe('timed out waiting for stock reservation');
    const b = await t.settled(awaitingPayment, 'CANCELLED', STEP_TIMEOUT_MS + 10_000);
    expect(b.reason).toBe('timed out waiting for payment');
    expect(b.history.find((h: any) => h.step === 'CANCELLED')).toMatchObject({
      compensations: ['payments.refund-payment', 'inventory.release-stock'],
    });
    // no message drove a timeout: the deadline did
    expect(stepOf(b, 'CANCELLED')).toMatchObject({
      via: 'deadline',
      sent: [{ type: 'payments.refund-payment' }, { type: 'inventory.release-stock' }, { type: 'order.cancelled' }],
    });
    expect(stepOf(b, 'CANCELLED').message).toBeUndefined();

    await eventually('compensations', () =>
      t.fakes.received('inventory.release-stock', awaitingStock).length &&
      t.fakes.received('inventory.release-stock', awaitingPayment).length &&
      t.fakes.received('payments.refund-payment', awaitingPayment).length
        ? true
        : undefined,
    );
    expect(t.fakes.received('payments.capture-payment', awaitingStock)).toHaveLength(0);
    await eventually('order.cancelled for both', () =>
      t.fakes.events('order.cancelled', awaitingStock).length &&
      t.fakes.events('order.cancelled', awaitingPayment).length
        ? true
        : undefined,
    );

    // the gateway answers at last: the money goes back, the order stays cancelled
    const late = await t.fakes.messaging.emit(PaymentCaptured, {
      orderId: awaitingPayment,
      paymentId: randomUUID(),
      amount: 3000,
    });
    await eventually('a second refund-payment', () =>
      t.fakes.received('payments.refund-payment', awaitingPayment).length >= 2 ? true : undefined,
    );
    const after = (await t.get(`/orders/${awaitingPayment}`)).body;
    expect(after.status).toBe('CANCELLED');
    expect(steps(after)).toContain('REFUND_REQUESTED');
    const refunds = t.fakes.received('payments.refund-payment', awaitingPayment);
    const refundStep = stepOf(after, 'REFUND_REQUESTED');
    expect(refundStep).toMatchObject({
      compensation: true,
      message: ref(late),
      sent: [{ type: 'payments.refund-payment' }],
    });
    expect(refunds.map(ref)).toContainEqual(refundStep.sent[0]);
    await eventually('PAYMENT_REFUNDED in the history', async () =>
      steps((await t.get(`/orders/${awaitingPayment}`)).body).includes('PAYMENT_REFUNDED') ? true : undefined,
    );
    expect(stepOf((await t.get(`/orders/${awaitingPayment}`)).body, 'PAYMENT_REFUNDED')).toMatchObject({
      compensation: true,
      message: { type: 'payment.refunded' },
    });
    expect(t.fakes.received('inventory.commit-stock', awaitingPayment)).toHaveLength(0);
  });

  it('applies an answer delivered twice once, and ignores an answer that does not fit the state', async () => {
    const id = await t.place('silent@example.com', [line('SKU-006', 1)]);
    await eventually('STOCK_RESERVED', async () =>
      (await t.get(`/orders/${id}`)).body.history.some((h: any) => h.step === 'STOCK_RESERVED') ? true : undefined,
    );

    const messageId = randomUUID();
    const captured = { orderId: id, paymentId: randomUUID(), amount: 1000 };
    await t.fakes.messaging.emit(PaymentCaptured, captured, { messageId });
    await t.fakes.messaging.emit(PaymentCaptured, captured, { messageId });
    await t.harness.waitForCount('acked', 2, { messageId });
    // an answer the order is past: stock reserved again
    const stray = await t.fakes.messaging.emit(StockReserved, {
      orderId: id,
      items: [{ sku: 'SKU-006', quantity: 1, unitPrice: 1000 }],
      total: 1000,
    });
    await t.harness.waitFor('acked', { messageId: stray.messageId });

    const order = await t.settled(id, 'CONFIRMED');
    expect(steps(order)).toEqual(['PLACED', 'STOCK_RESERVED', 'CONFIRMED']);
    await eventually('commit-stock', () => (t.fakes.received('inventory.commit-stock', id).length ? true : undefined));
    await eventually('order.confirmed', () => (t.fakes.events('order.confirmed', id).length ? true : undefined));
    expect(t.fakes.received('inventory.commit-stock', id)).toHaveLength(1);
    expect(t.fakes.events('order.confirmed', id)).toHaveLength(1);
    expect(t.harness.all('retried', { messageId })).toHaveLength(0);
  });

  it('settles a capture racing the deadline one way only: confirmed, or cancelled with the money refunded', async () => {
    const id = await t.place('silent@example.com', [line('SKU-011', 1)]);
    await eventually('STOCK_RESERVED', async () =>
      (await t.get(`/orders/${id}`)).body.history.some((h: any) => h.step === 'STOCK_RESERVED') ? true : undefined,
    );
    const sweeper = t.orders.app.get(SagaSweeperService);
    const capture = await t.fakes.messaging.emit(PaymentCaptured, {
      orderId: id,
      paymentId: randomUUID(),
      amount: 1000,
    });
    await sweeper.sweep(Date.now() + STEP_TIMEOUT_MS);
    await t.harness.waitFor('acked', { messageId: capture.messageId });

    const order = (await t.get(`/orders/${id}`)).body;
    if (order.status === 'CONFIRMED') {
      await eventually('commit-stock', () =>
        t.fakes.received('inventory.commit-stock', id).length ? true : undefined,
      );
      expect(t.fakes.received('payments.refund-payment', id)).toHaveLength(0);
      expect(t.fakes.events('order.cancelled', id)).toHaveLength(0);
    } else {
      expect(order).toMatchObject({ status: 'CANCELLED', reason: 'timed out waiting for payment' });
      await eventually('refund-payment', () =>
        t.fakes.received('payments.refund-payment', id).length ? true : undefined,
      );
      expect(t.fakes.received('inventory.commit-stock', id)).toHaveLength(0);
      expect(t.fakes.events('order.confirmed', id)).toHaveLength(0);
    }
    expect(order.history.filter((h: any) => h.step === 'CONFIRMED' || h.step === 'CANCELLED')).toHaveLength(1);
  });

  describe('late commands (issue 17)', () => {
    const at = (iso: string) => Date.parse(iso);
    /** An answer refusing a command as late: what payments and inventory send for a command taken after its deadline. */
    const expired = () => ({ deadline: new Date(Date.now() - 50).toISOString(), at: new Date().toISOString() });
    const waitFor = (id: string, step: string) =>
      eventually(step, async () =>
        (await t.get(`/orders/${id}`)).body.history.some((h: any) => h.step === step) ? true : undefined,
      );

    it('sends reserve-stock and capture-payment with the deadline of their step, and the compensations and commit-stock with none', async () => {
      const id = await t.place('ada@example.com', [line('SKU-001', 1)]);
      const confirmed = await t.settled(id, 'CONFIRMED');
      await eventually('commit-stock', () =>
        t.fakes.received('inventory.commit-stock', id).length ? true : undefined,
      );
      // each deadline is the step's start plus SAGA_STEP_TIMEOUT_MS: the instant the sweeper would cancel at
      const [reserve] = t.fakes.received('inventory.reserve-stock', id);
      expect(at(reserve.payload.deadline)).toBe(at(stepOf(confirmed, 'PLACED').at) + STEP_TIMEOUT_MS);
      const [capture] = t.fakes.received('payments.capture-payment', id);
      expect(at(capture.payload.deadline)).toBe(at(stepOf(confirmed, 'STOCK_RESERVED').at) + STEP_TIMEOUT_MS);
      expect(t.fakes.received('inventory.commit-stock', id)[0].payload).toEqual({ orderId: id });

      const cancelled = await t.place('decline@example.com', [line('SKU-001', 1)]);
      await t.settled(cancelled, 'CANCELLED');
      await eventually('release-stock', () =>
        t.fakes.received('inventory.release-stock', cancelled).length ? true : undefined,
      );
      expect(t.fakes.received('inventory.release-stock', cancelled)[0].payload.deadline).toBeUndefined();
    });

    it('cancels an order still waiting for its payment when payments refuses the late capture: stock released, nothing refunded', async () => {
      const id = await t.place('silent@example.com', [line('SKU-002', 2)]);
      await waitFor(id, 'STOCK_RESERVED');
      // payments took the capture after its deadline, and its answer beats the sweeper
      const refused = expired();
      const late = await t.fakes.messaging.emit(PaymentDeclined, {
        orderId: id,
        reason: 'the capture came after its deadline; nothing was charged',
        expired: refused,
      });
      const order = await t.settled(id, 'CANCELLED');
      expect(order.reason).toBe('timed out waiting for payment');
      expect(stepOf(order, 'CANCELLED')).toMatchObject({
        message: ref(late),
        compensations: ['inventory.release-stock'],
        refused: {
          reason: 'the capture came after its deadline; nothing was charged',
          deadline: refused.deadline,
          refusedAt: refused.at,
        },
        sent: [{ type: 'inventory.release-stock' }, { type: 'order.cancelled' }],
      });
      await waitFor(id, 'STOCK_RELEASED');
      await eventually('order.cancelled', () => (t.fakes.events('order.cancelled', id).length ? true : undefined));
      // past the step's deadline and a few sweeps more: the sweeper found nothing to do, and nothing asked for a refund
      await new Promise((r) => setTimeout(r, STEP_TIMEOUT_MS + 300));
      expect(t.fakes.received('payments.refund-payment', id)).toHaveLength(0);
      expect(t.fakes.received('inventory.release-stock', id)).toHaveLength(1);
      const after = (await t.get(`/orders/${id}`)).body;
      expect(steps(after)).toEqual(['PLACED', 'STOCK_RESERVED', 'CANCELLED', 'STOCK_RELEASED']);
      expect(t.fakes.events('order.cancelled', id)).toHaveLength(1);
    });

    it('records a late capture refused after the sweeper cancelled the order, and undoes nothing twice', async () => {
      const id = await t.place('silent@example.com', [line('SKU-002', 1)]);
      const order = await t.settled(id, 'CANCELLED', STEP_TIMEOUT_MS + 10_000);
      expect(stepOf(order, 'CANCELLED')).toMatchObject({
        via: 'deadline',
        compensations: ['payments.refund-payment', 'inventory.release-stock'],
      });
      await eventually('the sweeper’s compensations', () =>
        t.fakes.received('payments.refund-payment', id).length && t.fakes.received('inventory.release-stock', id).length
          ? true
          : undefined,
      );

      const refused = expired();
      const late = await t.fakes.messaging.emit(PaymentDeclined, {
        orderId: id,
        reason: 'the capture came after its deadline; nothing was charged',
        expired: refused,
      });
      await t.harness.waitFor('acked', { messageId: late.messageId });
      const after = (await t.get(`/orders/${id}`)).body;
      expect(after).toMatchObject({ status: 'CANCELLED', reason: 'timed out waiting for payment' });
      expect(stepOf(after, 'LATE_CAPTURE_REFUSED')).toEqual(
        expect.objectContaining({
          message: ref(late),
          sent: [],
          reason: 'the capture came after its deadline; nothing was charged',
          deadline: refused.deadline,
          refusedAt: refused.at,
        }),
      );
      expect(stepOf(after, 'LATE_CAPTURE_REFUSED').compensation).toBeUndefined();
      expect(after.history.filter((h: any) => h.step === 'CANCELLED')).toHaveLength(1);
      expect(t.fakes.received('payments.refund-payment', id)).toHaveLength(1);
      expect(t.fakes.received('inventory.release-stock', id)).toHaveLength(1);
      expect(t.fakes.events('order.cancelled', id)).toHaveLength(1);
    });

    it('cancels an order still waiting for stock when inventory refuses the late reserve, releasing nothing; after the sweeper, only records it', async () => {
      const waiting = await t.place('frank@example.com', [line('SKU-999', 1)]);
      const late = await t.fakes.messaging.emit(StockRejected, {
        orderId: waiting,
        reason: 'the reservation came after its deadline; nothing was reserved',
        unavailable: [],
        expired: expired(),
      });
      const order = await t.settled(waiting, 'CANCELLED');
      expect(order.reason).toBe('timed out waiting for stock reservation');
      expect(stepOf(order, 'CANCELLED')).toMatchObject({
        message: ref(late),
        sent: [{ type: 'order.cancelled' }],
        refused: { reason: 'the reservation came after its deadline; nothing was reserved' },
      });
      expect(stepOf(order, 'CANCELLED').compensations).toBeUndefined();

      const swept = await t.place('frank@example.com', [line('SKU-999', 1)]);
      await t.settled(swept, 'CANCELLED', STEP_TIMEOUT_MS + 10_000);
      await eventually('release-stock', () =>
        t.fakes.received('inventory.release-stock', swept).length ? true : undefined,
      );
      const lateAfter = await t.fakes.messaging.emit(StockRejected, {
        orderId: swept,
        reason: 'the reservation came after its deadline; nothing was reserved',
        unavailable: [],
        expired: expired(),
      });
      await waitFor(swept, 'LATE_RESERVATION_REFUSED');
      const after = (await t.get(`/orders/${swept}`)).body;
      expect(stepOf(after, 'LATE_RESERVATION_REFUSED')).toMatchObject({ message: ref(lateAfter), sent: [] });
      expect(after.history.filter((h: any) => h.step === 'CANCELLED')).toHaveLength(1);
      expect(t.fakes.received('inventory.release-stock', waiting)).toHaveLength(0);
      expect(t.fakes.received('inventory.release-stock', swept)).toHaveLength(1);
      expect(t.fakes.received('payments.capture-payment', waiting)).toHaveLength(0);
    });
  });

  it('places one order per Idempotency-Key: 201, then 200 with the same order; another body is a 422', async () => {
    const key = randomUUID();
    const body = { customerEmail: 'dan@example.com', items: [line('SKU-007', 1)] };
    const first = await t.post(body, { 'Idempotency-Key': key });
    const again = await t.post({ items: body.items, customerEmail: body.customerEmail }, { 'Idempotency-Key': key });
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    const other = await t.post({ ...body, items: [line('SKU-007', 2)] }, { 'Idempotency-Key': key });
    expect(other).toMatchObject({ status: 422, body: { message: expect.stringContaining('different request body') } });
    await t.settled(first.body.id, 'CONFIRMED');
    expect(
      t.fakes.commands.filter((m) => m.type === 'inventory.reserve-stock' && m.payload.items[0].sku === 'SKU-007'),
    ).toHaveLength(1);
  });

  it.each([
    ['a bad email', { customerEmail: 'not-an-email', items: [line('SKU-001', 1)] }, 'customerEmail'],
    ['no items', { customerEmail: 'a@example.com', items: [] }, 'items'],
    [
      '51 items',
      { customerEmail: 'a@example.com', items: Array.from({ length: 51 }, (_, i) => line(`SKU-${100 + i}`, 1)) },
      'items',
    ],
    ['a malformed SKU', { customerEmail: 'a@example.com', items: [line('apple', 1)] }, 'items.0.sku'],
    ['quantity 0', { customerEmail: 'a@example.com', items: [line('SKU-001', 0)] }, 'items.0.quantity'],
    ['quantity 1001', { customerEmail: 'a@example.com', items: [line('SKU-001', 1001)] }, 'items.0.quantity'],
    ['a SKU twice', { customerEmail: 'a@example.com', items: [line('SKU-001', 1), line('SKU-001', 2)] }, 'items.1.sku'],
    ['an unknown field', { customerEmail: 'a@example.com', items: [line('SKU-001', 1)], coupon: 'FREE' }, '(body)'],
  ])('answers 400 naming the field for %s', async (_what, body, pathName) => {
    const res = await t.post(body);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      message: 'invalid request body',
      issues: expect.arrayContaining([expect.objectContaining({ path: pathName })]),
    });
  });

  it('answers 404 for an unknown order and 400 for a bad list query', async () => {
    expect((await t.get(`/orders/${randomUUID()}`)).status).toBe(404);
    expect((await t.get('/orders?status=SHIPPED')).status).toBe(400);
    expect((await t.get('/orders?limit=0')).status).toBe(400);
  });

  it.each([
    [
      'a repeated status',
      '/orders?status=PENDING&status=CONFIRMED',
      'invalid query',
      'status',
      'given 2 times; give it once',
    ],
    [
      'a limit that is not a whole number',
      '/orders?limit=1e1',
      'invalid query',
      'limit',
      'must be a whole number from 1 to 100',
    ],
    ['a misspelt filter', '/orders?state=PENDING', 'invalid query', '(query)', expect.stringContaining('state')],
    ['an id that is not a UUID', '/orders/not-a-uuid', 'invalid path parameters', 'id', expect.any(String)],
  ])('answers 400 with the reason for %s', async (_what, path, message, issuePath, reason) => {
    const res = await t.get(path);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message,
      issues: [{ path: issuePath, message: reason }],
    });
  });

  it('lists orders newest first, paged and filtered by status', async () => {
    const ids: string[] = [];
    for (const email of ['p1@example.com', 'p2@example.com', 'p3@example.com'])
      ids.push(await t.place(email, [line('SKU-010', 1)]));
    for (const id of ids) await t.settled(id, 'CONFIRMED');

    const firstThree = (await t.get('/orders?status=CONFIRMED&limit=3')).body;
    expect(firstThree).toMatchObject({ limit: 3, offset: 0, total: expect.any(Number) });
    expect(new Set(firstThree.items.map((o: any) => o.id))).toEqual(new Set(ids));
    const created = firstThree.items.map((o: any) => Date.parse(o.createdAt));
    expect([...created].sort((x, y) => y - x)).toEqual(created);

    const page1 = (await t.get('/orders?status=CONFIRMED&limit=2&offset=0')).body;
    const page2 = (await t.get('/orders?status=CONFIRMED&limit=1&offset=2')).body;
    expect([...page1.items, ...page2.items].map((o: any) => o.id)).toEqual(firstThree.items.map((o: any) => o.id));

    const all = (await t.get('/orders?limit=100')).body;
    const cancelled = (await t.get('/orders?status=CANCELLED&limit=100')).body;
    expect(cancelled.items.every((o: any) => o.status === 'CANCELLED')).toBe(true);
    expect(cancelled.total).toBeGreaterThanOrEqual(4);
    expect(all.total).toBeGreaterThanOrEqual(firstThree.total + cancelled.total);
    expect(all.items[0].history).toBeUndefined();
  });

  it('serves its OpenAPI document at /docs-json and the UI at /docs', async () => {
    const doc = (await t.get('/docs-json')).body;
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/orders', '/orders/{id}', '/health']));
    expect(Object.keys(doc.paths['/orders'])).toEqual(expect.arrayContaining(['get', 'post']));
    expect(doc.paths['/orders'].post.requestBody.content['application/json'].schema).toMatchObject({
      required: ['customerEmail', 'items'],
    });
    const ui = await fetch(`${t.url}/docs`);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toMatch(/swagger/i);
  });
});
