import { connect } from 'amqplib';
import { z } from 'zod';
import { defineMessage, Headers, Messaging, NonRetryableError, RetryUntilError, type IncomingMessage } from '../src';
import { MessagingHarness } from '../src/testing';
import { cleanup, testBrokers, uniqueName } from './support/brokers';

const Charge = defineMessage('payment.requested', z.object({ orderId: z.string(), amount: z.number().positive() }));
// no jitter: these tests time the backoff itself (delayed.spec.ts has the jitter)
const fastRetry = { maxAttempts: 3, initialDelayMs: 40, multiplier: 2, maxDelayMs: 1000, jitter: 0 };

describe.each(testBrokers())('consuming ($name)', ({ url }) => {
  const exchange = uniqueName('events');
  const queues: string[] = [];
  const open: Messaging[] = [];

  async function service(name = 'consume-test', extra: Partial<ConstructorParameters<typeof Messaging>[0]> = {}) {
    const m = new Messaging({
      url,
      serviceName: name,
      eventsExchange: exchange,
      commandsExchange: `${exchange}.cmd`,
      retry: fastRetry,
      ...extra,
    });
    open.push(m);
    const harness = new MessagingHarness(m);
    await m.start();
    return { m, harness };
  }
  const queueName = (p: string) => {
    const q = uniqueName(p);
    queues.push(q);
    return q;
  };

  afterAll(async () => {
    await Promise.all(open.map((m) => m.close()));
    await cleanup(url, { queues, exchanges: [exchange, `${exchange}.cmd`] });
  });

  it('acks only after the handler finished, and redelivers what a dead consumer held (counted on a copy)', async () => {
    const queue = queueName('ack');
    const first = await service();
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    await first.m.consume({
      queue,
      bindings: [{ pattern: 'payment.requested' }],
      handlers: [{ pattern: '#', handle: () => held }],
    });
    const sent = await first.m.emit(Charge, { orderId: 'o-1', amount: 5 });
    await first.harness.waitFor('consumed', { messageId: sent.messageId });
    // the handler has not finished: the message is unacked, so a consumer that dies now loses nothing
    await first.m.connection.close();
    release();
    const second = await service();
    const seen: IncomingMessage[] = [];
    await second.m.consume({ queue, handlers: [{ pattern: '#', handle: (msg) => void seen.push(msg) }] });
    await second.harness.acked({ messageId: sent.messageId });
    expect(seen).toHaveLength(1);
    // the redelivery was copied back to the queue with its count before any handler ran (classic queues count
    // unsettled deliveries on the message: poison.spec.ts); the copy is what the handler saw
    expect(seen[0].redelivered).toBe(false);
    expect(seen[0].headers[Headers.unsettledDeliveries]).toBe(1);
  });

  it('retries with backoff through delay queues, then succeeds', async () => {
    const queue = queueName('retry');
    const { m, harness } = await service();
    const attempts: Array<{ attempt: number; at: number }> = [];
    await m.consume({
      queue,
      bindings: [{ pattern: 'payment.requested' }],
      handlers: [
        {
          pattern: 'payment.requested',
          contract: Charge,
          handle: (msg) => {
            attempts.push({ attempt: msg.attempt, at: Date.now() });
            if (msg.attempt < 3) throw new Error(`gateway timeout ${msg.attempt}`);
          },
        },
      ],
    });
    const sent = await m.emit(Charge, { orderId: 'o-2', amount: 10 });
    const acked = await harness.acked({ messageId: sent.messageId });
    expect(acked.attempt).toBe(3);
    expect(attempts.map((a) => a.attempt)).toEqual([1, 2, 3]);
    const retried = harness.all('retried', { messageId: sent.messageId });
    expect(retried.map((r) => r.delayMs)).toEqual([40, 80]);
    // each wait is at least its delay queue's TTL
    expect(attempts[1].at - attempts[0].at).toBeGreaterThanOrEqual(35);
    expect(attempts[2].at - attempts[1].at).toBeGreaterThanOrEqual(75);
    expect(harness.all('dead-lettered', { messageId: sent.messageId })).toHaveLength(0);
  });

  it('parks a message in <queue>.dlq with error, stack, attempts and original routing once retries run out', async () => {
    const queue = queueName('exhaust');
    const { m, harness } = await service();
    await m.consume({
      queue,
      bindings: [{ pattern: 'payment.*' }],
      handlers: [
        {
          pattern: 'payment.requested',
          handle: () => {
            throw new Error('card service down');
          },
        },
      ],
    });
    const sent = await m.emit(Charge, { orderId: 'o-3', amount: 1 }, { correlationId: 'corr-3' });
    const parked = await harness.deadLettered({ messageId: sent.messageId });
    expect(parked).toMatchObject({ reason: 'retries-exhausted', attempt: 3 });
    const got = await getOne(url, `${queue}.dlq`);
    expect(got.properties).toMatchObject({
      messageId: sent.messageId,
      correlationId: 'corr-3',
      type: 'payment.requested',
      deliveryMode: 2,
      contentType: 'application/json',
    });
    expect(got.properties.headers).toMatchObject({
      [Headers.failureReason]: 'retries-exhausted',
      [Headers.errorMessage]: 'card service down',
      [Headers.errorName]: 'Error',
      [Headers.attempt]: 3,
      [Headers.originalExchange]: exchange,
      [Headers.originalRoutingKey]: 'payment.requested',
      [Headers.originalQueue]: queue,
      [Headers.traceparent]: sent.traceparent,
    });
    expect(String(got.properties.headers?.[Headers.errorStack])).toMatch(/card service down\n\s+at /);
    expect(JSON.parse(got.content.toString())).toEqual({ orderId: 'o-3', amount: 1 });
  });

  it('retries a RetryUntilError past maxAttempts, at the last delay, until its moment; then the limit applies', async () => {
    const queue = queueName('retry-until');
    const { m, harness } = await service();
    const until = Date.now() + 700;
    const seen: number[] = [];
    await m.consume({
      queue,
      bindings: [{ pattern: 'payment.*' }],
      handlers: [
        {
          pattern: 'payment.requested',
          handle: (msg) => {
            seen.push(Date.now());
            throw new RetryUntilError(new Date(until), new Error(`gateway down (${msg.attempt})`));
          },
        },
      ],
    });
    const sent = await m.emit(Charge, { orderId: 'o-until', amount: 1 });
    const parked = await harness.deadLettered({ messageId: sent.messageId }, 10_000);
    // 3 attempts in 120 ms, then one every 80 ms (the last level's delay) until the moment, then parked
    expect(seen.length).toBeGreaterThan(fastRetry.maxAttempts + 2);
    expect(seen.at(-2)!).toBeLessThan(until);
    expect(seen.at(-1)!).toBeGreaterThanOrEqual(until - 20); // the consumer looks at the clock when the handler has failed
    for (let i = fastRetry.maxAttempts; i < seen.length; i++)
      expect(seen[i] - seen[i - 1]).toBeGreaterThanOrEqual(80 - 5);
    expect(parked).toMatchObject({ reason: 'retries-exhausted', attempt: seen.length });
    const got = await getOne(url, `${queue}.dlq`);
    expect(got.properties.headers).toMatchObject({
      [Headers.failureReason]: 'retries-exhausted',
      [Headers.errorName]: 'RetryUntilError',
      [Headers.errorMessage]: `gateway down (${seen.length})`,
    });
  });

  it("parks a RetryUntilError whose moment has passed after the policy's attempts, as any failure", async () => {
    const queue = queueName('retry-until-past');
    const { m, harness } = await service();
    let calls = 0;
    await m.consume({
      queue,
      bindings: [{ pattern: 'payment.*' }],
      handlers: [
        {
          pattern: 'payment.requested',
          handle: () => {
            calls++;
            throw new RetryUntilError(Date.now() - 1, new Error('gateway down'));
          },
        },
      ],
    });
    const sent = await m.emit(Charge, { orderId: 'o-past', amount: 1 });
    expect(await harness.deadLettered({ messageId: sent.messageId })).toMatchObject({
      reason: 'retries-exhausted',
      attempt: fastRetry.maxAttempts,
    });
    expect(calls).toBe(fastRetry.maxAttempts);
    expect(() => new RetryUntilError('not a date', new Error('x'))).toThrow(
      "RetryUntilError: 'not a date' is not a moment",
    );
  });

  it('sends non-retryable errors, invalid payloads and bodies that are not JSON straight to the DLQ', async () => {
    const queue = queueName('fastfail');
    const { m, harness } = await service();
    let calls = 0;
    await m.consume({
      queue,
      bindings: [{ pattern: 'payment.#' }],
      handlers: [
        {
          pattern: 'payment.declined',
          handle: () => {
            calls++;
            throw new NonRetryableError('card declined');
          },
        },
        { pattern: 'payment.requested', contract: Charge, handle: () => void calls++ },
      ],
    });
    const declined = await m.publish({ exchange, routingKey: 'payment.declined', payload: { orderId: 'o-4' } });
    const invalid = await m.publish({
      exchange,
      routingKey: 'payment.requested',
      payload: { orderId: 'o-5', amount: -1 },
    });
    const garbage = await m.publish({
      exchange,
      routingKey: 'payment.requested',
      payload: Buffer.from('{not json'),
      contentType: 'application/json',
    });
    const [a, b, c] = await Promise.all(
      [declined, invalid, garbage].map((s) => harness.deadLettered({ messageId: s.messageId })),
    );
    expect([a.reason, a.attempt, a.error.message]).toEqual(['non-retryable', 1, 'card declined']);
    expect([b.reason, b.error.message]).toEqual([
      'invalid',
      'invalid payment.requested: amount: Too small: expected number to be >0',
    ]);
    expect(c.reason).toBe('invalid');
    expect(c.error.message).toMatch(/body is not JSON/);
    expect(calls).toBe(1); // the invalid ones never reached a handler
    expect(harness.all('retried', { queue })).toHaveLength(0);
  });

  it('parks messages no handler takes instead of stalling the queue', async () => {
    const queue = queueName('unknown');
    const { m, harness } = await service('consume-test', { prefetch: 1 });
    await m.consume({
      queue,
      bindings: [{ pattern: 'payment.#' }],
      handlers: [{ pattern: 'payment.requested', handle: () => undefined }],
    });
    const unknown = await m.publish({ exchange, routingKey: 'payment.refunded', payload: {} });
    const good = await m.emit(Charge, { orderId: 'o-6', amount: 2 });
    expect((await harness.deadLettered({ messageId: unknown.messageId })).reason).toBe('no-handler');
    await harness.acked({ messageId: good.messageId });
  });

  it('parks a failed message once its DLQ, deleted under a live connection, is declared again (no tight loop)', async () => {
    const queue = queueName('dlq-gone');
    const { m, harness } = await service('consume-test', { reconnect: { initialDelayMs: 50, maxDelayMs: 200 } });
    let calls = 0;
    await m.consume({
      queue,
      bindings: [{ pattern: 'payment.requested' }],
      retry: { maxAttempts: 1 },
      handlers: [
        {
          pattern: '#',
          handle: () => {
            calls++;
            throw new NonRetryableError('card declined');
          },
        },
      ],
    });
    const conn = await connect(url);
    try {
      const ch = await conn.createChannel();
      await ch.deleteQueue(`${queue}.dlq`);
    } finally {
      await conn.close();
    }
    const closed = new Promise((resolve) => m.events.once('channel-closed', resolve));
    const sent = await m.emit(Charge, { orderId: 'o-dlq', amount: 3 });
    // the copy to the DLQ comes back unroutable: the consumer's channel is reopened, declaring its queues again
    expect(await closed).toMatchObject({ role: 'consumer', name: queue });
    const parked = await harness.deadLettered({ messageId: sent.messageId }, 10_000);
    expect(parked.reason).toBe('non-retryable');
    // handled twice: before the DLQ was back, and once redelivered (not in a loop while it was gone)
    expect(calls).toBe(2);
    const got = await getOne(url, `${queue}.dlq`);
    expect(got.properties.messageId).toBe(sent.messageId);
  });

  it('shares a queue between competing consumers, each held to its prefetch', async () => {
    const queue = queueName('compete');
    const a = await service('worker-a');
    const b = await service('worker-b');
    const byWorker = { a: 0, b: 0 };
    const inFlight = { a: 0, b: 0 };
    const maxInFlight = { a: 0, b: 0 };
    const handler = (w: 'a' | 'b') => async () => {
      inFlight[w]++;
      maxInFlight[w] = Math.max(maxInFlight[w], inFlight[w]);
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setTimeout(r, 5)); // work takes time, so both workers are busy at once
      inFlight[w]--;
      byWorker[w]++;
    };
    await a.m.consume({
      queue,
      bindings: [{ pattern: 'payment.requested' }],
      prefetch: 2,
      handlers: [{ pattern: '#', handle: handler('a') }],
    });
    await b.m.consume({ queue, prefetch: 2, handlers: [{ pattern: '#', handle: handler('b') }] });
    const n = 60;
    await Promise.all(Array.from({ length: n }, (_, i) => a.m.emit(Charge, { orderId: `c-${i}`, amount: 1 })));
    await eventuallyTotal(() => byWorker.a + byWorker.b, n);
    expect(byWorker.a).toBeGreaterThan(n / 6);
    expect(byWorker.b).toBeGreaterThan(n / 6);
    expect(maxInFlight.a).toBeLessThanOrEqual(2);
    expect(maxInFlight.b).toBeLessThanOrEqual(2);
  });

  it('subscribes a consumer registered while the connection is being set up', async () => {
    const queue = queueName('during-setup');
    const m = new Messaging({
      url,
      serviceName: 'consume-test',
      eventsExchange: exchange,
      commandsExchange: `${exchange}.cmd`,
      retry: fastRetry,
    });
    open.push(m);
    const harness = new MessagingHarness(m);
    // a consume() that comes while the connection's set-up work runs (here: from inside that work, so the moment
    // is certain), when the hooks to run were already listed
    await m.connection.addHook(async () => {
      await m.consume({
        queue,
        bindings: [{ pattern: 'payment.requested' }],
        handlers: [{ pattern: '#', handle: () => undefined }],
      });
    });
    await m.start();
    const sent = await m.emit(Charge, { orderId: 'setup-1', amount: 1 });
    await harness.acked({ messageId: sent.messageId });
    expect(m.consumers.map((c) => c.isConsuming)).toEqual([true]);
  });

  it('leaves no subscription behind when a consumer is stopped while it subscribes', async () => {
    const queue = queueName('stop-during-setup');
    const m = new Messaging({
      url,
      serviceName: 'consume-test',
      eventsExchange: exchange,
      commandsExchange: `${exchange}.cmd`,
      retry: fastRetry,
    });
    open.push(m);
    const starting = m.start();
    const consumer = await m.consume({ queue, handlers: [{ pattern: '#', handle: () => undefined }] });
    await consumer.stop(1000);
    await starting;
    expect(consumer.isConsuming).toBe(false);
    const conn = await connect(url);
    try {
      const ch = await conn.createChannel();
      ch.on('error', () => undefined); // a 404 from checkQueue closes the channel
      // the queue may not even exist (stopped before its declaration); if it does, nobody consumes it
      const ok = await ch.checkQueue(queue).catch(() => undefined);
      expect(ok?.consumerCount ?? 0).toBe(0);
    } finally {
      await conn.close();
    }
  });

  it('on close stops taking messages and lets the handler in hand finish and ack', async () => {
    const queue = queueName('shutdown');
    const { m, harness } = await service();
    let finish!: () => void;
    const gate = new Promise<void>((r) => (finish = r));
    let done = 0;
    await m.consume({
      queue,
      bindings: [{ pattern: 'payment.requested' }],
      prefetch: 1,
      handlers: [
        {
          pattern: '#',
          handle: async () => {
            await gate;
            done++;
          },
        },
      ],
    });
    const first = await m.emit(Charge, { orderId: 's-1', amount: 1 });
    const second = await m.emit(Charge, { orderId: 's-2', amount: 1 });
    await harness.waitFor('consumed', { messageId: first.messageId });
    const closing = m.close();
    finish();
    await closing;
    expect(done).toBe(1);
    expect(harness.all('acked', { messageId: first.messageId })).toHaveLength(1);
    // the second was never started; it waits in the queue for the next instance
    const next = await service();
    await next.m.consume({ queue, handlers: [{ pattern: '#', handle: () => undefined }] });
    await next.harness.acked({ messageId: second.messageId });
    expect(next.harness.all('acked', { messageId: first.messageId })).toHaveLength(0);
  });
});

async function getOne(url: string, queue: string) {
  const conn = await connect(url);
  try {
    const ch = await conn.createChannel();
    for (let i = 0; i < 200; i++) {
      const m = await ch.get(queue, { noAck: true });
      if (m) return m;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`nothing in ${queue}`);
  } finally {
    await conn.close();
  }
}

async function eventuallyTotal(get: () => number, n: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (get() < n) {
    if (Date.now() > deadline) throw new Error(`handled ${get()} of ${n}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
