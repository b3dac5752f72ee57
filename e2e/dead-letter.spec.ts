// Dead letters: a poison message (an `order.placed` that breaks its contract) goes straight from
// notifications' queue to `<queue>.dlq`, the DLQ command line lists it with its reason, and notifications keeps
// going. A valid message a consumer could not handle while its dependency was down is parked after its
// attempts, listed, and — once the cause is fixed — replayed with the CLI and processed once.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { OrderPlaced } from '@warren/contracts';
import type { IncomingMessage, Messaging } from '@warren/messaging';
import { client, mailsTo } from './support/observe';
import { brokers, eventually, ROOT, Stack } from './support/stack';

const run = promisify(execFile);

describe.each(brokers())('dead-letter queue and replay ($name broker)', ({ amqpUrl }) => {
  const stack = new Stack(amqpUrl, {}, { services: ['notifications'] });
  let publisher: Messaging;
  let consumer: Messaging;
  let warehouseUp = false;
  const handled: IncomingMessage[] = [];
  const fulfilmentQueue = () => `${stack.namespace}.e2e.fulfilment`;

  /** `node tools/scripts/dlq.mjs <args> --json` against this broker. */
  const dlq = async (...args: string[]) => {
    const { stdout } = await run(process.execPath, [path.join(ROOT, 'tools/scripts/dlq.mjs'), ...args, '--json'], {
      cwd: ROOT,
      env: { ...process.env, AMQP_URL: stack.amqpUrl },
    });
    return JSON.parse(stdout);
  };

  beforeAll(async () => {
    await stack.start();
    publisher = client(stack, 'e2e-publisher');
    await publisher.start();
    // a consumer of the test's own whose downstream ("the warehouse") is down until the test fixes it
    consumer = client(stack, 'e2e-fulfilment');
    await consumer.consume({
      queue: fulfilmentQueue(),
      bindings: [{ pattern: 'fulfilment.requested' }],
      retry: { maxAttempts: 3, initialDelayMs: 100, multiplier: 2, maxDelayMs: 1000 },
      handlers: [
        {
          pattern: 'fulfilment.requested',
          handle: (m) => {
            if (!warehouseUp) throw new Error('warehouse unreachable');
            handled.push(m);
          },
        },
      ],
    });
    await consumer.start();
  }, 120_000);
  afterAll(async () => {
    await consumer?.close();
    await publisher?.close();
    await stack.teardown(['e2e.fulfilment']);
  });

  it('parks a poison message in notifications.order-events.dlq, lists it with the CLI, and keeps consuming', async () => {
    const queue = `${stack.namespace}.notifications.order-events`;
    const poisonId = randomUUID();
    await publisher.publish({
      exchange: `${stack.namespace}.warren.events`,
      routingKey: 'order.placed',
      type: 'order.placed',
      messageId: poisonId,
      payload: { orderId: 'not-a-uuid', customerEmail: 'nobody', items: [] },
    });

    const listed = await eventually('the poison message in the DLQ', async () => {
      const out = await dlq('list', queue);
      return out.messages.some((m: { messageId: string }) => m.messageId === poisonId) ? out : undefined;
    });
    expect(listed).toMatchObject({ queue, deadLetterQueue: `${queue}.dlq` });
    expect(listed.messages.find((m: { messageId: string }) => m.messageId === poisonId)).toMatchObject({
      reason: 'invalid',
      type: 'order.placed',
      originalQueue: queue,
    });

    // the queue did not stop at the poison: the next valid event becomes an email
    const to = `after-poison-${stack.namespace}@example.com`;
    await publisher.emit(OrderPlaced, {
      orderId: randomUUID(),
      customerEmail: to,
      items: [{ sku: 'SKU-001', quantity: 1 }],
      placedAt: new Date().toISOString(),
    });
    await mailsTo(stack, to);

    expect(await dlq('purge', queue, '--id', poisonId)).toMatchObject({ purged: 1 });
  });

  it('parks a message after its retries, and replays it with the CLI once the cause is fixed', async () => {
    const orderId = randomUUID();
    const published = await publisher.publish({
      exchange: `${stack.namespace}.warren.events`,
      routingKey: 'fulfilment.requested',
      payload: { orderId },
    });
    const parked = await eventually('the message parked after 3 attempts', async () =>
      (await dlq('list', fulfilmentQueue())).messages.find(
        (m: { payload: { orderId: string } }) => m.payload?.orderId === orderId,
      ),
    );
    expect(parked).toMatchObject({
      reason: 'retries-exhausted',
      attempts: 3,
      error: { message: 'warehouse unreachable' },
      messageId: published.messageId,
    });
    expect(handled).toEqual([]);

    warehouseUp = true; // the cause is fixed
    expect(await dlq('replay', fulfilmentQueue(), '--id', parked.messageId)).toMatchObject({
      replayed: 1,
      notFound: [],
    });
    const done = await eventually('the replayed message handled', () =>
      handled.find((m) => (m.payload as { orderId: string }).orderId === orderId),
    );
    expect(done.messageId).toBe(parked.messageId);
    expect(done.headers['x-replay-count']).toBe(1);
    expect((await dlq('list', fulfilmentQueue())).count).toBe(0);
    expect(handled).toHaveLength(1);
  });
});
