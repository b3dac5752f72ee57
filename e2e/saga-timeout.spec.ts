// The saga's deadline compensation across real processes: payments answers too late, the order is
// cancelled, its stock is released and whatever payments did is undone (a refund, or a capture declined
// because the refund came first). Nothing stays charged, nothing stays reserved. A command that reaches its
// service only after its deadline (the service frozen meanwhile) is refused: nothing is charged or reserved at all.
import { subscribe, type Subscriber } from './support/observe';
import { adminHeaders, brokers, eventually, http, ServiceProcess, Stack, type ServiceHandle } from './support/stack';

/**
 * Freezes a service for as long as `during` runs: SIGSTOP and SIGCONT for a local process (what it was handed stays
 * in its socket, unhandled, as in a process stalled by the machine), a stop and a start in containers (the commands
 * wait in its queue instead). Either way its commands are handled only once it is back.
 */
async function frozen<T>(service: ServiceHandle, during: () => Promise<T>): Promise<T> {
  const pid = service instanceof ServiceProcess ? service.pid : undefined;
  if (pid) process.kill(pid, 'SIGSTOP');
  else await service.stop();
  try {
    return await during();
  } finally {
    if (pid) process.kill(pid, 'SIGCONT');
    else await service.start();
  }
}

describe.each(brokers())('order saga deadline ($name broker, real processes)', ({ amqpUrl }) => {
  const stack = new Stack(amqpUrl, { SAGA_STEP_TIMEOUT_MS: '1500', SAGA_SWEEP_INTERVAL_MS: '200' });

  beforeAll(() => stack.start(), 120_000);
  afterAll(() => stack.teardown());

  it('cancels an order whose payment is late, releases its stock and leaves nothing charged', async () => {
    const stock = async () =>
      (
        (await http('GET', `${stack.url('inventory')}/stock`)).body as Array<{
          sku: string;
          available: number;
          reserved: number;
        }>
      ).find((s) => s.sku === 'SKU-010')!;
    const before = await stock();
    expect(
      (await http('PUT', `${stack.url('payments')}/admin/gateway`, { latencyMs: 4000 }, adminHeaders)).status,
    ).toBe(200); // slower than the 1.5 s deadline
    const placed = await http('POST', `${stack.url('orders')}/orders`, {
      customerEmail: 'lee@example.com',
      items: [{ sku: 'SKU-010', quantity: 2 }],
    });
    expect(placed.status).toBe(201);
    const id = placed.body.id as string;
    const cancelled = await eventually(`order ${id} to be cancelled`, async () => {
      const o = (await http('GET', `${stack.url('orders')}/orders/${id}`)).body;
      return o.status === 'CANCELLED' ? o : undefined;
    });
    expect(cancelled.reason).toBe('timed out waiting for payment');
    await eventually('the stock to be released', async () => {
      const s = await stock();
      return s.available === before.available && s.reserved === before.reserved ? true : undefined;
    });
    // payments acknowledges the refund (of a capture that went through, or a void when the refund came first) …
    await eventually(
      'payments to acknowledge the refund',
      async () => {
        const o = (await http('GET', `${stack.url('orders')}/orders/${id}`)).body;
        return o.history.some((h: { step: string }) => h.step === 'PAYMENT_REFUNDED') ? true : undefined;
      },
      20_000,
    );
    // … and once the late capture has finished too, nothing for this order is left charged
    await eventually(
      'payments to finish the late capture',
      async () => {
        const c = (await http('GET', `${stack.url('payments')}/health`)).body.details.broker.counters;
        return c.consumed === c.acked + c.retried + c.deadLettered ? true : undefined;
      },
      20_000,
    );
    const entries = (await http('GET', `${stack.url('payments')}/payments?orderId=${id}`)).body as Array<{
      kind: string;
      status?: string;
    }>;
    expect(entries.filter((e) => e.kind === 'capture' && e.status !== 'REFUNDED')).toEqual([]);
    await http('PUT', `${stack.url('payments')}/admin/gateway`, { latencyMs: 0 }, adminHeaders);
  });

  // late commands (issue 17): a command that reaches its service only after its deadline is refused
  const stockOf = async (sku: string) =>
    (
      (await http('GET', `${stack.url('inventory')}/stock`)).body as Array<{
        sku: string;
        available: number;
        reserved: number;
      }>
    ).find((s) => s.sku === sku)!;
  const order = async (id: string) => (await http('GET', `${stack.url('orders')}/orders/${id}`)).body;
  const place = async (customerEmail: string, sku: string) => {
    const placed = await http('POST', `${stack.url('orders')}/orders`, {
      customerEmail,
      items: [{ sku, quantity: 2 }],
    });
    expect(placed.status).toBe(201);
    return placed.body.id as string;
  };
  const withSteps = (id: string, wanted: string[], timeoutMs = 30_000) =>
    eventually(
      `order ${id} to have ${wanted.join(', ')}`,
      async () => {
        const o = await order(id);
        return wanted.every((w) => o.history.some((h: { step: string }) => h.step === w)) ? o : undefined;
      },
      timeoutMs,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${stack.logs()}`);
    });

  it('charges nothing for a capture that waited past its deadline while payments was frozen: cancelled, no capture, no refund, stock released', async () => {
    const before = await stockOf('SKU-007');
    const id = await frozen(stack.services.payments, async () => {
      const placed = await place('late-capture@example.com', 'SKU-007');
      // the capture waits for payments; the deadline passes, the sweeper cancels, inventory gives the stock back
      await withSteps(placed, ['CANCELLED', 'STOCK_RELEASED']);
      return placed;
    });
    // payments, back, takes the capture (then the sweeper's refund): it refuses the one, and the other finds nothing to refund
    const o = await withSteps(id, ['LATE_CAPTURE_REFUSED', 'PAYMENT_REFUNDED']);
    expect(o).toMatchObject({ status: 'CANCELLED', reason: 'timed out waiting for payment' });
    const deadline = Date.parse(o.history.find((h: { step: string }) => h.step === 'STOCK_RESERVED').at) + 1500;
    const refused = o.history.find((h: { step: string }) => h.step === 'LATE_CAPTURE_REFUSED');
    expect(refused).toMatchObject({
      message: { type: 'payment.declined' },
      sent: [],
      reason: expect.stringMatching(/after its deadline.*nothing was charged/),
    });
    expect(Date.parse(refused.deadline)).toBe(deadline);
    expect(Date.parse(refused.refusedAt)).toBeGreaterThanOrEqual(deadline);
    expect(o.history.find((h: { step: string }) => h.step === 'PAYMENT_REFUNDED')).toMatchObject({ amount: 0 });
    expect(o.history.map((h: { step: string }) => h.step)).not.toContain('REFUND_REQUESTED'); // no capture came back to refund
    // the ledger never held a capture for the order, so there was never a refund either
    expect((await http('GET', `${stack.url('payments')}/payments?orderId=${id}`)).body).toEqual([]);
    expect(await stockOf('SKU-007')).toMatchObject({ available: before.available, reserved: before.reserved });
  });

  it('reserves nothing for a reserve that waited past its deadline while inventory was frozen', async () => {
    const before = await stockOf('SKU-008');
    const id = await frozen(stack.services.inventory, async () => {
      const placed = await place('late-reserve@example.com', 'SKU-008');
      const o = await withSteps(placed, ['CANCELLED']);
      expect(o).toMatchObject({ status: 'CANCELLED', reason: 'timed out waiting for stock reservation' });
      return placed;
    });
    // inventory, back, refuses the reserve and treats the sweeper's release as the no-op it is
    const o = await withSteps(id, ['LATE_RESERVATION_REFUSED', 'STOCK_RELEASED']);
    // no stock-reserved came back: nothing had to be released for real
    expect(o.history.map((h: { step: string }) => h.step)).not.toContain('STOCK_RELEASE_REQUESTED');
    expect((await http('GET', `${stack.url('inventory')}/reservations/${id}`)).body).toMatchObject({
      status: 'RELEASED',
      items: [],
      total: 0,
    });
    expect(await stockOf('SKU-008')).toMatchObject({ available: before.available, reserved: before.reserved });
    expect((await http('GET', `${stack.url('payments')}/payments?orderId=${id}`)).body).toEqual([]);
  });
});

// Two orders instances on one database both run the sweeper (every 100 ms): each overdue saga is still timed out
// once — one CANCELLED step, one order.cancelled, one refund command's worth of compensation.
describe.each(brokers())(
  'order saga deadline, two orders instances sweeping one database ($name broker)',
  ({ amqpUrl }) => {
    const stack = new Stack(
      amqpUrl,
      { SAGA_STEP_TIMEOUT_MS: '1000', SAGA_SWEEP_INTERVAL_MS: '100' },
      { instances: { orders: 2 }, database: 'postgres' },
    );
    let events: Subscriber;

    beforeAll(async () => {
      await stack.start();
      // every order event (order.placed too: with no notifications in this stack, nothing else routes it, and the
      // outbox would hold the order's later events behind it)
      events = await subscribe(stack, 'order-events', ['order.#']);
    }, 120_000);
    afterAll(async () => {
      await events?.close();
      await stack.teardown(['e2e.order-events']);
    });

    it('times each overdue saga out once', async () => {
      expect(
        (await http('PUT', `${stack.url('payments')}/admin/gateway`, { latencyMs: 3000 }, adminHeaders)).status,
      ).toBe(200);
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) {
        const orders = stack.instances.orders[i % 2];
        const placed = await http('POST', `${orders.url}/orders`, {
          customerEmail: `sweep-${i}@example.com`,
          items: [{ sku: 'SKU-011', quantity: 1 }],
        });
        expect(placed.status).toBe(201);
        ids.push(placed.body.id as string);
      }
      for (const id of ids) {
        const order = await eventually(`order ${id} to be cancelled`, async () => {
          const o = (await http('GET', `${stack.url('orders')}/orders/${id}`)).body;
          return o.status === 'CANCELLED' && o.history.some((h: { step: string }) => h.step === 'PAYMENT_REFUNDED')
            ? o
            : undefined;
        });
        expect(order.reason).toBe('timed out waiting for payment');
        expect(order.history.filter((h: { step: string }) => h.step === 'CANCELLED')).toHaveLength(1);
      }
      await eventually('an order.cancelled for each', () =>
        ids.every((id) => events.received.some((m) => m.type === 'order.cancelled' && m.payload.orderId === id))
          ? true
          : undefined,
      ).catch((e: Error) => {
        throw new Error(`${e.message}\n${stack.logs()}`);
      });
      // whichever instance's sweep won, the others found the saga already moved on and published nothing
      for (const id of ids)
        expect(events.received.filter((m) => m.type === 'order.cancelled' && m.payload.orderId === id)).toHaveLength(1);
      await http('PUT', `${stack.url('payments')}/admin/gateway`, { latencyMs: 0 }, adminHeaders);
    });
  },
);
