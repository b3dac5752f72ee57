// `npm run demo` as a process: it supervises its children (one that dies is started again, the rest keeps
// running), offers a loopback control API with the admin token, and points the services' OpenTelemetry SDK at
// the console's OTLP receiver unless told otherwise (the env each process runs with is read from /proc). Free ports, a data dir of its own, and the
// suite's Redis; Ctrl-C (SIGINT) at the end stops everything it started.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Client } from 'pg';
import { startDemo, type RunningDemo } from '../testing/demo';
import { OtlpReceiver } from '../testing/otlp-receiver';
import { freePort } from '../testing/ports';
import { spawnBroker, type SpawnedBroker } from '../testing/spawn-broker';
import { eventually } from '../testing/eventually';
import { takeSseEvents } from '../testing/sse';

jest.setTimeout(180_000);

interface Proc {
  name: string;
  pid: number | null;
  state: string;
  restarts: number;
  removable: boolean;
  url?: string;
}

const SERVICES = ['orders', 'payments', 'inventory', 'notifications', 'analytics'];

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('npm run demo: supervision and the control API', () => {
  let demo: RunningDemo;
  let control = '';
  let token = '';
  const ports: Record<string, number> = {};

  const api = async (
    method: string,
    route: string,
    body?: unknown,
    auth = true,
  ): Promise<{ status: number; body: any }> => {
    const res = await fetch(`${control}${route}`, {
      method,
      headers: {
        ...(auth ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  };
  const processes = async (): Promise<Proc[]> => (await api('GET', '/processes')).body;
  const proc = async (name: string): Promise<Proc | undefined> => (await processes()).find((p) => p.name === name);
  const healthy = (url: string) =>
    fetch(`${url}/health`).then(
      (r) => r.status === 200,
      () => false,
    );

  beforeAll(async () => {
    demo = await startDemo();
    Object.assign(ports, demo.ports);
    control = demo.url('DEMO_CONTROL_PORT');
    token = demo.token;
  });

  afterAll(async () => {
    await demo?.stop();
  });

  it('lists every process it supervises, to the admin token only', async () => {
    expect((await api('GET', '/processes', undefined, false)).status).toBe(401);
    const names = (await processes()).map((p) => p.name).sort();
    expect(names).toEqual([
      'analytics',
      'broker',
      'console',
      'inventory',
      'notifications',
      'orders',
      'payments',
      'smtp-capture',
    ]);
    for (const p of await processes())
      expect(p).toMatchObject({ state: 'running', restarts: 0, pid: expect.any(Number) });
  });

  it('runs the console, reading every source: the broker, the services, the emails and its own control API', async () => {
    const url = `http://127.0.0.1:${ports.CONSOLE_PORT}`;
    expect((await fetch(`${url}/`)).headers.get('content-type')).toMatch(/^text\/html/);
    const stream = await fetch(`${url}/api/stream`, { headers: { accept: 'text/event-stream' } });
    const reader = stream.body!.getReader();
    const seen = new Map<string, string>();
    const decoder = new TextDecoder();
    let buffer = '';
    while (seen.size < 9) {
      const { value, done } = await reader.read();
      if (done) break;
      const { events, rest } = takeSseEvents(buffer + decoder.decode(value, { stream: true }));
      buffer = rest;
      for (const e of events) seen.set(e.type, (JSON.parse(e.data) as { status: string }).status);
    }
    await reader.cancel();
    expect(Object.fromEntries(seen)).toEqual({
      topology: 'ok',
      orders: 'ok',
      stock: 'ok',
      payments: 'ok',
      emails: 'ok',
      stats: 'ok',
      processes: 'ok',
      scenario: 'ok',
      traces: 'ok',
    });
  });

  it("gives every service the OTEL_* settings that send its spans to the console's OTLP receiver, and no other process", async () => {
    const endpoint = `http://127.0.0.1:${ports.CONSOLE_PORT}/v1/traces`;
    const otel = (pid: number) =>
      Object.fromEntries(Object.entries(demo.environOf(pid)).filter(([k]) => k.startsWith('OTEL_')));
    for (const p of await processes()) {
      if (SERVICES.includes(p.name)) {
        expect([p.name, otel(p.pid!)]).toEqual([
          p.name,
          {
            OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: endpoint,
            OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
            OTEL_BSP_SCHEDULE_DELAY: '1000',
            OTEL_SERVICE_NAME: p.name,
          },
        ]);
      } else {
        expect([p.name, otel(p.pid!)]).toEqual([p.name, {}]);
      }
    }
    expect(demo.output()).toMatch(
      new RegExp(
        `traces\\s+http://localhost:${ports.CONSOLE_PORT}/v1/traces\\s+the services' spans \\(OTLP/HTTP JSON\\)`,
      ),
    );
    // the receiver is there, and reads JSON only
    const refused = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: new Uint8Array([1]),
    });
    expect(refused.status).toBe(415);
  });

  it('shows an order placed in the demo as one trace in the console, with spans from every service that handled it', async () => {
    const placed = await fetch(`http://127.0.0.1:${ports.ORDERS_PORT}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ customerEmail: 'traced@example.com', items: [{ sku: 'SKU-001', quantity: 1 }] }),
    });
    expect(placed.status).toBe(201);
    const { id } = (await placed.json()) as { id: string };
    const expected = ['inventory', 'notifications', 'orders', 'payments'];
    const trace = await eventually(
      'the order trace from four services in the console',
      async () => {
        const { traces } = (await (
          await fetch(`http://127.0.0.1:${ports.CONSOLE_PORT}/api/traces?orderId=${id}`)
        ).json()) as {
          traces: Array<{
            traceId: string;
            services: string[];
            spans: Array<{ parentSpanId?: string; service: string; name: string }>;
          }>;
        };
        return traces.length === 1 &&
          expected.every((s) => traces[0].services.includes(s)) &&
          traces[0].spans.some((s) => s.name === 'smtp send')
          ? traces[0]
          : undefined;
      },
      60_000,
      250,
    );
    // one root, the POST that placed it
    expect(trace.spans.filter((s) => !s.parentSpanId).map((s) => [s.service, s.name])).toEqual([
      ['orders', expect.stringMatching(/^POST/)],
    ]);
  });

  it('starts a service again when it is killed from outside, and keeps the rest running', async () => {
    const before = (await proc('inventory'))!;
    const others = (await processes()).filter((p) => p.name !== 'inventory');
    process.kill(before.pid!, 'SIGKILL');
    const after = await eventually('inventory to be restarted', async () => {
      const p = await proc('inventory');
      return p && p.pid !== before.pid && p.state === 'running' ? p : undefined;
    });
    expect(after.restarts).toBe(1);
    expect(demo.environOf(after.pid!).OTEL_SERVICE_NAME).toBe('inventory'); // a restart keeps its settings
    await eventually('inventory to be healthy again', async () => ((await healthy(after.url!)) ? true : undefined));
    for (const o of others) expect(alive(o.pid!)).toBe(true);
    expect(demo.output()).toMatch(/demo: inventory exited \(SIGKILL\); restarting/);
  });

  it('kills (SIGKILL) a service on request, and the supervisor brings it back', async () => {
    const before = (await proc('payments'))!;
    expect(await api('POST', '/processes/payments/signal', { signal: 'SIGKILL' })).toEqual({
      status: 202,
      body: { name: 'payments', signal: 'SIGKILL' },
    });
    const after = await eventually('payments to be back', async () => {
      const p = await proc('payments');
      return p && p.pid !== before.pid && p.state === 'running' && (await healthy(p.url!)) ? p : undefined;
    });
    expect(alive(before.pid!)).toBe(false);
    expect(after.restarts).toBe(before.restarts + 1);
  });

  it('adds a second payments instance (competing consumers) and removes it', async () => {
    const added = await api('POST', '/instances', { service: 'payments' });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ name: 'payments-2', url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) });
    expect(await healthy(added.body.url)).toBe(true);
    const pid = (await proc('payments-2'))!.pid!;
    expect(await api('DELETE', '/instances/payments-2')).toEqual({ status: 200, body: { removed: 'payments-2' } });
    expect(await proc('payments-2')).toBeUndefined();
    expect(alive(pid)).toBe(false);
  });

  it('restarts the broker on request, keeping its data, and the services reconnect', async () => {
    const before = (await proc('broker'))!;
    const res = await api('POST', '/processes/broker/restart');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ name: 'broker', state: 'running' });
    expect(res.body.pid).not.toBe(before.pid);
    const orders = (await proc('orders'))!;
    await eventually('orders to reconnect', async () => ((await healthy(orders.url!)) ? true : undefined), 30_000, 200);
  });

  it('refuses bad requests with a status and a reason, changing nothing', async () => {
    const pids = (await processes()).map((p) => p.pid);
    expect(await api('POST', '/processes/nope/signal', { signal: 'SIGKILL' })).toEqual({
      status: 404,
      body: { error: 'no process named "nope"; GET /processes lists them' },
    });
    expect(await api('POST', '/processes/payments/signal', { signal: 'SIGHUP' })).toEqual({
      status: 400,
      body: { error: 'signal must be one of SIGKILL, SIGTERM, SIGSTOP, SIGCONT, got "SIGHUP"' },
    });
    expect(await api('POST', '/processes/payments/signal', 'not json')).toEqual({
      status: 400,
      body: { error: 'the body must be a JSON object' },
    });
    expect(await api('POST', '/instances', { service: 'billing' })).toEqual({
      status: 400,
      body: { error: 'service must be one of inventory, payments, orders, notifications, analytics, got "billing"' },
    });
    expect((await api('DELETE', '/instances/orders')).status).toBe(409);
    expect((await api('GET', '/processes/payments/signal')).status).toBe(405);
    expect((await api('GET', '/nothing-here')).status).toBe(404);
    expect((await processes()).map((p) => p.pid)).toEqual(pids);
  });

  it('stops everything it started on Ctrl-C (SIGINT), a browser still on the live stream included', async () => {
    const pids = (await processes()).map((p) => p.pid!);
    const open = await fetch(`http://127.0.0.1:${ports.CONSOLE_PORT}/api/stream`); // a tab left open
    expect(open.status).toBe(200);
    const sent = Date.now();
    const exited = new Promise((r) => demo.process.once('exit', r));
    demo.process.kill('SIGINT');
    const code = await exited;
    expect(code).toBe(0);
    // every child stopped on its SIGTERM, the console with the open stream included: none needed the supervisor's
    // SIGKILL (it says so when it sends one). How long it took depends on the machine: printed, not asserted.
    expect(demo.output()).not.toMatch(/did not stop within \d+ s of SIGTERM/);
    console.log(`demo stopped in ${Date.now() - sent} ms after SIGINT`);
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });
});

// Scaled out: `--instances 2` with DATABASE_URL (one Postgres database per service, shared by its instances) and
// AMQP_URL as a list whose first node does not answer (the services take the next one); the user's own OTEL_*
// settings, which win over the demo's.
describe("npm run demo -- --instances 2, on Postgres, with a broker list and the user's OTEL_* settings", () => {
  const server = process.env.DATABASE_URL;
  if (!server)
    throw new Error(
      'DATABASE_URL is not set: this suite needs a Postgres server to create databases on (.ci/run starts one)',
    );
  const prefix = `warren_demo_${randomBytes(3).toString('hex')}`;
  let demo: RunningDemo;
  let broker: SpawnedBroker;
  let token = '';
  let collector: OtlpReceiver;

  const control = async (route: string) =>
    (await fetch(`${demo.url('DEMO_CONTROL_PORT')}${route}`, { headers: { authorization: `Bearer ${token}` } })).json();

  beforeAll(async () => {
    const entry = path.join(__dirname, '../../tmp/demo-test/broker.js');
    execFileSync(
      process.execPath,
      [path.join(__dirname, '../scripts/bundle.mjs'), 'apps/broker/src/main.ts', 'tmp/demo-test/broker.js'],
      { cwd: path.join(__dirname, '../..') },
    );
    broker = await spawnBroker({ entry });
    const nobody = await freePort();
    const databaseUrl = new URL(server);
    databaseUrl.pathname = `/${prefix}`;
    collector = await OtlpReceiver.start();
    demo = await startDemo({
      args: ['--instances', '2'],
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${collector.port}`,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      },
      databaseUrl: databaseUrl.toString(),
      broker: {
        amqpUrl: `amqp://guest:guest@127.0.0.1:${nobody},${broker.url}`,
        managementUrl: `http://guest:guest@127.0.0.1:${nobody}`,
      },
    });
    token = demo.token;
  });

  afterAll(async () => {
    await demo?.stop();
    await broker?.stop();
    await collector?.close();
    const client = new Client({ connectionString: server });
    await client.connect();
    try {
      for (const service of ['orders', 'payments', 'inventory', 'notifications'])
        await client.query(`DROP DATABASE IF EXISTS ${prefix}_${service} WITH (FORCE)`);
    } finally {
      await client.end();
    }
  });

  it('runs two instances of every service, and says where their data is', async () => {
    const names = ((await control('/processes')) as Proc[])
      .filter((p) => p.state === 'running')
      .map((p) => p.name)
      .sort();
    expect(names).toEqual([
      'analytics',
      'analytics-2',
      'console',
      'inventory',
      'inventory-2',
      'notifications',
      'notifications-2',
      'orders',
      'orders-2',
      'payments',
      'payments-2',
      'smtp-capture',
    ]);
    expect(demo.output()).toMatch(
      new RegExp(
        `database\\s+postgres://postgres:\\*\\*\\*@[^ ]+\\s+Postgres: one database per service, shared by its instances \\(${prefix}_orders, ${prefix}_payments, ${prefix}_inventory, ${prefix}_notifications\\)`,
      ),
    );
    expect(demo.output()).toMatch(
      /broker\s+amqp:\/\/guest:\*\*\*@127\.0\.0\.1:\d+,amqp:\/\/guest:\*\*\*@127\.0\.0\.1:\d+\s+your broker \(2 nodes\)/,
    );
    expect(demo.output()).toMatch(/Instances: 2 of every service/);
  });

  it("passes the user's OTEL_* settings to every instance as they are, adding only each service's name", async () => {
    for (const p of ((await control('/processes')) as Proc[]).filter((p) => p.state === 'running')) {
      const otel = Object.fromEntries(Object.entries(demo.environOf(p.pid!)).filter(([k]) => k.startsWith('OTEL_')));
      const user = {
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${collector.port}`,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      };
      const service = p.name.replace(/-\d+$/, '');
      expect([p.name, otel]).toEqual([
        p.name,
        SERVICES.includes(service) ? { ...user, OTEL_SERVICE_NAME: service } : user,
      ]);
    }
    expect(demo.output()).toMatch(
      /traces\s+your OTEL_\* settings\s+the services export as you set \(OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL\)/,
    );
  });

  it('serves one order from either instance: they share the database', async () => {
    const procs = (await control('/processes')) as Proc[];
    const url = (name: string) => procs.find((p) => p.name === name)!.url!;
    const placed = await fetch(`${url('orders-2')}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ customerEmail: 'scale@example.com', items: [{ sku: 'SKU-001', quantity: 1 }] }),
    });
    expect(placed.status).toBe(201);
    const { id } = (await placed.json()) as { id: string };
    const order = await eventually('the order to be confirmed, read through the other instance', async () => {
      const o = (await (await fetch(`${url('orders')}/orders/${id}`)).json()) as { status: string };
      return o.status === 'CONFIRMED' ? o : undefined;
    });
    expect(order).toMatchObject({ id, status: 'CONFIRMED' });
    for (const payments of ['payments', 'payments-2']) {
      expect(await (await fetch(`${url(payments)}/payments?orderId=${id}`)).json()).toEqual([
        expect.objectContaining({ kind: 'capture', orderId: id }),
      ]);
    }
    // the spans went where the user said, not to the console
    const services = await eventually(
      "the order's spans at the user's collector",
      () => {
        const names = new Set(
          collector
            .spans()
            .filter(
              (s) => s.attributes['warren.order.id'] === id || s.attributes['messaging.message.conversation_id'] === id,
            )
            .map((s) => s.service),
        );
        return names.has('orders') && names.has('payments') ? names : undefined;
      },
      30_000,
      250,
    );
    expect(services.has('orders')).toBe(true);
    expect(await (await fetch(`${demo.url('CONSOLE_PORT')}/api/traces?orderId=${id}`)).json()).toEqual({
      orderId: id,
      traces: [],
    });
  });
});

// --no-tracing: no OTEL_* variable reaches a service, not even the user's, so none starts the SDK.
describe('npm run demo -- --no-tracing', () => {
  let demo: RunningDemo;

  beforeAll(async () => {
    demo = await startDemo({
      args: ['--no-tracing'],
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SERVICE_NAME: 'everything' },
    });
  });
  afterAll(async () => {
    await demo?.stop();
  });

  it('starts the services without any OTEL_* variable, and says tracing is off', async () => {
    const procs = (await (
      await fetch(`${demo.url('DEMO_CONTROL_PORT')}/processes`, { headers: { authorization: `Bearer ${demo.token}` } })
    ).json()) as Proc[];
    const services = procs.filter((p) => SERVICES.includes(p.name));
    expect(services).toHaveLength(5);
    for (const p of services)
      expect([p.name, Object.keys(demo.environOf(p.pid!)).filter((k) => k.startsWith('OTEL_'))]).toEqual([p.name, []]);
    expect(demo.output()).toMatch(/traces\s+off\s+--no-tracing: the services export no spans/);
  });
});

describe('npm run demo: bad arguments', () => {
  it.each([
    [['--instances', '0'], "demo: --instances must be a whole number from 1 to 8, got '0'"],
    [['--instances', 'two'], "demo: --instances must be a whole number from 1 to 8, got 'two'"],
    [['--nodes', '3'], "demo: Unknown option '--nodes'"],
    [['--no-tracing=yes'], "demo: Option '--no-tracing' does not take an argument"],
  ])('%j: exits 2 with a line saying why', (args, line) => {
    const r = spawnSync(process.execPath, [path.join(__dirname, '../scripts/demo.mjs'), ...args], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH },
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(line);
  });
});
