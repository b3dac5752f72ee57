// Policies side by side: set over the management API on the bundled broker and (RABBITMQ_MANAGEMENT_URL) on
// RabbitMQ, applied to queues that exist and to new ones, resolved by priority and against queue arguments as
// RabbitMQ resolves them. RabbitMQ applies a policy asynchronously: its side polls until the effect shows.
import * as amqp from 'amqplib';
import { randomBytes } from 'node:crypto';
import { RunningBroker, startBroker } from '../../src/testing';

const RABBIT_API = process.env.RABBITMQ_MANAGEMENT_URL;
const RABBIT_AMQP = process.env.RABBITMQ_URL;

interface Target {
  api: string;
  amqp: string;
}

async function call(
  t: Target,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  const url = new URL(t.api);
  const response = await fetch(`${url.origin}/api/${path}`, {
    method,
    headers: {
      authorization: `Basic ${Buffer.from(`${url.username}:${url.password}`).toString('base64')}`,
      'content-type': 'application/json',
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  let value = await read();
  for (let i = 0; i < 200 && !done(value); i++) {
    await new Promise((r) => setTimeout(r, 50));
    value = await read();
  }
  return value;
}

let bundled: RunningBroker;
const targets: Target[] = [];

beforeAll(async () => {
  bundled = await startBroker({ managementPort: 0 });
  targets.push({ api: `http://guest:guest@127.0.0.1:${bundled.broker.managementPort}`, amqp: bundled.url });
  if (RABBIT_API && RABBIT_AMQP) targets.push({ api: RABBIT_API, amqp: RABBIT_AMQP });
});
afterAll(() => bundled.close());

async function sameOnBoth<T>(scenario: (t: Target) => Promise<T>): Promise<T> {
  const outcomes: T[] = [];
  for (const t of targets) outcomes.push(await scenario(t));
  for (const outcome of outcomes.slice(1)) expect(outcome).toEqual(outcomes[0]);
  return outcomes[0];
}

jest.setTimeout(30_000);

describe('policies', () => {
  it('trims an existing queue to a policy max-length, limits new ones, yields to a lower argument, and lifts when cleared', async () => {
    const id = randomBytes(4).toString('hex');
    const outcome = await sameOnBoth(async (t) => {
      const conn = await amqp.connect(t.amqp);
      const ch = await conn.createConfirmChannel();
      const [a, b, c] = ['a', 'b', 'c'].map((x) => `pol-${id}-${x}`);
      await ch.assertQueue(a, { durable: false });
      for (let i = 0; i < 5; i++) ch.sendToQueue(a, Buffer.from(`${i}`));
      await ch.waitForConfirms();
      const put = (
        await call(t, 'PUT', `policies/%2F/pol-${id}`, {
          pattern: `^pol-${id}-`,
          definition: { 'max-length': 2 },
          'apply-to': 'queues',
          priority: 1,
        })
      ).status;
      const depth = async (q: string) => (await ch.checkQueue(q)).messageCount;
      const trimmed = await until(
        () => depth(a),
        (n) => n === 2,
      );
      await ch.assertQueue(b, { durable: false });
      await ch.assertQueue(c, { durable: false, arguments: { 'x-max-length': 1 } });
      await until(
        async () => (await call(t, 'GET', `queues/%2F/${b}`)).body as { policy?: string },
        (q) => q.policy === `pol-${id}`,
      );
      for (let i = 0; i < 4; i++) {
        ch.sendToQueue(b, Buffer.from(`${i}`));
        ch.sendToQueue(c, Buffer.from(`${i}`));
      }
      await ch.waitForConfirms();
      const limited = { b: await depth(b), c: await depth(c) };
      const shown = (await call(t, 'GET', `queues/%2F/${b}`)).body as Record<string, unknown>;
      const listed = ((await call(t, 'GET', 'policies/%2F')).body as { name: string }[]).filter(
        (p) => p.name === `pol-${id}`,
      );
      const cleared = (await call(t, 'DELETE', `policies/%2F/pol-${id}`)).status;
      await until(
        async () => (await call(t, 'GET', `queues/%2F/${b}`)).body as { policy?: string | null },
        (q) => !q.policy,
      );
      for (let i = 0; i < 3; i++) ch.sendToQueue(b, Buffer.from(`${i}`));
      await ch.waitForConfirms();
      const lifted = await depth(b);
      for (const q of [a, b, c]) await ch.deleteQueue(q);
      await conn.close();
      return {
        put,
        trimmed,
        limited,
        policy: shown.policy,
        effective: shown.effective_policy_definition,
        listed,
        cleared,
        lifted,
      };
    });
    expect(outcome).toMatchObject({ put: 201, trimmed: 2, limited: { b: 2, c: 1 }, cleared: 204, lifted: 5 });
  });

  it('gives quorum queues a delivery limit and a dead-letter exchange, and its overflow over their own', async () => {
    const id = randomBytes(4).toString('hex');
    const outcome = await sameOnBoth(async (t) => {
      const conn = await amqp.connect(t.amqp);
      const ch = await conn.createConfirmChannel();
      const [limited, full, dlq] = ['limited', 'full', 'dlq'].map((x) => `qpol-${id}-${x}`);
      await ch.assertQueue(dlq, { durable: true });
      const policy = { pattern: `^qpol-${id}-(limited|full)$`, 'apply-to': 'queues', priority: 1 };
      const definition = {
        'delivery-limit': 1,
        'dead-letter-exchange': '',
        'dead-letter-routing-key': dlq,
        overflow: 'reject-publish',
      };
      const put = (await call(t, 'PUT', `policies/%2F/qpol-${id}`, { ...policy, definition })).status;
      await ch.assertQueue(limited, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
      await ch.assertQueue(full, {
        durable: true,
        arguments: { 'x-queue-type': 'quorum', 'x-max-length': 1, 'x-overflow': 'drop-head' },
      });
      for (const q of [limited, full])
        await until(
          async () => (await call(t, 'GET', `queues/%2F/${q}`)).body as { policy?: string },
          (q) => q.policy === `qpol-${id}`,
        );
      ch.sendToQueue(limited, Buffer.from('m'));
      await ch.waitForConfirms();
      const deliveries: unknown[] = [];
      for (let i = 0; i < 3; i++) {
        const m = await ch.get(limited, { noAck: false });
        deliveries.push(m && m.properties.headers?.['x-delivery-count']);
        if (m) ch.nack(m, false, true);
        await ch.checkQueue(limited);
      }
      const dead = await until(
        () => ch.get(dlq, { noAck: true }),
        (m) => m !== false,
      );
      const confirms: boolean[] = [];
      for (const body of ['a', 'b', 'c'])
        confirms.push(
          await new Promise<boolean>((resolve) => ch.sendToQueue(full, Buffer.from(body), {}, (err) => resolve(!err))),
        );
      for (const q of [limited, full, dlq]) await ch.deleteQueue(q);
      await conn.close();
      await call(t, 'DELETE', `policies/%2F/qpol-${id}`);
      return {
        put,
        deliveries,
        deadReason: dead && (dead.properties.headers?.['x-death'] as { reason: string }[])[0].reason,
        confirms,
      };
    });
    expect(outcome).toEqual({
      put: 201,
      deliveries: [0, 1, false],
      deadReason: 'delivery_limit',
      confirms: [true, true, false],
    });
  });

  it('applies the policy with the highest priority alone', async () => {
    const id = randomBytes(4).toString('hex');
    await sameOnBoth(async (t) => {
      const low = await call(t, 'PUT', `policies/%2F/low-${id}`, {
        pattern: `^prio-${id}`,
        definition: { 'max-length': 1 },
        'apply-to': 'queues',
        priority: 1,
      });
      const high = await call(t, 'PUT', `policies/%2F/high-${id}`, {
        pattern: `^prio-${id}`,
        definition: { 'message-ttl': 60000 },
        'apply-to': 'queues',
        priority: 5,
      });
      const conn = await amqp.connect(t.amqp);
      const ch = await conn.createChannel();
      const q = `prio-${id}`;
      await ch.assertQueue(q, { durable: false });
      const shown = await until(
        async () => (await call(t, 'GET', `queues/%2F/${q}`)).body as Record<string, unknown>,
        (b) => b.policy === `high-${id}`,
      );
      await ch.deleteQueue(q);
      await conn.close();
      await call(t, 'DELETE', `policies/%2F/low-${id}`);
      await call(t, 'DELETE', `policies/%2F/high-${id}`);
      return { low: low.status, high: high.status, policy: shown.policy, effective: shown.effective_policy_definition };
    });
  });

  it('refuses an invalid policy with 400', async () => {
    await sameOnBoth(async (t) => ({
      noPattern: (await call(t, 'PUT', 'policies/%2F/bad', { definition: { 'max-length': 1 } })).status,
      badValue: (await call(t, 'PUT', 'policies/%2F/bad', { pattern: '.*', definition: { 'max-length': 'many' } }))
        .status,
      notThere: (await call(t, 'DELETE', 'policies/%2F/no-such-policy')).status,
    }));
  });

  it('exports policies with the definitions and applies them on import, before the queues they govern', async () => {
    const t = targets[0];
    const doc = {
      vhosts: [{ name: '/' }],
      policies: [
        {
          vhost: '/',
          name: 'imported',
          pattern: '^imported-',
          'apply-to': 'queues',
          definition: { 'max-length': 3 },
          priority: 0,
        },
      ],
      queues: [{ name: 'imported-q', vhost: '/', durable: false, auto_delete: false, arguments: {} }],
    };
    expect((await call(t, 'POST', 'definitions', doc)).status).toBe(204);
    expect((await call(t, 'GET', 'queues/%2F/imported-q')).body).toMatchObject({
      policy: 'imported',
      effective_policy_definition: { 'max-length': 3 },
    });
    const exported = (await call(t, 'GET', 'definitions')).body as { policies: unknown[] };
    expect(exported.policies).toEqual([
      {
        vhost: '/',
        name: 'imported',
        pattern: '^imported-',
        'apply-to': 'queues',
        definition: { 'max-length': 3 },
        priority: 0,
      },
    ]);
    await call(t, 'DELETE', 'policies/%2F/imported');
    await call(t, 'DELETE', 'queues/%2F/imported-q');
  });
});
