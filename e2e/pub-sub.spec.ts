// Publish/subscribe (fan-out): one `order.confirmed` on the topic exchange reaches every subscriber's own
// queue — notifications emails the customer, and a subscriber of the test's own receives the same event.
import { mailsTo, subscribe, type Subscriber } from './support/observe';
import { placeOrder, settled } from './support/orders';
import { brokers, eventually, Stack } from './support/stack';

describe.each(brokers())('publish/subscribe: one event, every subscriber ($name broker)', ({ amqpUrl }) => {
  const stack = new Stack(amqpUrl, {}, { services: ['orders', 'inventory', 'payments', 'notifications'] });
  let sub: Subscriber;

  beforeAll(async () => {
    await stack.start();
    sub = await subscribe(stack, 'confirmed', ['order.confirmed']);
  }, 120_000);
  afterAll(async () => {
    await sub?.close();
    await stack.teardown(['e2e.confirmed']);
  });

  it('delivers order.confirmed to notifications (an email) and to the test subscriber, once each', async () => {
    const email = `fanout-${stack.namespace}@example.com`;
    const id = await placeOrder(stack, email, [{ sku: 'SKU-001', quantity: 1 }]);
    expect((await settled(stack, id)).status).toBe('CONFIRMED');

    const event = await eventually('order.confirmed at the test subscriber', () =>
      sub.received.find((m) => m.payload.orderId === id),
    );
    expect(event).toMatchObject({ type: 'order.confirmed', payload: { orderId: id, customerEmail: email } });
    // notifications got its own copy: the placed and the confirmed email
    const sent = await mailsTo(stack, email, 2);
    expect(sent.map((m) => m.Subject)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^Your order .* is confirmed$/),
        expect.stringMatching(/^We received your order/),
      ]),
    );
    expect(sent).toHaveLength(2);
    expect(sub.received.filter((m) => m.payload.orderId === id)).toHaveLength(1);
  });
});
