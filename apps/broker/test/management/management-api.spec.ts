// The management HTTP API, side by side: every call is made against the bundled broker and, when
// RABBITMQ_MANAGEMENT_URL is set (CI enables rabbitmq_management), against RabbitMQ's management plugin, and
// the status codes, field names and field types must match (values too, where they are deterministic).
import * as amqp from 'amqplib';
import { randomBytes } from 'node:crypto';
import { AccessControl } from '../../src/access/access-control';
import { RunningBroker, startBroker } from '../../src/testing';

const RABBIT_API = process.env.RABBITMQ_MANAGEMENT_URL; // e.g. http://guest:guest@127.0.0.1:15672
const RABBIT_AMQP = process.env.RABBITMQ_URL;

interface Target {
  name: 'bundled' | 'rabbitmq';
  api: string;
  amqp: string;
}

interface Reply {
  status: number;
  body: unknown;
}

async function call(
  target: Target,
  method: string,
  path: string,
  options: { auth?: string | null; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const url = new URL(target.api);
  const auth =
    options.auth === undefined
      ? `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`
      : options.auth;
  const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers };
  if (auth !== null) headers.authorization = `Basic ${Buffer.from(auth).toString('base64')}`;
  const response = await fetch(`${url.origin}/api/${path}`, {
    method,
    headers,
    body: options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

/** The JSON type of every field, recursively (arrays by their first element). */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.length ? [shape(value[0])] : [];
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shape(v)]));
  return value === null ? 'null' : typeof value;
}

/** Only the named fields of an object (RabbitMQ's objects carry many statistics we do not keep). */
function pick(value: unknown, fields: string[]): Record<string, unknown> {
  const object = value as Record<string, unknown>;
  return Object.fromEntries(fields.filter((f) => f in object).map((f) => [f, object[f]]));
}

const targets: Target[] = [];
let bundled: RunningBroker;

beforeAll(async () => {
  bundled = await startBroker({ managementPort: 0, access: AccessControl.withDefaults() });
  targets.push({
    name: 'bundled',
    api: `http://guest:guest@127.0.0.1:${bundled.broker.managementPort}`,
    amqp: bundled.url,
  });
  if (RABBIT_API && RABBIT_AMQP) targets.push({ name: 'rabbitmq', api: RABBIT_API, amqp: RABBIT_AMQP });
});
afterAll(() => bundled.close());

/** Runs `scenario` against every target and expects the same outcome from each. */
async function sameOnBoth<T>(scenario: (target: Target) => Promise<T>): Promise<T> {
  const outcomes = [];
  for (const target of targets) outcomes.push(await scenario(target));
  for (const outcome of outcomes.slice(1)) expect(outcome).toEqual(outcomes[0]);
  return outcomes[0];
}

describe('management API', () => {
  // RabbitMQ's management statistics are refreshed every 5 s; its side of some tests waits for them
  jest.setTimeout(30_000);

  it('refuses a request without credentials or with wrong ones with 401 and the realm', async () => {
    await sameOnBoth(async (t) => ({
      none: await call(t, 'GET', 'overview', { auth: null }),
      wrong: await call(t, 'GET', 'overview', { auth: 'guest:wrong' }),
      unknown: await call(t, 'GET', 'overview', { auth: 'nobody:guest' }),
    }));
  });

  it('answers whoami, overview and the health checks in RabbitMQ shapes', async () => {
    const outcome = await sameOnBoth(async (t) => {
      const whoami = await call(t, 'GET', 'whoami');
      const overview = await call(t, 'GET', 'overview');
      const o = overview.body as Record<string, unknown>;
      return {
        whoami,
        overview: {
          status: overview.status,
          shape: pick(shape(o), ['management_version', 'rabbitmq_version', 'product_name', 'cluster_name', 'node']),
          listener: shape(pick((o.listeners as unknown[])[0], ['node', 'protocol', 'ip_address', 'port'])),
          totals: Object.keys(o.object_totals as object).sort(),
        },
        alarms: await call(t, 'GET', 'health/checks/alarms'),
        localAlarms: await call(t, 'GET', 'health/checks/local-alarms'),
        virtualHosts: await call(t, 'GET', 'health/checks/virtual-hosts'),
        aliveness: await call(t, 'GET', 'aliveness-test/%2F'),
      };
    });
    expect(outcome.whoami).toEqual({ status: 200, body: { name: 'guest', tags: ['administrator'] } });
    expect(outcome.alarms).toEqual({ status: 200, body: { status: 'ok' } });
  });

  it('creates, lists and deletes vhosts, users and permissions with 201, 204 and 404', async () => {
    const id = randomBytes(4).toString('hex');
    const vhost = `mgmt-${id}`;
    const user = `mgmt-user-${id}`;
    await sameOnBoth(async (t) => {
      const steps: Record<string, unknown> = {};
      steps.putVhost = (await call(t, 'PUT', `vhosts/${vhost}`, { body: { description: 'made by the test' } })).status;
      steps.putVhostAgain = (await call(t, 'PUT', `vhosts/${vhost}`, { body: {} })).status;
      const v = await call(t, 'GET', `vhosts/${vhost}`);
      steps.getVhost = { status: v.status, ...pick(v.body, ['name', 'description', 'tracing']) };
      steps.putUser = (await call(t, 'PUT', `users/${user}`, { body: { password: 'pw', tags: 'monitoring' } })).status;
      steps.putUserAgain = (
        await call(t, 'PUT', `users/${user}`, { body: { password: 'pw2', tags: ['management'] } })
      ).status;
      const u = await call(t, 'GET', `users/${user}`);
      steps.getUser = {
        status: u.status,
        ...pick(u.body, ['name', 'tags', 'hashing_algorithm']),
        hash: typeof (u.body as { password_hash: unknown }).password_hash,
      };
      steps.putPermission = (
        await call(t, 'PUT', `permissions/${vhost}/${user}`, { body: { configure: '^x', write: '.*', read: '.*' } })
      ).status;
      steps.getPermission = await call(t, 'GET', `permissions/${vhost}/${user}`);
      steps.listedVhost = ((await call(t, 'GET', 'vhosts')).body as { name: string }[]).some((x) => x.name === vhost);
      // the new user logs in with the new password into the new vhost
      const conn = await amqp.connect(`${t.amqp.replace('guest:guest', `${user}:pw2`)}/${vhost}`);
      await conn.close();
      steps.whoamiAsUser = await call(t, 'GET', 'whoami', { auth: `${user}:pw2` });
      steps.usersAsNonAdmin = await call(t, 'GET', 'users', { auth: `${user}:pw2` });
      steps.alarmsAsManagementUser = await call(t, 'GET', 'health/checks/alarms', { auth: `${user}:pw2` });
      steps.queueWithoutConfigure = await call(t, 'PUT', `queues/${vhost}/y-${id}`, {
        auth: `${user}:pw2`,
        body: { durable: false },
      });
      steps.deletePermission = (await call(t, 'DELETE', `permissions/${vhost}/${user}`)).status;
      steps.deleteUser = (await call(t, 'DELETE', `users/${user}`)).status;
      steps.deleteUserAgain = await call(t, 'DELETE', `users/${user}`);
      steps.deleteVhost = (await call(t, 'DELETE', `vhosts/${vhost}`)).status;
      steps.getVhostGone = await call(t, 'GET', `vhosts/${vhost}`);
      return steps;
    });
  });

  it('lists queues, exchanges and bindings declared over AMQP, with their counts', async () => {
    const id = randomBytes(4).toString('hex');
    await sameOnBoth(async (t) => {
      const conn = await amqp.connect(t.amqp);
      const ch = await conn.createConfirmChannel();
      const q = `mgmt-q-${id}`;
      const x = `mgmt-x-${id}`;
      await ch.assertExchange(x, 'topic', { durable: false });
      await ch.assertQueue(q, { durable: false, arguments: { 'x-max-length': 10 } });
      await ch.bindQueue(q, x, 'a.*');
      ch.publish(x, 'a.b', Buffer.from('1'));
      ch.publish(x, 'a.c', Buffer.from('2'));
      await ch.waitForConfirms();
      const held = await ch.get(q); // one unacknowledged, one ready
      // RabbitMQ's statistics are sampled every few seconds: poll until the counts show
      let queue: Reply = { status: 0, body: {} };
      for (let i = 0; i < 400; i++) {
        queue = await call(t, 'GET', `queues/%2F/${q}`);
        const stats = queue.body as { messages_unacknowledged?: number; state?: string; consumers?: number };
        if (stats.messages_unacknowledged === 1 && stats.state !== undefined && stats.consumers !== undefined) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const exchange = await call(t, 'GET', `exchanges/%2F/${x}`);
      const bindings = (
        (await call(t, 'GET', 'bindings/%2F')).body as { source: string; destination: string }[]
      ).filter((b) => b.destination === q);
      const missing = await call(t, 'GET', `queues/%2F/nope-${id}`);
      const badVhost = await call(t, 'GET', 'queues/no-such-vhost');
      if (held) ch.ack(held);
      await ch.deleteQueue(q);
      await ch.deleteExchange(x);
      await conn.close();
      return {
        queue: {
          status: queue.status,
          ...pick(queue.body, [
            'name',
            'vhost',
            'durable',
            'auto_delete',
            'exclusive',
            'arguments',
            'messages',
            'messages_ready',
            'messages_unacknowledged',
            'consumers',
            'state',
            'type',
          ]),
        },
        exchange: {
          status: exchange.status,
          ...pick(exchange.body, ['name', 'vhost', 'type', 'durable', 'auto_delete', 'internal', 'arguments']),
        },
        bindings: bindings.map((b) =>
          pick(b, ['source', 'destination', 'destination_type', 'routing_key', 'arguments']),
        ),
        missing,
        badVhost,
      };
    });
  });

  it("reports a quorum queue's type, arguments and flags, and its one node as leader, members and online", async () => {
    const id = randomBytes(4).toString('hex');
    const outcome = await sameOnBoth(async (t) => {
      const conn = await amqp.connect(t.amqp);
      const ch = await conn.createChannel();
      const q = `mgmt-quorum-${id}`;
      await ch.assertQueue(q, {
        durable: true,
        arguments: { 'x-queue-type': 'quorum', 'x-delivery-limit': 3, 'x-quorum-initial-group-size': 3 },
      });
      const one = await call(t, 'GET', `queues/%2F/${q}`);
      const listed = ((await call(t, 'GET', 'queues/%2F')).body as { name: string }[]).find((x) => x.name === q);
      await ch.deleteQueue(q);
      await conn.close();
      const body = one.body as { leader: string; members: string[]; online: string[] };
      return {
        status: one.status,
        ...pick(one.body, ['name', 'vhost', 'durable', 'auto_delete', 'exclusive', 'arguments', 'type']),
        placement: shape(pick(one.body, ['leader', 'members', 'online'])),
        oneNode: body.members.length === 1 && body.members[0] === body.leader && body.online.join() === body.leader,
        listedType: (listed as { type?: string } | undefined)?.type,
      };
    });
    expect(outcome).toMatchObject({ status: 200, type: 'quorum', durable: true, listedType: 'quorum', oneNode: true });
  });

  it('counts the messages of a quorum queue waiting for at-least-once dead-lettering in messages_dlx', async () => {
    const id = randomBytes(4).toString('hex');
    const outcome = await sameOnBoth(async (t) => {
      const conn = await amqp.connect(t.amqp);
      const ch = await conn.createConfirmChannel();
      const q = `mgmt-quorum-dlx-${id}`;
      const args = {
        'x-queue-type': 'quorum',
        'x-dead-letter-exchange': `missing-${id}`,
        'x-dead-letter-strategy': 'at-least-once',
        'x-overflow': 'reject-publish',
      };
      await ch.assertQueue(q, { durable: true, arguments: args });
      for (const body of ['a', 'bb']) ch.sendToQueue(q, Buffer.from(body));
      await ch.waitForConfirms();
      for (let i = 0; i < 2; i++) {
        const m = await ch.get(q, { noAck: false });
        if (m) ch.reject(m, false);
      }
      await ch.checkQueue(q);
      // RabbitMQ's statistics are sampled every few seconds: poll until the count shows
      let body: Record<string, unknown> = {};
      for (let i = 0; i < 400 && body.messages_dlx !== 2; i++) {
        body = (await call(t, 'GET', `queues/%2F/${q}`)).body as Record<string, unknown>;
        if (body.messages_dlx !== 2) await new Promise((r) => setTimeout(r, 50));
      }
      await ch.deleteQueue(q);
      await conn.close();
      return pick(body, ['messages_dlx', 'message_bytes_dlx']);
    });
    expect(outcome).toMatchObject({ messages_dlx: 2, message_bytes_dlx: 3 });
  });

  it('gets messages from a quorum queue as basic.get hands them out: x-delivery-count, each requeue counted', async () => {
    const id = randomBytes(4).toString('hex');
    const outcome = await sameOnBoth(async (t) => {
      const conn = await amqp.connect(t.amqp);
      const ch = await conn.createConfirmChannel();
      const q = `mgmt-quorum-get-${id}`;
      await ch.assertQueue(q, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
      ch.sendToQueue(q, Buffer.from('m'), { headers: { app: 1 } });
      await ch.waitForConfirms();
      const gets = [];
      for (const ackmode of ['reject_requeue_true', 'ack_requeue_true', 'ack_requeue_false']) {
        const reply = await call(t, 'POST', `queues/%2F/${q}/get`, { body: { count: 1, ackmode, encoding: 'auto' } });
        const [m] = reply.body as {
          redelivered: boolean;
          payload: string;
          properties: { headers?: Record<string, unknown> };
        }[];
        gets.push({
          status: reply.status,
          payload: m?.payload,
          redelivered: m?.redelivered,
          headers: m?.properties.headers,
        });
      }
      await ch.deleteQueue(q);
      await conn.close();
      return gets;
    });
    expect(outcome).toEqual([
      { status: 200, payload: 'm', redelivered: false, headers: { app: 1, 'x-delivery-count': 0 } },
      { status: 200, payload: 'm', redelivered: true, headers: { app: 1, 'x-delivery-count': 1 } },
      { status: 200, payload: 'm', redelivered: true, headers: { app: 1, 'x-delivery-count': 2 } },
    ]);
  });

  it('counts publish, deliver_get, ack and redeliver in message_stats, with rates', async () => {
    const id = randomBytes(4).toString('hex');
    await sameOnBoth(async (t) => {
      const conn = await amqp.connect(t.amqp);
      const ch = await conn.createConfirmChannel();
      const q = `mgmt-stats-${id}`;
      await ch.assertQueue(q, { durable: false });
      for (let i = 0; i < 3; i++) ch.sendToQueue(q, Buffer.from(`${i}`));
      await ch.waitForConfirms();
      const first = await ch.get(q);
      if (first) ch.nack(first, false, true); // requeued: its next delivery is a redelivery
      for (let i = 0; i < 3; i++) {
        const m = await ch.get(q);
        if (m) ch.ack(m);
      }
      await ch.checkQueue(q); // a round trip: the acks are in
      // RabbitMQ emits a queue's publish and delivery statistics in separate events, a few seconds apart: wait for
      // every count to be in before comparing
      let stats: Record<string, unknown> = {};
      const complete = () => stats.publish === 3 && stats.deliver_get === 4 && stats.ack === 3 && stats.redeliver === 1;
      for (let i = 0; i < 400 && !complete(); i++) {
        stats =
          ((await call(t, 'GET', `queues/%2F/${q}`)).body as { message_stats?: Record<string, unknown> })
            .message_stats ?? {};
        if (!complete()) await new Promise((r) => setTimeout(r, 50));
      }
      await ch.deleteQueue(q);
      await conn.close();
      return {
        counts: pick(stats, ['publish', 'deliver_get', 'ack', 'redeliver']),
        rates: shape(pick(stats, ['publish_details', 'deliver_get_details', 'ack_details', 'redeliver_details'])),
      };
    });
  });

  it('answers nodes and the port-listener check', async () => {
    await sameOnBoth(async (t) => {
      const nodes = (await call(t, 'GET', 'nodes')).body as Record<string, unknown>[];
      const amqpPort = Number(new URL(t.amqp).port);
      const listening = await call(t, 'GET', `health/checks/port-listener/${amqpPort}`);
      const missing = await call(t, 'GET', 'health/checks/port-listener/1');
      return {
        nodes: nodes.length,
        node: shape(
          pick(nodes[0], [
            'name',
            'type',
            'running',
            'mem_used',
            'mem_alarm',
            'disk_free_alarm',
            'fd_used',
            'fd_total',
            'uptime',
          ]),
        ),
        listening: { status: listening.status, body: { ...(listening.body as object), port: 'p' } },
        missing: { status: missing.status, ...pick(missing.body, ['status', 'reason', 'missing']) },
      };
    });
  });

  it('lists, reads and deletes a binding by every form of its path', async () => {
    const id = randomBytes(4).toString('hex');
    await sameOnBoth(async (t) => {
      const q = `bind-q-${id}`;
      const x = `bind-x-${id}`;
      const y = `bind-y-${id}`;
      await call(t, 'PUT', `queues/%2F/${q}`, { body: { durable: false } });
      await call(t, 'PUT', `exchanges/%2F/${x}`, { body: { type: 'direct', durable: false } });
      await call(t, 'PUT', `exchanges/%2F/${y}`, { body: { type: 'fanout', durable: false } });
      const made = [
        (await call(t, 'POST', `bindings/%2F/e/${x}/q/${q}`, { body: { routing_key: 'k' } })).status,
        (await call(t, 'POST', `bindings/%2F/e/${x}/e/${y}`, { body: { routing_key: 'k2' } })).status,
      ];
      const strip = (list: unknown) =>
        (list as Record<string, unknown>[]).map((b) =>
          pick(b, ['source', 'destination', 'destination_type', 'routing_key', 'properties_key']),
        );
      const between = strip((await call(t, 'GET', `bindings/%2F/e/${x}/q/${q}`)).body);
      const one = await call(t, 'GET', `bindings/%2F/e/${x}/q/${q}/k`);
      const ofQueue = strip((await call(t, 'GET', `queues/%2F/${q}/bindings`)).body);
      const fromX = strip((await call(t, 'GET', `exchanges/%2F/${x}/bindings/source`)).body);
      const intoY = strip((await call(t, 'GET', `exchanges/%2F/${y}/bindings/destination`)).body);
      const deleted = (await call(t, 'DELETE', `bindings/%2F/e/${x}/q/${q}/k`)).status;
      const gone = (await call(t, 'GET', `bindings/%2F/e/${x}/q/${q}/k`)).status;
      await call(t, 'DELETE', `queues/%2F/${q}`);
      await call(t, 'DELETE', `exchanges/%2F/${x}`);
      await call(t, 'DELETE', `exchanges/%2F/${y}`);
      return {
        made,
        between,
        one: { status: one.status, ...pick(one.body, ['routing_key', 'properties_key']) },
        ofQueue,
        fromX,
        intoY,
        deleted,
        gone,
      };
    });
  });

  it('answers 405 for a method a resource does not have, 404 for no resource, 400 for a body that is not JSON', async () => {
    await sameOnBoth(async (t) => ({
      method: await call(t, 'POST', 'whoami'),
      nothing: await call(t, 'GET', 'no-such-thing'),
      badJson: await call(t, 'PUT', 'vhosts/mgmt-bad-json', { raw: '{not json' }),
    }));
  });
});

describe('management API: bad input on the bundled broker', () => {
  const target = () => targets[0];

  it('refuses an oversize body with 413 before reading it all, and serves on', async () => {
    const big = `{"description":"${'x'.repeat(21 * 1024 * 1024)}"}`;
    const reply = await call(target(), 'PUT', 'vhosts/mgmt-big', { raw: big }).catch((error: Error) => ({
      status: 0,
      body: error.message,
    }));
    expect([413, 0]).toContain(reply.status); // the server may close before the client finishes sending
    expect((await call(target(), 'GET', 'vhosts/mgmt-big')).status).toBe(404);
    expect((await call(target(), 'GET', 'whoami')).status).toBe(200);
  });

  it('answers 400 naming the problem for bad users and permissions, and changes nothing', async () => {
    expect(await call(target(), 'PUT', 'users/mgmt-bad', { body: { tags: 'management' } })).toEqual({
      status: 400,
      body: { error: 'bad_request', reason: 'password or password_hash must be set' },
    });
    expect((await call(target(), 'PUT', 'users/mgmt-bad', { body: { password: 'x', tags: 7 } })).body).toEqual({
      error: 'bad_request',
      reason: 'tags must be a string or a list of strings',
    });
    expect(
      (await call(target(), 'PUT', 'permissions/%2F/guest', { body: { configure: '(', write: '.*', read: '.*' } }))
        .body,
    ).toEqual({
      error: 'bad_request',
      reason: 'configure is not a valid regular expression',
    });
    expect(
      (
        await call(target(), 'PUT', 'permissions/no-such-vhost/guest', {
          body: { configure: '.*', write: '.*', read: '.*' },
        })
      ).status,
    ).toBe(400);
    expect((await call(target(), 'GET', 'users/mgmt-bad')).status).toBe(404);
  });

  // found by the HTTP fuzzer (e2e/http-fuzz.spec.ts): each of these answered 500, and the first left the vhost
  // unable to save, so that every later declare or delete in it answered 500 too
  it('refuses arguments AMQP cannot carry (a key past 255 bytes, nesting past 128 levels) with 400, and the vhost serves on', async () => {
    const longKey = { [`x-${'k'.repeat(300)}`]: 1 };
    const deep = '{"a":'.repeat(20_000) + '1' + '}'.repeat(20_000);
    expect(await call(target(), 'PUT', 'queues/%2F/mgmt-long-arg', { body: { arguments: longKey } })).toEqual({
      status: 400,
      body: {
        error: 'bad_request',
        reason: expect.stringMatching(/^arguments cannot be stored: shortstr of 302 bytes exceeds 255/),
      },
    });
    expect(
      await call(target(), 'PUT', 'exchanges/%2F/mgmt-long-arg', { body: { type: 'direct', arguments: longKey } }),
    ).toEqual({
      status: 400,
      body: { error: 'bad_request', reason: expect.stringMatching(/^arguments cannot be stored/) },
    });
    const tooDeep = {
      status: 400,
      body: { error: 'bad_request', reason: 'arguments nest deeper than 128 levels, the most AMQP carries' },
    };
    expect(
      await call(target(), 'PUT', 'queues/%2F/mgmt-deep-arg', { raw: `{"arguments":{"x-deep":${deep}}}` }),
    ).toEqual(tooDeep);
    // not so deep that building the table overflows, but deep enough that describing a bad x-max-length did
    expect(
      await call(target(), 'PUT', 'queues/%2F/mgmt-deep-arg', {
        raw: `{"arguments":{"x-max-length":${'['.repeat(3000)}${']'.repeat(3000)}}}`,
      }),
    ).toEqual(tooDeep);
    expect(
      (
        await call(target(), 'PUT', 'queues/%2F/mgmt-deep-arg', {
          raw: `{"arguments":{"x-note":${'['.repeat(127)}${']'.repeat(127)}}}`,
        })
      ).status,
    ).toBe(201);
    expect((await call(target(), 'DELETE', 'queues/%2F/mgmt-deep-arg')).status).toBe(204);
    expect(
      (
        await call(target(), 'POST', 'bindings/%2F/e/amq.direct/q/mgmt-long-arg', {
          body: { routing_key: 'k', arguments: longKey },
        })
      ).status,
    ).toBe(400);
    const definitions = {
      queues: [{ name: 'mgmt-def-long-arg', vhost: '/', durable: true, auto_delete: false, arguments: longKey }],
    };
    expect(await call(target(), 'POST', 'definitions/%2F', { body: definitions })).toEqual({
      status: 400,
      body: { error: 'bad_request', reason: expect.stringMatching(/^queues\[0\]\.arguments cannot be stored/) },
    });
    // nothing was declared, and the vhost still declares and deletes
    expect((await call(target(), 'GET', 'queues/%2F/mgmt-long-arg')).status).toBe(404);
    expect((await call(target(), 'GET', 'queues/%2F/mgmt-def-long-arg')).status).toBe(404);
    expect((await call(target(), 'PUT', 'queues/%2F/mgmt-after-bad-arg', { body: { durable: true } })).status).toBe(
      201,
    );
    expect((await call(target(), 'DELETE', 'queues/%2F/mgmt-after-bad-arg')).status).toBe(204);
  });

  it('refuses names and routing keys longer than AMQP carries (255 bytes) with 400', async () => {
    const long = 'n'.repeat(256);
    expect(await call(target(), 'PUT', `queues/%2F/${long}`, { body: {} })).toEqual({
      status: 400,
      body: { error: 'bad_request', reason: 'the queue name is 256 bytes long; AMQP allows at most 255' },
    });
    expect((await call(target(), 'PUT', `exchanges/%2F/${long}`, { body: { type: 'direct' } })).status).toBe(400);
    expect((await call(target(), 'PUT', 'exchanges/%2F/mgmt-long-type', { body: { type: long } })).status).toBe(400);
    expect((await call(target(), 'PUT', 'queues/%2F/mgmt-long-key', { body: {} })).status).toBe(201);
    expect(
      (await call(target(), 'POST', 'bindings/%2F/e/amq.direct/q/mgmt-long-key', { body: { routing_key: long } })).body,
    ).toEqual({ error: 'bad_request', reason: 'routing_key is 256 bytes long; AMQP allows at most 255' });
    expect(
      (
        await call(target(), 'POST', 'exchanges/%2F/amq.default/publish', {
          body: { routing_key: long, payload: 'x', properties: {} },
        })
      ).status,
    ).toBe(400);
    const deepHeaders = `{"routing_key":"mgmt-long-key","payload":"x","properties":{"headers":{"h":${'['.repeat(3000)}${']'.repeat(3000)}}}}`;
    expect(await call(target(), 'POST', 'exchanges/%2F/amq.default/publish', { raw: deepHeaders })).toEqual({
      status: 400,
      body: { error: 'bad_request', reason: 'properties: headers nest deeper than 128 levels, the most AMQP carries' },
    });
    expect((await call(target(), 'DELETE', 'queues/%2F/mgmt-long-key')).status).toBe(204);
  });

  it("refuses a policy definition key that is only Object's ('__proto__', 'constructor') with 400", async () => {
    for (const key of ['__proto__', 'constructor', 'toString']) {
      const reply = await call(target(), 'PUT', 'policies/%2F/mgmt-proto', {
        raw: `{"pattern":"^mgmt-proto","definition":{${JSON.stringify(key)}:{"polluted":true}},"priority":0,"apply-to":"queues"}`,
      });
      expect([key, reply.status, (reply.body as { reason: string }).reason]).toEqual([
        key,
        400,
        expect.stringContaining(`unrecognised key '${key}'`),
      ]);
    }
    expect((await call(target(), 'GET', 'policies/%2F/mgmt-proto')).status).toBe(404);
  });

  it('keeps users without a management tag out, and non-administrators away from users', async () => {
    bundled.broker.access.putUser('mgmt-plain', { password: 'pw' }, []);
    bundled.broker.access.putUser('mgmt-watcher', { password: 'pw' }, ['monitoring']);
    expect((await call(target(), 'GET', 'overview', { auth: 'mgmt-plain:pw' })).status).toBe(401);
    expect((await call(target(), 'GET', 'overview', { auth: 'mgmt-watcher:pw' })).status).toBe(200);
    expect((await call(target(), 'GET', 'users', { auth: 'mgmt-watcher:pw' })).status).toBe(401);
    expect((await call(target(), 'DELETE', 'users/guest', { auth: 'mgmt-watcher:pw' })).status).toBe(401);
    expect(bundled.broker.access.users.has('guest')).toBe(true);
  });

  it('closes the connections of a deleted vhost with 320', async () => {
    expect((await call(target(), 'PUT', 'vhosts/mgmt-doomed', { body: {} })).status).toBe(201);
    expect(
      (
        await call(target(), 'PUT', 'permissions/mgmt-doomed/guest', {
          body: { configure: '.*', write: '.*', read: '.*' },
        })
      ).status,
    ).toBe(201);
    const conn = await amqp.connect(`${bundled.url}/mgmt-doomed`);
    const closed = new Promise<Error>((resolve) => conn.once('close', resolve));
    expect((await call(target(), 'DELETE', 'vhosts/mgmt-doomed')).status).toBe(204);
    expect(String(await closed)).toContain("CONNECTION_FORCED - vhost 'mgmt-doomed' is deleted");
  });
});

describe('management API: definitions and connections', () => {
  // RabbitMQ's management statistics (connections, channels) are refreshed every 5 s
  jest.setTimeout(30_000);

  it('lists a connection with its channels and closes it with 320 from DELETE, as RabbitMQ', async () => {
    await sameOnBoth(async (t) => {
      const conn = await amqp.connect(t.amqp, { clientProperties: { connection_name: 'mgmt-test' } });
      const closed = new Promise<string>((resolve) => conn.once('close', (error) => resolve(String(error))));
      await conn.createChannel();
      const mine = async () =>
        ((await call(t, 'GET', 'connections')).body as Record<string, unknown>[]).find(
          (c) => (c.client_properties as Record<string, unknown>)?.connection_name === 'mgmt-test',
        );
      let found: Record<string, unknown> | undefined;
      for (let i = 0; i < 400 && !(found && found.channels === 1); i++) {
        found = await mine();
        if (!(found && found.channels === 1)) await new Promise((r) => setTimeout(r, 50));
      }
      const listed = {
        ...pick(found, ['user', 'vhost', 'protocol', 'channels', 'state']),
        shape: pick(shape(found), ['name', 'peer_host', 'peer_port', 'connected_at', 'ssl']),
      };
      const deleted = (await call(t, 'DELETE', `connections/${encodeURIComponent(String(found?.name))}`)).status;
      return { listed, deleted, closed: await closed };
    });
  });

  it('closes a connection with the X-Reason header as its reply text (an empty one too), 404 for an unknown one, as RabbitMQ', async () => {
    await sameOnBoth(async (t) => {
      const outcome: Record<string, unknown> = {};
      for (const [label, headers] of [
        ['reason', { 'X-Reason': 'closed from the Warren Console' }],
        ['empty', { 'X-Reason': '' }],
      ] as const) {
        const connectionName = `mgmt-reason-${label}-${randomBytes(3).toString('hex')}`;
        const conn = await amqp.connect(t.amqp, { clientProperties: { connection_name: connectionName } });
        const closed = new Promise<{ code: unknown; text: string }>((resolve) =>
          conn.once('close', (error: { code?: unknown }) => resolve({ code: error?.code, text: String(error) })),
        );
        let found: Record<string, unknown> | undefined;
        for (let i = 0; i < 400 && !found; i++) {
          found = ((await call(t, 'GET', 'connections')).body as Record<string, unknown>[]).find(
            (c) => (c.client_properties as Record<string, unknown>)?.connection_name === connectionName,
          );
          if (!found) await new Promise((r) => setTimeout(r, 50));
        }
        const deleted = await call(t, 'DELETE', `connections/${encodeURIComponent(String(found?.name))}`, { headers });
        outcome[label] = { status: deleted.status, body: deleted.body, closed: await closed };
      }
      const unknown = await call(t, 'DELETE', `connections/${encodeURIComponent('127.0.0.1:1 -> 127.0.0.1:2')}`, {
        headers: { 'X-Reason': 'nobody' },
      });
      outcome.unknown = { status: unknown.status, body: unknown.body };
      return outcome;
    });
  });

  it('exports definitions that import into the other broker, both ways', async () => {
    if (targets.length < 2) {
      // one broker: its own export imports back into it
      const exported = (await call(targets[0], 'GET', 'definitions')).body;
      expect((await call(targets[0], 'POST', 'definitions', { body: exported })).status).toBe(204);
      return;
    }
    const id = randomBytes(4).toString('hex');
    const [bundledTarget, rabbitTarget] = targets;
    for (const [from, to] of [
      [rabbitTarget, bundledTarget],
      [bundledTarget, rabbitTarget],
    ]) {
      const q = `defs-${from.name}-${id}`;
      const x = `defs-x-${from.name}-${id}`;
      const user = `defs-user-${from.name}-${id}`;
      expect(
        (await call(from, 'PUT', `queues/%2F/${q}`, { body: { durable: true, arguments: { 'x-max-length': 7 } } }))
          .status,
      ).toBe(201);
      expect((await call(from, 'PUT', `exchanges/%2F/${x}`, { body: { type: 'topic', durable: true } })).status).toBe(
        201,
      );
      expect((await call(from, 'POST', `bindings/%2F/e/${x}/q/${q}`, { body: { routing_key: 'a.#' } })).status).toBe(
        201,
      );
      expect(
        (await call(from, 'PUT', `users/${user}`, { body: { password: 'moved', tags: 'management' } })).status,
      ).toBe(201);
      const exported = (await call(from, 'GET', 'definitions')).body as Record<string, unknown>;
      const only = <T extends { name?: string; source?: string }>(items: T[]) =>
        items.filter((i) => (i.name ?? i.source ?? '').includes(id));
      const subset = {
        users: only(exported.users as { name: string }[]),
        vhosts: [{ name: '/' }],
        queues: only(exported.queues as { name: string }[]),
        exchanges: only(exported.exchanges as { name: string }[]),
        bindings: only(exported.bindings as { source: string }[]),
      };
      expect((await call(to, 'POST', 'definitions', { body: subset })).status).toBeLessThan(300);
      const queue = await call(to, 'GET', `queues/%2F/${q}`);
      expect(pick(queue.body, ['name', 'durable', 'arguments'])).toEqual({
        name: q,
        durable: true,
        arguments: { 'x-max-length': 7 },
      });
      const bindings = (
        (await call(to, 'GET', 'bindings/%2F')).body as { source: string; routing_key: string }[]
      ).filter((b) => b.source === x);
      expect(bindings.map((b) => b.routing_key)).toEqual(['a.#']);
      // the password hash moved with the user: it logs in with the same password on the other broker
      expect((await call(to, 'GET', 'whoami', { auth: `${user}:moved` })).body).toEqual({
        name: user,
        tags: ['management'],
      });
      for (const t of [from, to]) {
        await call(t, 'DELETE', `queues/%2F/${q}`);
        await call(t, 'DELETE', `exchanges/%2F/${x}`);
        await call(t, 'DELETE', `users/${user}`);
      }
    }
  });
});

describe('management API: changes kept across a restart', () => {
  it('keeps users, vhosts, permissions and policies made over the API in the data directory', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dataDir = mkdtempSync(join(tmpdir(), 'warren-access-'));
    let broker = await startBroker({ dataDir, managementPort: 0 });
    let t: Target = {
      name: 'bundled',
      api: `http://guest:guest@127.0.0.1:${broker.broker.managementPort}`,
      amqp: broker.url,
    };
    expect((await call(t, 'PUT', 'vhosts/kept', { body: { description: 'survives' } })).status).toBe(201);
    expect((await call(t, 'PUT', 'users/keeper', { body: { password: 'pw', tags: 'management' } })).status).toBe(201);
    expect(
      (await call(t, 'PUT', 'permissions/kept/keeper', { body: { configure: '.*', write: '.*', read: '.*' } })).status,
    ).toBe(201);
    expect(
      (await call(t, 'PUT', 'policies/kept/limit', { body: { pattern: '.*', definition: { 'max-length': 5 } } }))
        .status,
    ).toBe(201);
    const conn = await amqp.connect(`amqp://keeper:pw@127.0.0.1:${broker.port}/kept`);
    const ch = await conn.createChannel();
    await ch.assertQueue('kept-q', { durable: true });
    await conn.close();
    await broker.close();

    broker = await startBroker({ dataDir, managementPort: 0 });
    t = { name: 'bundled', api: `http://guest:guest@127.0.0.1:${broker.broker.managementPort}`, amqp: broker.url };
    expect((await call(t, 'GET', 'vhosts/kept')).body).toMatchObject({ name: 'kept', description: 'survives' });
    expect((await call(t, 'GET', 'whoami', { auth: 'keeper:pw' })).body).toEqual({
      name: 'keeper',
      tags: ['management'],
    });
    expect((await call(t, 'GET', 'queues/kept/kept-q')).body).toMatchObject({
      durable: true,
      policy: 'limit',
      effective_policy_definition: { 'max-length': 5 },
    });
    // a deleted vhost is gone for good: made again, it starts empty
    expect((await call(t, 'DELETE', 'vhosts/kept')).status).toBe(204);
    expect((await call(t, 'PUT', 'vhosts/kept', { body: {} })).status).toBe(201);
    expect((await call(t, 'GET', 'queues/kept')).body).toEqual([]);
    await broker.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
});
