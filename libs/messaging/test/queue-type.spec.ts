import { connect, type ChannelModel } from 'amqplib';
import { Messaging, ttlDelayQueueName, delayBucket } from '../src';
import { MessagingHarness } from '../src/testing';
import { cleanup, testBrokers, uniqueName } from './support/brokers';

const fastRetry = { maxAttempts: 3, initialDelayMs: 40, multiplier: 2, maxDelayMs: 1000, jitter: 0 };

describe('queueType and deliveryLimit options', () => {
  it('refuses a queue type other than classic or quorum, and a delivery limit that is not a whole number ≥ 0', () => {
    const base = { url: 'amqp://127.0.0.1:1', serviceName: 'options' };
    expect(() => new Messaging({ ...base, queueType: 'stream' as never })).toThrow(
      new RangeError("invalid queueType 'stream': need 'classic' or 'quorum'"),
    );
    for (const bad of [-1, 1.5, Number.NaN])
      expect(() => new Messaging({ ...base, deliveryLimit: bad })).toThrow(
        `invalid deliveryLimit ${bad}: need a whole number from 0 to 2147483647`,
      );
    expect(new Messaging({ ...base }).options).toMatchObject({ queueType: 'classic', deliveryLimit: 10 });
  });
});

describe.each(testBrokers())('quorum queues ($name)', ({ url }) => {
  const exchange = uniqueName('events');
  const delayedExchange = uniqueName('delayed');
  const queues: string[] = [];
  const open: Messaging[] = [];
  let conn: ChannelModel;

  beforeAll(async () => {
    conn = await connect(url);
  });
  afterAll(async () => {
    await Promise.all(open.map((m) => m.close()));
    await conn.close();
    await cleanup(url, { queues, exchanges: [exchange, `${exchange}.cmd`, `${delayedExchange}.ttl`] });
  });

  async function service(extra: Partial<ConstructorParameters<typeof Messaging>[0]> = {}) {
    const m = new Messaging({
      url,
      serviceName: 'quorum-test',
      eventsExchange: exchange,
      commandsExchange: `${exchange}.cmd`,
      retry: fastRetry,
      queueType: 'quorum',
      deliveryLimit: 4,
      delayedMessages: 'ttl-queues',
      delayedExchange,
      ...extra,
    });
    open.push(m);
    const harness = new MessagingHarness(m);
    return { m, harness };
  }

  /** Redeclares `queue` with `args`: resolves when the broker has exactly those (so its type too), else the 406. */
  async function redeclare(queue: string, args: Record<string, unknown>): Promise<string> {
    const ch = await conn.createChannel();
    let closedWith = '';
    ch.on('error', (err: Error) => (closedWith = err.message));
    try {
      await ch.assertQueue(queue, { durable: true, arguments: args });
      await ch.close();
      return 'same';
    } catch {
      return closedWith;
    }
  }

  /** The queue has `args` with x-queue-type quorum, and is no classic queue with them. */
  async function expectQuorum(queue: string, args: Record<string, unknown>): Promise<void> {
    expect(await redeclare(queue, { 'x-queue-type': 'quorum', ...args })).toBe('same');
    expect(await redeclare(queue, { ...args, 'x-queue-type': 'classic' })).toMatch(
      /406 .*inequivalent arg 'x-queue-type'.*received 'classic' but current is 'quorum'/,
    );
  }

  it('declares the work queue (delivery limit, parking to the DLQ), its retry queues and its DLQ as quorum queues, and retries through them', async () => {
    const queue = uniqueName('quorum-work');
    queues.push(queue);
    const { m, harness } = await service();
    let calls = 0;
    await m.consume({
      queue,
      bindings: [{ pattern: 'q.*' }],
      handlers: [
        {
          pattern: 'q.happened',
          handle: () => (++calls < 3 ? Promise.reject(new Error(`attempt ${calls} failed`)) : undefined),
        },
      ],
    });
    await m.start();
    const sent = await m.publish({ exchange, routingKey: 'q.happened', payload: { n: 1 } });
    // two failures through the quorum TTL delay queues (x-message-ttl, dead-lettering back), then success
    const acked = await harness.acked({ messageId: sent.messageId });
    expect(acked.attempt).toBe(3);
    expect(harness.all('retried', { messageId: sent.messageId }).map((r) => r.delayMs)).toEqual([40, 80]);
    expect(m.consumers[0].countsDeliveries).toBe(false); // the broker counts on a quorum queue
    const atLeastOnce = { 'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'reject-publish' };
    await expectQuorum(queue, {
      'x-delivery-limit': 4,
      'x-dead-letter-exchange': '',
      'x-dead-letter-routing-key': `${queue}.dlq`,
      ...atLeastOnce,
    });
    await expectQuorum(`${queue}.retry.1`, {
      'x-message-ttl': 40,
      'x-dead-letter-exchange': '',
      'x-dead-letter-routing-key': queue,
      ...atLeastOnce,
    });
    await expectQuorum(`${queue}.retry.2`, {
      'x-message-ttl': 80,
      'x-dead-letter-exchange': '',
      'x-dead-letter-routing-key': queue,
      ...atLeastOnce,
    });
    await expectQuorum(`${queue}.dlq`, {});
  });

  it("lets a consumer's own x-queue-type decide its work queue (then it counts deliveries itself)", async () => {
    const queue = uniqueName('quorum-own');
    queues.push(queue);
    const { m } = await service();
    await m.consume({
      queue,
      queueArguments: { 'x-queue-type': 'classic' },
      handlers: [{ pattern: '#', handle: () => undefined }],
    });
    await m.start();
    expect(await redeclare(queue, { 'x-queue-type': 'classic' })).toBe('same');
    expect(m.consumers[0].countsDeliveries).toBe(true);
    await expectQuorum(`${queue}.dlq`, {}); // its companions keep the messaging-wide type
  });

  it('holds delayed messages in quorum TTL delay queues (per-message expiration, dead-lettered when due)', async () => {
    const queue = uniqueName('quorum-delayed');
    queues.push(queue, ttlDelayQueueName(delayedExchange, exchange, delayBucket(150)));
    const { m, harness } = await service();
    await m.consume({
      queue,
      bindings: [{ pattern: 'later.*' }],
      handlers: [{ pattern: '#', handle: () => undefined }],
    });
    await m.start();
    const started = Date.now();
    const sent = await m.publish({ exchange, routingKey: 'later.due', payload: {}, delay: 150 });
    await harness.acked({ messageId: sent.messageId });
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    await expectQuorum(ttlDelayQueueName(delayedExchange, exchange, delayBucket(150)), {
      'x-dead-letter-exchange': exchange,
    });
  });

  it('declares durable Topology queues as quorum queues, and leaves exclusive ones classic', async () => {
    const durable = uniqueName('quorum-topology');
    queues.push(durable);
    const { m } = await service();
    m.topology.queue({ name: durable });
    await m.start();
    await expectQuorum(durable, {});
    const exclusive = m.connection.model!;
    const ch = await exclusive.createChannel();
    const name = uniqueName('quorum-exclusive');
    m.topology.queue({ name, options: { exclusive: true, durable: false } });
    await m.topology.apply(exclusive, 'quorum');
    // an exclusive queue is only visible to its own connection: declared there as classic, it is there to check
    expect((await ch.checkQueue(name)).queue).toBe(name);
    await ch.close();
  });
});
