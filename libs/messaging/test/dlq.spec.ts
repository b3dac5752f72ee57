import { connect } from 'amqplib';
import { z } from 'zod';
import {
  BrokerUnavailableError,
  defineMessage,
  Headers,
  Messaging,
  NonRetryableError,
  type IncomingMessage,
} from '../src';
import { MessagingHarness } from '../src/testing';
import { DeadLetterQueue, DeadLetterQueueNotFoundError, ReplayFailedError } from '../src/dlq';
import { cleanup, eventually, testBrokers, uniqueName } from './support/brokers';
import { freePort } from '../../../tools/testing/ports';

const Validated = (type: string) => defineMessage(type, z.object({ amount: z.number().positive() }));

describe.each(testBrokers())('dead-letter queue inspection and replay ($name)', ({ url }) => {
  let messaging: Messaging;
  let harness: MessagingHarness;
  let dlq: DeadLetterQueue;
  const exchange = uniqueName('events');
  const commands = uniqueName('commands');
  const queues: string[] = [];

  beforeAll(async () => {
    messaging = new Messaging({ url, serviceName: 'dlq-test', eventsExchange: exchange, commandsExchange: commands });
    harness = new MessagingHarness(messaging);
    await messaging.start();
    dlq = new DeadLetterQueue(messaging);
  });
  afterAll(async () => {
    await dlq.close();
    await messaging.close();
    await cleanup(url, { queues, exchanges: [exchange, commands] });
  });

  /**
   * A work queue whose handler fails while `service.broken`: non-retryably for `<tag>.charge` with
   * mode 'poison', through one 50 ms retry for mode 'flaky'; `<tag>.valid` has a contract, `<tag>.unknown`
   * no handler. `park` publishes one message and waits until it is in the DLQ, so the DLQ order is known.
   */
  async function brokenService() {
    const queue = uniqueName('dlq-work');
    const tag = queue.replace(/\./g, '-');
    queues.push(queue);
    const service = { queue, tag, broken: true, handled: [] as IncomingMessage[] };
    const handle = (m: IncomingMessage<{ mode?: string }>) => {
      if (!service.broken) return void service.handled.push(m);
      if (m.payload.mode === 'flaky') throw new Error('flaky failure');
      throw new NonRetryableError('card declined');
    };
    await messaging.consume({
      queue,
      bindings: [{ pattern: `${tag}.#` }],
      retry: { maxAttempts: 2, initialDelayMs: 50 },
      handlers: [
        { pattern: `${tag}.charge`, handle },
        { pattern: `${tag}.valid`, contract: Validated(`${tag}.valid`), handle },
      ],
    });
    const park = async (event: string, payload: unknown, correlationId?: string) => {
      const sent = await messaging.publish({ exchange, routingKey: `${tag}.${event}`, payload, correlationId });
      await harness.deadLettered({ queue, messageId: sent.messageId });
      return sent;
    };
    return { ...service, service, park };
  }

  it('lists parked messages in order with reason, error and original routing, and leaves them in place', async () => {
    const { queue, tag, park } = await brokenService();
    const poison = await park('charge', { n: 1, mode: 'poison' }, 'order-1');
    const flaky = await park('charge', { n: 2, mode: 'flaky' });
    const invalid = await park('valid', { amount: -5 });
    const orphan = await park('unknown', { n: 4 });
    const more = [];
    for (let n = 5; n <= 8; n++) more.push(await park('charge', { n, mode: 'poison' }));
    const expected = [poison, flaky, invalid, orphan, ...more].map((m) => m.messageId);

    const listed = await dlq.list(queue);
    expect(listed.map((m) => m.messageId)).toEqual(expected);
    expect(listed.map((m) => m.reason).slice(0, 4)).toEqual([
      'non-retryable',
      'retries-exhausted',
      'invalid',
      'no-handler',
    ]);
    const first = listed[0];
    expect(first).toMatchObject({
      type: `${tag}.charge`,
      correlationId: 'order-1',
      attempts: 1,
      replayCount: 0,
      originalExchange: exchange,
      originalRoutingKey: `${tag}.charge`,
      originalQueue: queue,
      payload: { n: 1, mode: 'poison' },
      payloadFormat: 'json',
      error: { name: 'NonRetryableError', message: 'card declined' },
    });
    expect(first.error!.stack.length).toBeGreaterThan(0);
    expect(first.error!.stack[0]).toMatch(/^at /);
    expect(Date.parse(first.deadLetteredAt!)).toBeGreaterThanOrEqual(poison.timestamp - 1000);
    expect(typeof first.headers[Headers.traceparent]).toBe('string');
    expect(listed[1]).toMatchObject({ attempts: 2, error: { name: 'Error', message: 'flaky failure' } });
    expect(listed[2].error!.message).toMatch(/invalid .*amount/);
    expect(listed[3].error!.message).toMatch(/no handler for message type/);

    // nothing moved: same count, same order, also when only the head is read
    expect(await dlq.count(queue)).toBe(expected.length);
    expect((await dlq.list(queue)).map((m) => m.messageId)).toEqual(expected);
    expect((await dlq.list(queue, { limit: 3 })).map((m) => m.messageId)).toEqual(expected.slice(0, 3));
    expect((await dlq.list(`${queue}.dlq`)).map((m) => m.messageId)).toEqual(expected);
  });

  it('replays one message by id: processed again with its ids and a clean slate; the others stay in order', async () => {
    const { queue, tag, service, park } = await brokenService();
    const parked = [];
    for (let n = 1; n <= 3; n++) parked.push(await park('charge', { n, mode: 'poison' }, `corr-${n}`));
    const [p1, p2, p3] = parked;
    service.broken = false; // the fix is deployed

    await expect(dlq.replay(queue, { ids: [p2.messageId, 'no-such-id'] })).resolves.toEqual({
      replayed: 1,
      notFound: ['no-such-id'],
    });
    await harness.acked({ queue, messageId: p2.messageId });
    const again = service.handled.find((m) => m.messageId === p2.messageId)!;
    expect(again).toMatchObject({
      correlationId: 'corr-2',
      type: `${tag}.charge`,
      exchange,
      routingKey: `${tag}.charge`,
      attempt: 1,
      payload: { n: 2, mode: 'poison' },
    });
    expect(again.timestamp).toBe(Math.floor(p2.timestamp / 1000) * 1000);
    expect(again.headers[Headers.replayCount]).toBe(1);
    expect(Date.parse(again.headers[Headers.replayedAt] as string)).not.toBeNaN();
    for (const h of [
      Headers.failureReason,
      Headers.errorMessage,
      Headers.errorName,
      Headers.errorStack,
      Headers.deadLetteredAt,
    ])
      expect(again.headers).not.toHaveProperty(h);
    expect((await dlq.list(queue)).map((m) => m.messageId)).toEqual([p1.messageId, p3.messageId]);

    await expect(dlq.replay(queue)).resolves.toEqual({ replayed: 2, notFound: [] });
    await harness.acked({ queue, messageId: p1.messageId });
    await harness.acked({ queue, messageId: p3.messageId });
    expect(await dlq.count(queue)).toBe(0);
    expect(service.handled.map((m) => m.messageId)).toEqual([p2.messageId, p1.messageId, p3.messageId]);
  });

  it('replays what still fails only once: it is parked again with x-replay-count 1, not replayed in a loop', async () => {
    const { queue, park } = await brokenService();
    const ids = [
      (await park('charge', { n: 1, mode: 'poison' })).messageId,
      (await park('charge', { n: 2, mode: 'poison' })).messageId,
    ];
    await expect(dlq.replay(queue)).resolves.toEqual({ replayed: 2, notFound: [] });
    await harness.waitForCount('dead-lettered', 4, { queue });
    const listed = await eventually('both parked again', async () => {
      const l = await dlq.list(queue);
      return l.length === 2 ? l : undefined;
    });
    expect(listed.map((m) => m.messageId).sort()).toEqual([...ids].sort());
    expect(listed.map((m) => m.replayCount)).toEqual([1, 1]);
    expect(listed.map((m) => m.headers[Headers.replayedAt])).toEqual([expect.any(String), expect.any(String)]);
  });

  it('visits only what was parked when the replay started', async () => {
    // The worst case, made deterministic: the "work queue" is the DLQ itself, so each copy lands at its tail
    // before the next basic.get on the same channel.
    const queue = uniqueName('dlq-self');
    queues.push(queue);
    const conn = await connect(url);
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue(`${queue}.dlq`, { durable: true });
    for (const id of ['a', 'b'])
      ch.sendToQueue(`${queue}.dlq`, Buffer.from('{}'), {
        persistent: true,
        messageId: id,
        headers: { [Headers.originalQueue]: `${queue}.dlq` },
      });
    await ch.waitForConfirms();
    await conn.close();
    await expect(dlq.replay(queue)).resolves.toEqual({ replayed: 2, notFound: [] });
    expect((await dlq.list(queue)).map((m) => [m.messageId, m.replayCount])).toEqual([
      ['a', 1],
      ['b', 1],
    ]);
  });

  it('purges by id, then everything', async () => {
    const { queue, park } = await brokenService();
    const parked = [];
    for (let n = 1; n <= 3; n++) parked.push((await park('charge', { n, mode: 'poison' })).messageId);
    await expect(dlq.purge(queue, { ids: [parked[1]] })).resolves.toBe(1);
    expect((await dlq.list(queue)).map((m) => m.messageId)).toEqual([parked[0], parked[2]]);
    await expect(dlq.purge(queue, { ids: ['no-such-id'] })).resolves.toBe(0);
    await expect(dlq.purge(queue)).resolves.toBe(2);
    expect(await dlq.count(queue)).toBe(0);
    expect(await dlq.list(queue)).toEqual([]);
  });

  it('keeps properties and headers of any parked message; without x-original-queue it goes to the queue named', async () => {
    const queue = uniqueName('dlq-raw');
    queues.push(queue);
    const conn = await connect(url);
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue(queue, { durable: true });
    await ch.assertQueue(`${queue}.dlq`, { durable: true });
    const headers = {
      'x-tenant': 'acme',
      'x-nested': { region: 'eu', shard: 7 },
      'x-list': [1, 'two'],
      [Headers.traceparent]: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      [Headers.attempt]: 3,
      [Headers.replayCount]: 2,
      [Headers.failureReason]: 'retries-exhausted',
      [Headers.errorMessage]: 'timeout',
      [Headers.lastError]: 'timeout',
      [Headers.deadLetteredAt]: '2025-01-02T03:04:05.000Z',
    };
    ch.sendToQueue(`${queue}.dlq`, Buffer.from('{"sku":"SKU-001"}'), {
      persistent: true,
      messageId: 'm-json',
      correlationId: 'c-1',
      type: 'stock.reserve',
      timestamp: 1_700_000_000,
      contentType: 'application/json',
      appId: 'inventory',
      headers,
    });
    ch.sendToQueue(`${queue}.dlq`, Buffer.from('plain words'), {
      persistent: true,
      messageId: 'm-text',
      contentType: 'text/plain',
    });
    ch.sendToQueue(`${queue}.dlq`, Buffer.from([0, 1, 2, 255]), {
      persistent: true,
      messageId: 'm-bin',
      contentType: 'application/octet-stream',
    });
    await ch.waitForConfirms();

    const own = new DeadLetterQueue(url); // a connection of its own, as the CLI uses it
    try {
      const listed = await own.list(queue);
      expect(listed.map((m) => [m.messageId, m.payloadFormat, m.payload])).toEqual([
        ['m-json', 'json', { sku: 'SKU-001' }],
        ['m-text', 'text', 'plain words'],
        ['m-bin', 'binary', `base64:${Buffer.from([0, 1, 2, 255]).toString('base64')}`],
      ]);
      expect(listed[0]).toMatchObject({
        reason: 'retries-exhausted',
        attempts: 3,
        replayCount: 2,
        publishedAt: new Date(1_700_000_000_000).toISOString(),
        error: { message: 'timeout', stack: [] },
      });

      await expect(own.replay(queue, { ids: ['m-json'] })).resolves.toEqual({ replayed: 1, notFound: [] });
      const got = await eventually(
        'the replayed copy',
        async () => (await ch.get(queue, { noAck: true })) || undefined,
      );
      expect(got.content.toString()).toBe('{"sku":"SKU-001"}');
      expect(got.properties).toMatchObject({
        messageId: 'm-json',
        correlationId: 'c-1',
        type: 'stock.reserve',
        timestamp: 1_700_000_000,
        contentType: 'application/json',
        appId: 'inventory',
        deliveryMode: 2,
      });
      const h = got.properties.headers!;
      expect(h).toMatchObject({
        'x-tenant': 'acme',
        'x-nested': { region: 'eu', shard: 7 },
        'x-list': [1, 'two'],
        [Headers.traceparent]: headers[Headers.traceparent],
        [Headers.attempt]: 1,
        [Headers.replayCount]: 3,
      });
      for (const f of [Headers.failureReason, Headers.errorMessage, Headers.lastError, Headers.deadLetteredAt])
        expect(h).not.toHaveProperty(f);
      expect((await own.list(queue)).map((m) => m.messageId)).toEqual(['m-text', 'm-bin']);
    } finally {
      await own.close();
      await conn.close();
    }
  });

  it('stops a replay whose work queue is gone, leaving the message parked', async () => {
    const queue = uniqueName('dlq-gone');
    queues.push(queue);
    const conn = await connect(url);
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue(`${queue}.dlq`, { durable: true });
    ch.sendToQueue(`${queue}.dlq`, Buffer.from('{}'), {
      persistent: true,
      messageId: 'orphan',
      headers: { [Headers.originalQueue]: `${queue}.deleted` },
    });
    await ch.waitForConfirms();
    await conn.close();
    const failure = await dlq.replay(queue).catch((e: Error) => e);
    expect(failure).toBeInstanceOf(ReplayFailedError);
    expect((failure as ReplayFailedError).replayed).toBe(0);
    expect((failure as Error).message).toMatch(new RegExp(`'${queue}\\.deleted' does not exist`));
    expect((await dlq.list(queue)).map((m) => m.messageId)).toEqual(['orphan']);
  });

  it('names the missing DLQ, and says when the broker is unreachable', async () => {
    const missing = uniqueName('no-dlq');
    for (const call of [
      () => dlq.list(missing),
      () => dlq.count(missing),
      () => dlq.replay(missing),
      () => dlq.purge(missing),
      () => dlq.purge(missing, { ids: ['x'] }),
    ]) {
      const err = await call().then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err).toBeInstanceOf(DeadLetterQueueNotFoundError);
      expect(err!.message).toContain(`'${missing}.dlq'`);
    }
    // the shared connection is still usable afterwards
    expect(await dlq.count(queues[0])).toBeGreaterThanOrEqual(0);

    const nowhere = new DeadLetterQueue(`amqp://guest:secret@127.0.0.1:${await freePort()}`, { timeoutMs: 2000 });
    const err = await nowhere.list('any').catch((e: Error) => e);
    expect(err).toBeInstanceOf(BrokerUnavailableError);
    expect((err as Error).message).toMatch(
      /^cannot connect to the broker at amqp:\/\/guest:\*\*\*@127\.0\.0\.1:\d+: .*ECONNREFUSED/,
    );
    await nowhere.close();

    const idle = new Messaging({ url, serviceName: 'dlq-idle' }); // never started
    await expect(new DeadLetterQueue(idle, { timeoutMs: 100 }).count('any')).rejects.toBeInstanceOf(
      BrokerUnavailableError,
    );
  });
});
