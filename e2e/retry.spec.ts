// Retry with backoff, then success: the SMTP capture refuses the next deliveries (421, temporary), the
// notifications worker retries the email job with exponential backoff, and the email arrives once.
import { randomUUID } from 'node:crypto';
import { OrderConfirmed } from '@warren/contracts';
import type { Messaging } from '@warren/messaging';
import { client, mails, mailsTo } from './support/observe';
import { brokers, eventually, http, Stack } from './support/stack';

// fail-next is the SMTP capture's fault injection: both runtimes run Warren's capture (a process, or its image)
describe.each(brokers())('retry with backoff, then success ($name broker)', ({ amqpUrl }) => {
  const stack = new Stack(
    amqpUrl,
    {},
    {
      services: ['notifications'],
      serviceEnv: { notifications: { EMAIL_ATTEMPTS: '5', EMAIL_BACKOFF_MS: '200', EMAIL_RATE_PER_SECOND: '50' } },
    },
  );
  let publisher: Messaging;

  beforeAll(async () => {
    await stack.start();
    publisher = client(stack, 'e2e-publisher');
    await publisher.start();
  }, 120_000);
  afterAll(async () => {
    await publisher?.close();
    await stack.teardown();
  });

  it('retries the email through two SMTP refusals and delivers it exactly once', async () => {
    expect((await http('POST', `${stack.mailUrl}/api/warren/fail-next`, { count: 2 })).status).toBe(200);
    const orderId = randomUUID();
    const to = `retry-${stack.namespace}@example.com`;
    await publisher.emit(OrderConfirmed, {
      orderId,
      customerEmail: to,
      items: [{ sku: 'SKU-001', quantity: 1, unitPrice: 2450 }],
      total: 2450,
      confirmedAt: new Date().toISOString(),
    });

    const [mail] = await mailsTo(stack, to);
    expect(mail.Subject).toMatch(/is confirmed$/);
    // both refusals were used up: the first two attempts failed, the third went through
    expect((await http('GET', `${stack.mailUrl}/api/warren/fail-next`)).body).toMatchObject({ remaining: 0 });
    const sent = await eventually('the send recorded', async () => {
      const list = (
        (await http('GET', `${stack.url('notifications')}/notifications?limit=100`)).body as Array<{
          key: string;
          to: string;
        }>
      ).filter((n) => n.to === to);
      return list.length ? list : undefined;
    });
    expect(sent).toEqual([expect.objectContaining({ key: `order.confirmed/${orderId}` })]);
    expect((await http('GET', `${stack.url('notifications')}/notifications/failed`)).body).toEqual([]);
    expect((await mails(stack)).filter((m) => m.To.some((t) => t.Address === to))).toHaveLength(1);
  });
});
