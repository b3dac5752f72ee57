// Email delivery guarantees of notifications, with two instances sharing one database (Postgres) and one Redis:
// exactly one email per event under duplicate delivery (the same event published twice, and once more under a
// new message id, whichever instance takes each copy), and sending rate-limited to EMAIL_RATE_PER_SECOND across
// both instances (BullMQ's limiter lives in Redis), measured from the SMTP capture's `Created` times.
import { randomUUID } from 'node:crypto';
import { OrderPlaced } from '@warren/contracts';
import type { Messaging } from '@warren/messaging';
import { client, mails, mailsTo } from './support/observe';
import { brokers, eventually, http, Stack } from './support/stack';

describe.each(brokers())('notifications email guarantees ($name broker)', ({ amqpUrl }) => {
  const stack = new Stack(
    amqpUrl,
    {},
    {
      services: ['notifications'],
      instances: { notifications: 2 },
      database: 'postgres',
      serviceEnv: { notifications: { EMAIL_RATE_PER_SECOND: '2', EMAIL_BACKOFF_MS: '200' } },
    },
  );
  let publisher: Messaging;
  /** Deliveries both instances acknowledged. */
  const acked = async (): Promise<number> => {
    let n = 0;
    for (const instance of stack.instances.notifications)
      n += (await http('GET', `${instance.url}/health`)).body.details.broker.counters.acked;
    return n;
  };
  const placed = (orderId: string, customerEmail: string) => ({
    orderId,
    customerEmail,
    items: [{ sku: 'SKU-003', quantity: 1 }],
    placedAt: new Date().toISOString(),
  });

  beforeAll(async () => {
    await stack.start();
    publisher = client(stack, 'e2e-publisher');
    await publisher.start();
  }, 120_000);
  afterAll(async () => {
    await publisher?.close();
    await stack.teardown();
  });

  it('sends one email for an event delivered three times', async () => {
    const orderId = randomUUID();
    const to = `dup-${stack.namespace}@example.com`;
    const before = await acked();
    const first = await publisher.emit(OrderPlaced, placed(orderId, to));
    await publisher.emit(OrderPlaced, placed(orderId, to), { messageId: first.messageId }); // a redelivery
    await publisher.emit(OrderPlaced, placed(orderId, to)); // a republish under a new message id
    // all three were handled (acked) before we count
    await eventually('notifications to handle all three', async () =>
      (await acked()) >= before + 3 ? true : undefined,
    );
    const [mail] = await mailsTo(stack, to);
    expect(mail.Subject).toMatch(/^We received your order/);
    const sent = (
      (await http('GET', `${stack.url('notifications')}/notifications?limit=100`)).body as Array<{
        to: string;
        key: string;
      }>
    ).filter((n) => n.to === to);
    expect(sent).toEqual([expect.objectContaining({ key: `order.placed/${orderId}` })]);
    expect((await mails(stack)).filter((m) => m.To.some((t) => t.Address === to))).toHaveLength(1);
  });

  it('sends at most EMAIL_RATE_PER_SECOND (2) emails a second, across both instances', async () => {
    const to = `rate-${stack.namespace}@example.com`;
    await Promise.all(Array.from({ length: 8 }, () => publisher.emit(OrderPlaced, placed(randomUUID(), to))));
    const sent = await mailsTo(stack, to, 8);
    const times = sent.map((m) => Date.parse(m.Created)).sort((a, b) => a - b);
    // 8 emails at 2 a second take four windows: the last goes out ~3 s after the first (unlimited: well under 1 s).
    // Times are when the capture received each email, so the SMTP round trip blurs a window's edge a little.
    expect(times[7] - times[0]).toBeGreaterThanOrEqual(2500);
    // any five consecutive emails straddle at least three windows
    for (let i = 0; i + 4 < times.length; i++) expect(times[i + 4] - times[i]).toBeGreaterThanOrEqual(1000);
  });
});
