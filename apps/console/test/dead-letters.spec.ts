// The console's dead-letters API on live brokers (the bundled one, and RabbitMQ when RABBITMQ_URL and
// RABBITMQ_MANAGEMENT_URL are set): messages parked the way a service parks them (a real consumer of
// @warren/messaging whose handler throws a NonRetryableError), listed, replayed and purged through the console's
// HTTP API; bad input, a missing queue, a replay the broker refuses and a broker that is down.
import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { Headers, Messaging, NonRetryableError, type IncomingMessage } from '@warren/messaging';
import { deleteTopology, MessagingHarness } from '@warren/messaging/testing';
import { connect } from 'amqplib';
import { randomBytes } from 'node:crypto';
import type {
  DeadLetterQueueList,
  ParkedList,
  PurgeResponse,
  ReplayFailure,
  ReplayResponse,
} from '../src/contracts/dead-letters';
import { eventually } from '../../../tools/testing/eventually';
import { freePort } from '../../../tools/testing/ports';
import { startBroker, type LiveBroker } from './support/broker';
import { startConsole } from './support/console';

interface Answer<T> {
  status: number;
  body: T;
}

async function call<T = unknown>(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  raw?: string,
): Promise<Answer<T>> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined && raw === undefined ? {} : { 'content-type': 'application/json' },
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

const silent = { log: () => undefined, warn: () => undefined, error: () => undefined };

const brokers: Array<[string, () => Promise<LiveBroker>]> = [['bundled', startBroker]];
if (process.env.RABBITMQ_URL && process.env.RABBITMQ_MANAGEMENT_URL)
  brokers.push([
    'rabbitmq',
    async () => ({
      amqpUrl: process.env.RABBITMQ_URL!,
      managementUrl: process.env.RABBITMQ_MANAGEMENT_URL!,
      stop: async () => undefined,
    }),
  ]);

describe.each(brokers)('the dead-letters API (%s)', (_name, start) => {
  const ns = `console-dlq-${randomBytes(4).toString('hex')}`;
  const exchange = `${ns}.events`;
  const queues: string[] = [];
  let broker: LiveBroker;
  let messaging: Messaging;
  let harness: MessagingHarness;
  let app: INestApplication;
  let base: string;

  beforeAll(async () => {
    broker = await start();
    messaging = new Messaging({
      url: broker.amqpUrl,
      serviceName: `${ns}-service`,
      eventsExchange: exchange,
      commandsExchange: `${ns}.commands`,
      logger: silent,
    });
    harness = new MessagingHarness(messaging);
    await messaging.start();
    ({ app, base } = await startConsole({ AMQP_URL: broker.amqpUrl, AMQP_MANAGEMENT_URL: broker.managementUrl }));
  });
  afterAll(async () => {
    await app?.close();
    await messaging?.close();
    if (broker) await deleteTopology(broker.amqpUrl, { queues, exchanges: [exchange, `${ns}.commands`] });
    await broker?.stop();
  });

  /**
   * A work queue whose handler fails for good (NonRetryableError) while `broken`; `park` publishes one message
   * and waits until the consumer has parked it in `<queue>.dlq` with the failure headers.
   */
  async function brokenService() {
    const queue = `${ns}.work-${queues.length + 1}`;
    const tag = queue.replace(/\./g, '-');
    queues.push(queue);
    const service = { broken: true, handled: [] as IncomingMessage[] };
    await messaging.consume({
      queue,
      bindings: [{ pattern: `${tag}.#` }],
      retry: { maxAttempts: 1 },
      handlers: [
        {
          pattern: `${tag}.charge`,
          handle: (m: IncomingMessage) => {
            if (service.broken) throw new NonRetryableError('card declined');
            service.handled.push(m);
          },
        },
      ],
    });
    const park = async (payload: unknown) => {
      const sent = await messaging.publish({ exchange, routingKey: `${tag}.charge`, payload });
      await harness.deadLettered({ queue, messageId: sent.messageId });
      return sent.messageId;
    };
    return { queue, tag, service, park };
  }

  it('shows a message the broker parked: a quorum queue past its delivery limit (x-death, reason delivery_limit)', async () => {
    const queue = `${ns}.quorum-${queues.length + 1}`;
    queues.push(queue);
    const conn = await connect(broker.amqpUrl);
    try {
      const ch = await conn.createChannel();
      await ch.assertQueue(`${queue}.dlq`, { durable: true });
      await ch.assertQueue(queue, {
        durable: true,
        arguments: {
          'x-queue-type': 'quorum',
          'x-delivery-limit': 1,
          'x-dead-letter-exchange': '',
          'x-dead-letter-routing-key': `${queue}.dlq`,
        },
      });
      ch.sendToQueue(queue, Buffer.from('{"n":3}'), {
        messageId: `${ns}-crashing`,
        type: 'crash.me',
        contentType: 'application/json',
        persistent: true,
      });
      // returned twice without a settle, as a consumer that crashes each time: past the limit of 1
      for (let i = 0; i < 2; i++) {
        const got = await eventually(
          'the message to be in the work queue',
          async () => (await ch.get(queue)) || undefined,
          10_000,
          50,
        );
        ch.nack(got, false, true);
      }
      await ch.close();
    } finally {
      await conn.close();
    }
    const body = await eventually(
      'the broker to park it',
      async () => {
        const r = await call<ParkedList>(base, 'GET', `/api/dead-letters/${queue}.dlq`);
        return r.status === 200 && r.body.count === 1 ? r.body : undefined;
      },
      10_000,
      100,
    );
    expect(body.messages[0]).toMatchObject({
      messageId: `${ns}-crashing`,
      type: 'crash.me',
      reason: 'delivery_limit',
      originalQueue: queue,
      payload: { n: 3 },
      replayCount: 0,
    });
    expect(body.messages[0].deaths).toEqual([expect.objectContaining({ queue, reason: 'delivery_limit', count: 1 })]);
  });

  it('lists every DLQ with its work queue and count, and its parked messages with the failure', async () => {
    const { queue, tag, park } = await brokenService();
    const ids = [await park({ n: 1 }), await park({ n: 2 })];

    // the management API's counts lag behind (RabbitMQ samples them every few seconds)
    const listed = await eventually(
      'the DLQ with 2 messages in the list',
      async () => {
        const { status, body } = await call<DeadLetterQueueList>(base, 'GET', '/api/dead-letters');
        expect(status).toBe(200);
        const dlq = body.queues.find((q) => q.queue === `${queue}.dlq`);
        return dlq && dlq.ready === 2 ? body : undefined;
      },
      20_000,
      250,
    );
    expect(listed.vhost).toBe('/');
    expect(listed.queues.find((q) => q.queue === `${queue}.dlq`)).toEqual({
      queue: `${queue}.dlq`,
      workQueue: queue,
      workQueueExists: true,
      ready: 2,
      unacked: 0,
    });
    expect(listed.queues.every((q) => q.queue.endsWith('.dlq'))).toBe(true);

    const { status, body } = await call<ParkedList>(base, 'GET', `/api/dead-letters/${queue}.dlq`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ queue: `${queue}.dlq`, workQueue: queue, count: 2 });
    expect(body.messages.map((m) => m.messageId)).toEqual(ids);
    expect(body.messages[0]).toMatchObject({
      type: `${tag}.charge`,
      reason: 'non-retryable',
      error: { name: 'NonRetryableError', message: 'card declined' },
      attempts: 1,
      replayCount: 0,
      originalExchange: exchange,
      originalRoutingKey: `${tag}.charge`,
      originalQueue: queue,
      payload: { n: 1 },
      payloadFormat: 'json',
    });
    expect(Date.parse(body.messages[0].deadLetteredAt!)).not.toBeNaN();

    // the work queue's name works too, and the limit stops the listing but not the count; nothing moved
    const head = await call<ParkedList>(base, 'GET', `/api/dead-letters/${queue}?limit=1`);
    expect(head.status).toBe(200);
    expect(head.body.count).toBe(2);
    expect(head.body.messages.map((m) => m.messageId)).toEqual([ids[0]]);
    expect(
      (await call<ParkedList>(base, 'GET', `/api/dead-letters/${queue}.dlq`)).body.messages.map((m) => m.messageId),
    ).toEqual(ids);
  });

  it('replays one message by id back to its work queue, where the fixed handler takes it; the other stays parked', async () => {
    const { queue, service, park } = await brokenService();
    const [first, second] = [await park({ n: 1 }), await park({ n: 2 })];
    service.broken = false; // the fix is deployed

    const replay = await call<ReplayResponse>(base, 'POST', `/api/dead-letters/${queue}.dlq/replay`, {
      ids: [second, 'no-such-id'],
    });
    expect(replay).toEqual({ status: 200, body: { replayed: 1, notFound: ['no-such-id'] } });
    await harness.acked({ queue, messageId: second });
    expect(service.handled.map((m) => [m.messageId, m.headers[Headers.replayCount]])).toEqual([[second, 1]]);
    expect(
      (await call<ParkedList>(base, 'GET', `/api/dead-letters/${queue}.dlq`)).body.messages.map((m) => m.messageId),
    ).toEqual([first]);

    // {} replays every parked message
    expect(await call<ReplayResponse>(base, 'POST', `/api/dead-letters/${queue}.dlq/replay`, {})).toEqual({
      status: 200,
      body: { replayed: 1, notFound: [] },
    });
    await harness.acked({ queue, messageId: first });
    expect((await call<ParkedList>(base, 'GET', `/api/dead-letters/${queue}.dlq`)).body).toMatchObject({
      count: 0,
      messages: [],
    });
  });

  it('purges one message by id, then all of them', async () => {
    const { queue, park } = await brokenService();
    const ids = [await park({ n: 1 }), await park({ n: 2 }), await park({ n: 3 })];

    expect(await call<PurgeResponse>(base, 'POST', `/api/dead-letters/${queue}.dlq/purge`, { ids: [ids[1]] })).toEqual({
      status: 200,
      body: { purged: 1 },
    });
    expect(
      (await call<ParkedList>(base, 'GET', `/api/dead-letters/${queue}.dlq`)).body.messages.map((m) => m.messageId),
    ).toEqual([ids[0], ids[2]]);
    expect(await call<PurgeResponse>(base, 'POST', `/api/dead-letters/${queue}.dlq/purge`, { all: true })).toEqual({
      status: 200,
      body: { purged: 2 },
    });
    expect((await call<ParkedList>(base, 'GET', `/api/dead-letters/${queue}.dlq`)).body).toMatchObject({
      count: 0,
      messages: [],
    });
  });

  it('gives concurrent listings of one DLQ every message (the console reads a DLQ one operation at a time)', async () => {
    const { queue, park } = await brokenService();
    const ids = [await park({ n: 1 }), await park({ n: 2 }), await park({ n: 3 })];
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        call<ParkedList>(base, 'GET', `/api/dead-letters/${queue}.dlq${i % 2 ? '?limit=50' : ''}`),
      ),
    );
    for (const a of answers) expect(a.body.messages.map((m) => m.messageId)).toEqual(ids);
  });

  it('refuses bad input with 400, naming the problem, before touching the broker', async () => {
    const { queue, park } = await brokenService();
    await park({ n: 1 });
    const path = `/api/dead-letters/${queue}.dlq`;
    const bad: Array<[string, string, unknown, string | undefined, RegExp]> = [
      ['POST', `${path}/purge`, undefined, undefined, /body must be a JSON object/],
      ['POST', `${path}/purge`, {}, undefined, /either ids .* or all: true/],
      ['POST', `${path}/purge`, { ids: [1, 2] }, undefined, /each id must be a string/],
      ['POST', `${path}/purge`, { ids: [] }, undefined, /at least one message id/],
      ['POST', `${path}/purge`, { all: false }, undefined, /all must be true/],
      ['POST', `${path}/purge`, { all: true, ids: ['a'] }, undefined, /not both/],
      ['POST', `${path}/purge`, undefined, '[]', /body must be a JSON object/],
      ['POST', `${path}/replay`, undefined, undefined, /body must be a JSON object/],
      ['POST', `${path}/replay`, { ids: 'abc' }, undefined, /ids must be a list/],
      ['POST', `${path}/replay`, { ids: [{}] }, undefined, /each id must be a string/],
      ['POST', `${path}/replay`, { id: 'abc' }, undefined, /id/],
      ['GET', `${path}?limit=abc`, undefined, undefined, /limit must be a whole number/],
      ['GET', `${path}?limit=0`, undefined, undefined, /limit must be a whole number/],
      ['GET', `/api/dead-letters/${encodeURIComponent('bad name!')}`, undefined, undefined, /only letters, digits/],
      ['GET', `/api/dead-letters/${'q'.repeat(256)}`, undefined, undefined, /at most 255/],
    ];
    for (const [method, url, body, raw, message] of bad) {
      const answer = await call<{ message: string; issues: Array<{ path: string; message: string }> }>(
        base,
        method,
        url,
        body,
        raw,
      );
      expect([method, url, body, answer.status]).toEqual([method, url, body, 400]);
      expect(answer.body.issues.map((i) => i.message).join('; ')).toMatch(message);
    }
    // nothing was purged or replayed
    expect((await call<ParkedList>(base, 'GET', path)).body.count).toBe(1);
  });

  it('answers 404 naming a DLQ that does not exist', async () => {
    const missing = `${ns}.nothing-here`;
    for (const [method, path, body] of [
      ['GET', `/api/dead-letters/${missing}`, undefined],
      ['POST', `/api/dead-letters/${missing}/replay`, {}],
      ['POST', `/api/dead-letters/${missing}/purge`, { all: true }],
      ['POST', `/api/dead-letters/${missing}/purge`, { ids: ['x'] }],
    ] as const) {
      const answer = await call<{ message: string }>(base, method, path, body);
      expect([path, answer.status]).toEqual([path, 404]);
      expect(answer.body.message).toContain(`'${missing}.dlq'`);
    }
  });

  it('answers 502 with the count so far when the broker refuses a replay (its work queue is gone)', async () => {
    const queue = `${ns}.orphaned`;
    queues.push(queue);
    const conn = await connect(broker.amqpUrl);
    try {
      const ch = await conn.createConfirmChannel();
      await ch.assertQueue(`${queue}.dlq`, { durable: true });
      ch.sendToQueue(`${queue}.dlq`, Buffer.from('{}'), {
        persistent: true,
        messageId: 'orphan',
        headers: { [Headers.originalQueue]: `${queue}.deleted` },
      });
      await ch.waitForConfirms();
    } finally {
      await conn.close();
    }
    const answer = await call<ReplayFailure>(base, 'POST', `/api/dead-letters/${queue}.dlq/replay`, {});
    expect(answer.status).toBe(502);
    expect(answer.body).toMatchObject({ statusCode: 502, replayed: 0 });
    expect(answer.body.message).toMatch(
      new RegExp(`stopped after 0 message\\(s\\): .*'${queue}\\.deleted' does not exist`),
    );
    expect(
      (await call<ParkedList>(base, 'GET', `/api/dead-letters/${queue}.dlq`)).body.messages.map((m) => m.messageId),
    ).toEqual(['orphan']);
  });
});

describe('the dead-letters API with the broker down', () => {
  let app: INestApplication;
  let base: string;

  beforeAll(async () => {
    ({ app, base } = await startConsole({
      AMQP_URL: `amqp://guest:secret@127.0.0.1:${await freePort()}`,
      AMQP_MANAGEMENT_URL: `http://guest:secret@127.0.0.1:${await freePort()}`,
    }));
  });
  afterAll(() => app?.close());

  it('answers 503 saying the broker cannot be reached, without its password', async () => {
    for (const [method, path, body] of [
      ['GET', '/api/dead-letters', undefined],
      ['GET', '/api/dead-letters/payments.commands.dlq', undefined],
      ['POST', '/api/dead-letters/payments.commands.dlq/replay', {}],
      ['POST', '/api/dead-letters/payments.commands.dlq/purge', { all: true }],
    ] as const) {
      const answer = await call<{ message: string }>(base, method, path, body);
      expect([path, answer.status]).toEqual([path, 503]);
      expect(answer.body.message).toMatch(/cannot (connect to|be reached)/);
      expect(answer.body.message).toMatch(/ECONNREFUSED/);
      expect(answer.body.message).not.toContain('secret');
    }
  });
});
