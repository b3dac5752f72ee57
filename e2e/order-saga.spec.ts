// The order saga across real processes: orders, inventory and payments, bundled and spawned, meeting only
// over AMQP (the test broker) and HTTP. An observer queue of the test's own records the order.* events.
import { Messaging, type IncomingMessage } from '@warren/messaging';
import { adminHeaders, brokers, eventually, http, Stack } from './support/stack';

interface StockRow {
  sku: string;
  available: number;
  reserved: number;
}

describe.each(brokers())('order saga end to end ($name broker, real processes)', ({ amqpUrl }) => {
  const stack = new Stack(amqpUrl, { SAGA_STEP_TIMEOUT_MS: '60000', SAGA_SWEEP_INTERVAL_MS: '500' });
  const orderEvents: IncomingMessage<any>[] = [];
  let observer: Messaging;

  beforeAll(async () => {
    await stack.start();
    observer = new Messaging({
      url: stack.amqpUrl,
      serviceName: 'e2e-observer',
      eventsExchange: `${stack.namespace}.warren.events`,
      commandsExchange: `${stack.namespace}.warren.commands`,
    });
    await observer.consume({
      queue: `${stack.namespace}.e2e-observer.order-events`,
      bindings: [{ pattern: 'order.#' }],
      handlers: [{ pattern: 'order.#', handle: (m: IncomingMessage<any>) => void orderEvents.push(m) }],
    });
    await observer.start();
  }, 120_000);

  afterAll(async () => {
    await observer?.close();
    await stack.teardown(['e2e-observer.order-events']);
  });

  const orders = () => stack.url('orders');
  const place = async (customerEmail: string, items: Array<{ sku: string; quantity: number }>): Promise<string> => {
    const res = await http('POST', `${orders()}/orders`, { customerEmail, items });
    if (res.status !== 201) throw new Error(`POST /orders answered ${res.status}: ${JSON.stringify(res.body)}`);
    return res.body.id as string;
  };
  const order = async (id: string) => (await http('GET', `${orders()}/orders/${id}`)).body;
  /** Waits until the order is CONFIRMED or CANCELLED; on a timeout the error carries the services' logs. */
  const settled = (id: string, timeoutMs = 30_000) =>
    eventually(
      `order ${id} to settle`,
      async () => {
        const o = await order(id);
        return o.status !== 'PENDING' ? o : undefined;
      },
      timeoutMs,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${stack.logs()}`);
    });
  const stockOf = async (sku: string): Promise<StockRow> =>
    ((await http('GET', `${stack.url('inventory')}/stock`)).body as StockRow[]).find((s) => s.sku === sku)!;
  const ledger = async (orderId: string) =>
    (await http('GET', `${stack.url('payments')}/payments?orderId=${orderId}`)).body as Array<{
      kind: string;
      amount: number;
    }>;
  const gateway = (settings: Record<string, number>) =>
    http('PUT', `${stack.url('payments')}/admin/gateway`, settings, adminHeaders);

  it('confirms an order: stock leaves the warehouse, one payment for the total, order.confirmed once', async () => {
    const before = await stockOf('SKU-001');
    const id = await place('ada@example.com', [{ sku: 'SKU-001', quantity: 2 }]);
    const o = await settled(id);
    expect(o).toMatchObject({ status: 'CONFIRMED', total: 4900 });
    expect(o.history.map((h: any) => h.step)).toEqual(['PLACED', 'STOCK_RESERVED', 'CONFIRMED']);
    await eventually('the reservation committed', async () => {
      const s = await stockOf('SKU-001');
      return s.available === before.available - 2 && s.reserved === before.reserved ? s : undefined;
    });
    expect((await ledger(id)).filter((e) => e.kind === 'capture')).toEqual([expect.objectContaining({ amount: 4900 })]);
    await eventually('order.confirmed', () =>
      orderEvents.some((e) => e.type === 'order.confirmed' && e.payload.orderId === id) ? true : undefined,
    );
    expect(orderEvents.filter((e) => e.type === 'order.confirmed' && e.payload.orderId === id)).toHaveLength(1);
  });

  it('cancels an order inventory cannot fill, and nothing is charged', async () => {
    const { available } = await stockOf('SKU-005');
    const id = await place('bob@example.com', [{ sku: 'SKU-005', quantity: available + 1 }]);
    const o = await settled(id);
    expect(o).toMatchObject({
      status: 'CANCELLED',
      reason: `out of stock: SKU-005 (requested ${available + 1}, available ${available})`,
    });
    expect(await ledger(id)).toEqual([]);
    expect((await stockOf('SKU-005')).available).toBe(available);
  });

  it('cancels a declined order and gives its stock back', async () => {
    const before = await stockOf('SKU-004');
    expect((await gateway({ declineRate: 1 })).status).toBe(200);
    try {
      const id = await place('carol@example.com', [{ sku: 'SKU-004', quantity: 3 }]);
      const o = await settled(id);
      expect(o.status).toBe('CANCELLED');
      expect(o.reason).toMatch(/^payment declined: /);
      await eventually('the stock released', async () => {
        const s = await stockOf('SKU-004');
        return s.available === before.available && s.reserved === before.reserved ? s : undefined;
      });
      expect((await ledger(id)).filter((e) => e.kind === 'capture')).toEqual([]);
    } finally {
      await gateway({ declineRate: 0 });
    }
  });

  it('retries transient gateway failures until the payment goes through, charging once', async () => {
    const retried = async () =>
      (await http('GET', `${stack.url('payments')}/health`)).body.details.broker.counters.retried as number;
    const retriedBefore = await retried();
    await gateway({ failureRate: 1 });
    let id: string;
    try {
      id = await place('dan@example.com', [{ sku: 'SKU-006', quantity: 1 }]);
      await eventually('payments to retry the capture twice', async () =>
        (await retried()) >= retriedBefore + 2 ? true : undefined,
      );
      expect((await order(id)).status).toBe('PENDING');
    } finally {
      await gateway({ failureRate: 0 });
    }
    const o = await settled(id, 45_000);
    expect(o.status).toBe('CONFIRMED');
    expect((await ledger(id)).filter((e) => e.kind === 'capture')).toHaveLength(1);
  });

  it('loses nothing while payments is down: the captures wait in its queue and the orders complete when it is back', async () => {
    const payments = stack.services.payments;
    await payments.stop();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await place(`erin${i}@example.com`, [{ sku: 'SKU-008', quantity: 1 }]));
    // each saga got as far as asking for the payment
    for (const id of ids)
      await eventually(`order ${id} to wait for its payment`, async () =>
        (await order(id)).history.some((h: any) => h.step === 'STOCK_RESERVED') ? true : undefined,
      );
    expect((await Promise.all(ids.map(order))).map((o) => o.status)).toEqual(ids.map(() => 'PENDING'));
    await payments.start();
    for (const id of ids) expect((await settled(id)).status).toBe('CONFIRMED');
    for (const id of ids) expect((await ledger(id)).filter((e) => e.kind === 'capture')).toHaveLength(1);
  });

  it('redelivers the capture a payments process was killed in the middle of, and charges once', async () => {
    const payments = stack.services.payments;
    const consumed = async () =>
      (await http('GET', `${payments.url}/health`)).body.details.broker.counters.consumed as number;
    const before = await consumed();
    await gateway({ latencyMs: 60_000 }); // the gateway call hangs: the capture stays in the handler, unacked
    const id = await place('kim@example.com', [{ sku: 'SKU-009', quantity: 1 }]);
    await eventually('payments to start on the capture', async () => ((await consumed()) > before ? true : undefined));
    await payments.stop('SIGKILL');
    await payments.start(); // a new process: default gateway settings, and the broker redelivers the capture
    const o = await settled(id);
    expect(o.status).toBe('CONFIRMED');
    expect((await ledger(id)).filter((e) => e.kind === 'capture')).toHaveLength(1);
  });

  it('never oversells: 200 concurrent orders for 5 units confirm exactly 5', async () => {
    const sku = 'SKU-012';
    const before = await stockOf(sku);
    const ids = await Promise.all(
      Array.from({ length: 200 }, (_, i) => place(`crowd${i}@example.com`, [{ sku, quantity: 1 }])),
    );
    expect(new Set(ids).size).toBe(200);
    await eventually(
      'every order to settle',
      async () =>
        (await http('GET', `${orders()}/orders?status=PENDING&limit=1`)).body.total === 0 ? true : undefined,
      90_000,
      250,
    );
    const all = await Promise.all(ids.map(order));
    const confirmed = all.filter((o) => o.status === 'CONFIRMED');
    expect(confirmed).toHaveLength(before.available);
    expect(all.filter((o) => o.status === 'CANCELLED').every((o) => /^out of stock: SKU-012/.test(o.reason))).toBe(
      true,
    );
    await eventually('the reservations committed', async () => {
      const s = await stockOf(sku);
      return s.available === 0 && s.reserved === 0 ? s : undefined;
    });
    const captures = (await Promise.all(confirmed.map((o) => ledger(o.id)))).map(
      (l) => l.filter((e) => e.kind === 'capture').length,
    );
    expect(captures).toEqual(confirmed.map(() => 1));
    const cancelledCaptures = (
      await Promise.all(
        all
          .filter((o) => o.status === 'CANCELLED')
          .slice(0, 20)
          .map((o) => ledger(o.id)),
      )
    ).flat();
    expect(cancelledCaptures).toEqual([]);
  });
});
