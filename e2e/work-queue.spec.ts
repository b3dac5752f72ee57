// Work queue (competing consumers): two payments processes consume the one `payments.commands` queue. The
// captures are shared between them, and no order is charged twice.
import { placeOrder, settled } from './support/orders';
import { brokers, http, Stack } from './support/stack';

describe.each(brokers())('work queue: competing payments consumers ($name broker)', ({ amqpUrl }) => {
  const stack = new Stack(amqpUrl, {}, { services: ['orders', 'inventory', 'payments'], instances: { payments: 2 } });

  beforeAll(() => stack.start(), 120_000);
  afterAll(() => stack.teardown());

  it('shares the captures between both instances and charges every order exactly once', async () => {
    const ids = await Promise.all(
      Array.from({ length: 20 }, (_, i) => placeOrder(stack, `wq${i}@example.com`, [{ sku: 'SKU-004', quantity: 1 }])),
    );
    for (const id of ids) expect((await settled(stack, id)).status).toBe('CONFIRMED');

    const ledgers = await Promise.all(
      stack.instances.payments.map(async (p) =>
        ((await http('GET', `${p.url}/payments?limit=1000`)).body as Array<{ kind: string; orderId: string }>).filter(
          (e) => e.kind === 'capture',
        ),
      ),
    );
    const charged = ledgers.map((l) => l.filter((e) => ids.includes(e.orderId)).map((e) => e.orderId));
    // both instances did some of the work
    expect(charged.map((c) => c.length > 0)).toEqual([true, true]);
    // together every order, none twice (not even across the two instances)
    const all = charged.flat();
    expect(all).toHaveLength(ids.length);
    expect(new Set(all)).toEqual(new Set(ids));
  });
});
