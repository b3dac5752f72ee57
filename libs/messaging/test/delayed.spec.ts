// Delayed messages and retries with jitter, on each broker the way it offers them: the bundled broker through its
// x-delayed-message exchange (and through TTL delay queues when told to), RabbitMQ (no plugin) through TTL delay
// queues. Detection, scheduled sends reaching the consumer an undelayed publish reaches, retries with per-message
// jitter ending in the DLQ, and the refusals.
import { connect } from 'amqplib';
import { createServer, type Socket } from 'node:net';
import { z } from 'zod';
import {
  DeadLetterQueue,
  defineMessage,
  delayBucket,
  DELAY_HEADER,
  DELAY_TARGET_HEADER,
  MAX_DELAY_MS,
  Messaging,
  MessagingError,
  probeDelayedExchange,
  ttlDelayExchangeName,
  ttlDelayQueueName,
  validateDelay,
  type DelayMode,
  type IncomingMessage,
} from '../src';
import { MessagingHarness } from '../src/testing';
import { cleanup, testBrokers, uniqueName } from './support/brokers';

const Reminder = defineMessage('order.reminder', z.object({ orderId: z.string() }));
const Nudge = defineMessage('order.nudge', z.object({ orderId: z.string() }));
const Expire = defineMessage('orders.expire-order', z.object({ orderId: z.string() }));

interface Setup {
  label: string;
  url: string;
  use: 'auto' | 'ttl-queues';
  mode: DelayMode;
  log: string;
}

const setups: Setup[] = testBrokers().flatMap(({ name, url }): Setup[] =>
  name === 'bundled'
    ? [
        {
          label: 'bundled, its delayed exchange',
          url,
          use: 'auto',
          mode: 'delayed-exchange',
          log: 'delayed messages: broker exchange <x>',
        },
        {
          label: "bundled, delayedMessages: 'ttl-queues'",
          url,
          use: 'ttl-queues',
          mode: 'ttl-queues',
          log: "delayed messages: TTL delay queues (delayedMessages: 'ttl-queues')",
        },
      ]
    : [
        {
          label: 'rabbitmq, no plugin',
          url,
          use: 'auto',
          mode: 'ttl-queues',
          log: 'delayed messages: TTL delay queues (the broker has no x-delayed-message)',
        },
      ],
);

describe.each(setups)('delayed messages ($label)', ({ url, use, mode, log }) => {
  const exchange = uniqueName('dev');
  const commands = `${exchange}.cmd`;
  const delayedExchange = uniqueName('delayed');
  const queues: string[] = [];
  const ttlQueues = new Set<string>();
  const open: Messaging[] = [];

  async function service(extra: Partial<ConstructorParameters<typeof Messaging>[0]> = {}) {
    const lines: string[] = [];
    const logger = { log: (l: string) => void lines.push(l), warn: () => undefined, error: () => undefined };
    const m = new Messaging({
      url,
      serviceName: 'delay-test',
      eventsExchange: exchange,
      commandsExchange: commands,
      delayedExchange,
      delayedMessages: use,
      logger,
      ...extra,
    });
    open.push(m);
    const harness = new MessagingHarness(m);
    await m.start();
    return { m, harness, lines };
  }
  const queueName = (p: string) => {
    const q = uniqueName(p);
    queues.push(q);
    return q;
  };
  /** Where the TTL fallback put what it held, to delete afterwards. */
  const noteTtlQueues = (target: string, delays: number[]) =>
    delays.forEach((d) => ttlQueues.add(ttlDelayQueueName(delayedExchange, target, delayBucket(d))));

  afterAll(async () => {
    await Promise.all(open.map((m) => m.close()));
    await cleanup(url, {
      queues: [...queues, ...ttlQueues],
      exchanges: [exchange, commands, delayedExchange, ttlDelayExchangeName(delayedExchange)],
    });
  });

  it(`finds out how delays go, says so in the log and on the instance (${mode})`, async () => {
    const { m, lines } = await service();
    expect(m.delayMode).toBe(mode);
    expect(lines).toContain(log.replace('<x>', delayedExchange));
    expect(lines.filter((l) => l.startsWith('delayed messages:'))).toHaveLength(1);
  });

  it('holds a scheduled send for its delay, then it reaches the consumer an undelayed publish reaches (events, commands, a queue by name)', async () => {
    const events = queueName('sched');
    const work = queueName('sched-cmd');
    const { m, harness } = await service();
    const seen: Array<{ msg: IncomingMessage; at: number }> = [];
    const handle = (msg: IncomingMessage) => void seen.push({ msg, at: Date.now() });
    await m.consume({ queue: events, bindings: [{ pattern: 'order.reminder' }], handlers: [{ pattern: '#', handle }] });
    await m.consume({
      queue: work,
      bindings: [{ exchange: commands, pattern: Expire.type }],
      handlers: [{ pattern: '#', handle }],
    });
    noteTtlQueues(exchange, [600, 150]);
    noteTtlQueues(commands, [250]);
    noteTtlQueues('', [200]);

    const sentAt = Date.now();
    const long = await m.emit(Reminder, { orderId: 'o-600' }, { delay: 600 });
    const short = await m.emit(Reminder, { orderId: 'o-150' }, { delay: 150 });
    const cmd = await m.send(Expire, { orderId: 'o-250' }, { delay: 250 });
    const byName = await m.publish({
      exchange: '',
      routingKey: work,
      type: Expire.type,
      payload: { orderId: 'o-200' },
      delay: 200,
    });
    // the confirms came while they are held
    expect(seen).toHaveLength(0);
    const now = await m.emit(Reminder, { orderId: 'o-now' });
    expect([long.delay, short.delay, cmd.delay, byName.delay, now.delay]).toEqual([600, 150, 250, 200, undefined]);
    expect([long.exchange, long.routingKey, cmd.exchange, cmd.routingKey]).toEqual([
      exchange,
      Reminder.type,
      commands,
      Expire.type,
    ]);

    await harness.waitForCount('acked', 5, (e) =>
      [long, short, cmd, byName, now].some((p) => p.messageId === e.messageId),
    );
    const arrival = (id: string) => seen.find((s) => s.msg.messageId === id)!;
    expect(seen.map((s) => s.msg.payload)).toEqual([
      { orderId: 'o-now' },
      { orderId: 'o-150' },
      { orderId: 'o-200' },
      { orderId: 'o-250' },
      { orderId: 'o-600' },
    ]);
    for (const [p, d] of [
      [short, 150],
      [byName, 200],
      [cmd, 250],
      [long, 600],
    ] as const)
      expect(arrival(p.messageId).at - sentAt).toBeGreaterThanOrEqual(d);
    // the same queue and the same routing an undelayed publish has
    expect(arrival(long.messageId).msg).toMatchObject({
      queue: events,
      exchange,
      routingKey: Reminder.type,
      type: Reminder.type,
      attempt: 1,
    });
    expect(arrival(now.messageId).msg).toMatchObject({ queue: events, exchange, routingKey: Reminder.type });
    expect(arrival(cmd.messageId).msg).toMatchObject({
      queue: work,
      exchange: commands,
      routingKey: Expire.type,
      type: Expire.type,
    });
    expect(arrival(byName.messageId).msg).toMatchObject({
      queue: work,
      exchange: '',
      routingKey: work,
      type: Expire.type,
    });
    // how it waited
    const raw = arrival(long.messageId).msg.raw;
    if (mode === 'delayed-exchange') {
      expect(raw.fields.exchange).toBe(delayedExchange);
      expect(raw.properties.headers).toMatchObject({
        [DELAY_HEADER]: 600,
        [DELAY_TARGET_HEADER]: `exchange:${exchange}`,
      });
    } else {
      expect(raw.fields.exchange).toBe(exchange);
      expect(raw.properties.headers?.['x-death']).toMatchObject([
        {
          reason: 'expired',
          queue: ttlDelayQueueName(delayedExchange, exchange, 1024),
          'routing-keys': [Reminder.type],
        },
      ]);
    }
  });

  it('retries through the delay with per-message jitter where the broker holds messages, fixed TTLs otherwise; attempts counted, then the DLQ', async () => {
    const queue = queueName('jitter');
    const { m, harness } = await service();
    const retry = { maxAttempts: 4, initialDelayMs: 200, multiplier: 1, maxDelayMs: 200, jitter: 0.5 };
    const attempts = new Map<string, Array<{ attempt: number; at: number }>>();
    await m.consume({
      queue,
      retry,
      bindings: [{ pattern: Nudge.type }],
      handlers: [
        {
          pattern: '#',
          handle: (msg) => {
            attempts.set(msg.messageId, [
              ...(attempts.get(msg.messageId) ?? []),
              { attempt: msg.attempt, at: Date.now() },
            ]);
            throw new Error(`reminder service down (${msg.attempt})`);
          },
        },
      ],
    });
    const n = 8;
    const sent = await Promise.all(Array.from({ length: n }, (_, i) => m.emit(Nudge, { orderId: `j-${i}` })));
    const parked = await harness.waitForCount('dead-lettered', n, { queue }, 20_000);
    expect(parked.every((p) => p.reason === 'retries-exhausted' && p.attempt === 4)).toBe(true);

    const delays: number[] = [];
    for (const s of sent) {
      const retried = harness.all('retried', { messageId: s.messageId });
      expect(retried.map((r) => r.attempt)).toEqual([1, 2, 3]);
      const seen = attempts.get(s.messageId)!;
      expect(seen.map((a) => a.attempt)).toEqual([1, 2, 3, 4]);
      // each attempt came no earlier than the delay chosen for it
      retried.forEach((r, i) => expect(seen[i + 1].at - seen[i].at).toBeGreaterThanOrEqual(r.delayMs));
      delays.push(...retried.map((r) => r.delayMs));
    }
    if (mode === 'delayed-exchange') {
      expect(Math.min(...delays)).toBeGreaterThanOrEqual(100);
      expect(Math.max(...delays)).toBeLessThanOrEqual(300);
      expect(new Set(delays).size).toBeGreaterThan(5); // 24 draws from 201 values: they differ
    } else {
      expect(new Set(delays)).toEqual(new Set([200])); // one TTL per delay queue: no jitter
    }

    // parked as ever: attempts, error, original routing; no delay headers on the parked copy
    const dlq = new DeadLetterQueue(url);
    try {
      const list = await dlq.list(queue);
      expect(list).toHaveLength(n);
      for (const p of list) {
        expect(p).toMatchObject({
          reason: 'retries-exhausted',
          attempts: 4,
          originalExchange: exchange,
          originalRoutingKey: Nudge.type,
          originalQueue: queue,
          error: { message: 'reminder service down (4)' },
        });
        expect(p.headers).not.toHaveProperty(DELAY_HEADER);
        expect(p.headers).not.toHaveProperty(DELAY_TARGET_HEADER);
      }
      // and a replay sends it round again from attempt 1
      await dlq.replay(queue, { ids: [sent[0].messageId] });
      await harness.waitFor(
        'consumed',
        (e) => e.messageId === sent[0].messageId && e.attempt === 1 && attempts.get(sent[0].messageId)!.length === 5,
      );
    } finally {
      await dlq.close();
    }
  });

  it('refuses bad delays with a clear error and publishes nothing', async () => {
    const { m, harness } = await service();
    const bad: unknown[] = [-1, 1.5, MAX_DELAY_MS + 1, Number.NaN, Number.POSITIVE_INFINITY, '100', null];
    for (const delay of bad) {
      await expect(m.emit(Reminder, { orderId: 'x' }, { delay: delay as number })).rejects.toThrow(
        /^invalid delay .*: need a whole number of milliseconds from 0 to 4294967295$/,
      );
    }
    await expect(m.emit(Reminder, { orderId: 'x' }, { delay: 100, expirationMs: 1000 })).rejects.toThrow(
      /delay cannot be combined with expirationMs/,
    );
    await expect(m.emit(Reminder, { orderId: 'x' }, { delay: 100, mandatory: true })).rejects.toThrow(
      /delay cannot be combined with mandatory: true/,
    );
    expect(harness.all('published')).toHaveLength(0);
    // delay 0 is an ordinary publish: mandatory applies (nothing is bound for this key)
    await expect(m.emit(Reminder, { orderId: 'x' }, { routingKey: 'nobody.listens', delay: 0 })).rejects.toMatchObject({
      name: 'UnroutableError',
    });
    // a delay is not checked for routability: it is held, and dropped when due if still unbound
    noteTtlQueues(exchange, [50]);
    await expect(
      m.emit(Reminder, { orderId: 'x' }, { routingKey: 'nobody.listens', delay: 50 }),
    ).resolves.toMatchObject({ delay: 50 });
    // a target that does not exist is the broker's 404, as for an undelayed publish
    const missing = uniqueName('missing');
    await expect(m.publish({ exchange: missing, routingKey: 'k', payload: {}, delay: 50 })).rejects.toMatchObject({
      code: 'CHANNEL_ERROR',
      message: expect.stringMatching(/404/),
    });
    await expect(m.publish({ exchange: '', routingKey: missing, payload: {}, delay: 50 })).rejects.toMatchObject({
      code: 'CHANNEL_ERROR',
      message: expect.stringMatching(/404/),
    });
    // the instance still publishes afterwards
    noteTtlQueues(exchange, [60]);
    await expect(
      m.emit(Reminder, { orderId: 'x' }, { routingKey: 'nobody.listens', delay: 60 }),
    ).resolves.toMatchObject({ delay: 60 });
  });
});

describe('delayed messages: detection failures are errors, not "no"', () => {
  const url = testBrokers()[0].url;

  it('validateDelay names the value and the range', () => {
    expect(validateDelay(0)).toBe(0);
    expect(validateDelay(MAX_DELAY_MS)).toBe(MAX_DELAY_MS);
    expect(() => validateDelay(-5)).toThrow(
      'invalid delay -5: need a whole number of milliseconds from 0 to 4294967295',
    );
    expect(() => validateDelay('7')).toThrow("invalid delay '7'");
    expect(() => validateDelay(undefined)).toThrow(RangeError);
  });

  it('a broker that cannot be reached is reported', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    await new Promise((r) => server.close(r));
    const probe = probeDelayedExchange({
      url: `amqp://guest:guest@127.0.0.1:${port}`,
      connectionName: 't',
      exchange: 'warren.delayed',
      timeoutMs: 3000,
    });
    await expect(probe).rejects.toMatchObject({
      code: 'DELAY_PROBE_FAILED',
      message: expect.stringMatching(/ECONNREFUSED.*set delayedMessages: 'ttl-queues'/),
    });
  });

  it('a broker that answers nothing within the timeout is reported', async () => {
    const sockets: Socket[] = [];
    const server = createServer((s) => void sockets.push(s)); // accepts, never speaks AMQP
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    try {
      const probe = probeDelayedExchange({
        url: `amqp://guest:guest@127.0.0.1:${port}`,
        connectionName: 't',
        exchange: 'warren.delayed',
        timeoutMs: 300,
      });
      await expect(probe).rejects.toMatchObject({ code: 'DELAY_PROBE_FAILED' });
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    }
  });

  it('an exchange of that name with another type (406 on the bundled broker) fails the start with the reason', async () => {
    const name = uniqueName('delayed-taken');
    const exchange = uniqueName('dev');
    const conn = await connect(url);
    const ch = await conn.createChannel();
    await ch.assertExchange(name, 'topic', { durable: false });
    const m = new Messaging({
      url,
      serviceName: 'delay-test',
      eventsExchange: exchange,
      commandsExchange: `${exchange}.cmd`,
      delayedExchange: name,
      reconnect: { initialDelayMs: 5000, maxDelayMs: 5000 },
    });
    try {
      const failed = await m.start().then(
        () => undefined,
        (err: Error) => err,
      );
      expect(failed).toBeInstanceOf(MessagingError);
      expect(failed).toMatchObject({
        code: 'DELAY_PROBE_FAILED',
        message: expect.stringMatching(
          new RegExp(`declaring exchange '${name.replace(/\./g, '\\.')}'.*406 \\(PRECONDITION-FAILED\\)`),
        ),
      });
      expect(m.delayMode).toBeUndefined();
    } finally {
      await m.close();
      await ch.deleteExchange(name);
      await conn.close();
      await cleanup(url, { exchanges: [exchange, `${exchange}.cmd`] });
    }
  });
});
