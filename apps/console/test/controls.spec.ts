// The "Break it" controls through the console's API, against the real parts: a payments process, the SMTP
// capture, the bundled broker (and RabbitMQ when RABBITMQ_URL / RABBITMQ_MANAGEMENT_URL are set), the demo's
// supervisor and control API with a harmless child. Bad input, a deployment without a control (409) and an
// upstream that does not answer (502) each have their case.
import 'reflect-metadata';
import { connect, type ChannelModel } from 'amqplib';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import nodemailer from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';
import {
  CLOSE_REASON,
  PROCESS_CONTROL_UNAVAILABLE,
  SMTP_UNAVAILABLE,
  type ControlsStatus,
  type DemoProcess,
  type GatewayReply,
} from '../src/contracts/controls';
import { eventually } from '../../../tools/testing/eventually';
import { startBroker, type LiveBroker } from './support/broker';
import { closedUrl, startConsole as startTestConsole, type TestConsole } from './support/console';
import { bundleEntry } from '../../../tools/testing/bundle';

const ROOT = path.resolve(__dirname, '../../..');
const TOKEN = `controls-${randomBytes(6).toString('hex')}`;

/**
 * A Warren app from its bundle (tools/scripts/bundle.mjs, as the demo runs it) with its output kept for a
 * failure message; ready once `ready` matches its output.
 */
async function startApp(
  app: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  ready: RegExp,
): Promise<{ output(): string; stop(): Promise<void> }> {
  const entry = path.join(ROOT, 'tmp', 'console-controls', `${app}.js`);
  await bundleEntry(`apps/${app}/src/main.ts`, entry);
  const child = spawn(process.execPath, ['--enable-source-maps', entry, ...args], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out = (out + d).slice(-20_000)));
  child.stderr!.on('data', (d) => (out = (out + d).slice(-20_000)));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  };
  try {
    await eventually(
      `${app} to start`,
      () => {
        if (child.exitCode !== null) throw new Error(`${app} exited: ${out}`);
        return ready.test(out) ? true : undefined;
      },
      60_000,
      50,
    );
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n--- ${app} output ---\n${out}`);
  }
  return { output: () => out, stop };
}

/** The console's server with the admin token over closed-port settings (support/console). */
const startConsole = (env: NodeJS.ProcessEnv): Promise<TestConsole> => startTestConsole({ ADMIN_TOKEN: TOKEN, ...env });

interface Reply<T = any> {
  status: number;
  body: T;
}

async function call<T = any>(c: TestConsole, method: string, route: string, body?: unknown): Promise<Reply<T>> {
  const res = await fetch(`${c.base}${route}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** The paths of a 400's problems (ZodBodyPipe's `issues`). */
const problems = (reply: Reply) =>
  (reply.body.issues as Array<{ path: string; message: string }>).map((i) => `${i.path}: ${i.message}`);

describe('controls: bad input is refused with every problem listed, before anything is called', () => {
  let c: TestConsole;
  beforeAll(async () => {
    c = await startConsole({ DEMO_CONTROL_URL: await closedUrl() });
  });
  afterAll(() => c.close());

  it('gateway: rates outside 0..1, a latency that is not whole, unknown fields, an empty change', async () => {
    const bad = await call(c, 'PUT', '/api/controls/gateway', { failureRate: 1.5, declineRate: -0.1, latencyMs: 2.5 });
    expect(bad.status).toBe(400);
    expect(problems(bad)).toEqual([
      'failureRate: failureRate must be from 0 to 1',
      'declineRate: declineRate must be from 0 to 1',
      'latencyMs: latencyMs must be a whole number of milliseconds',
    ]);
    const typed = await call(c, 'PUT', '/api/controls/gateway', { failureRate: '0.5' });
    expect(problems(typed)).toEqual(['failureRate: failureRate must be a number from 0 to 1']);
    expect((await call(c, 'PUT', '/api/controls/gateway', { failureRate: 0.5, speed: 3 })).status).toBe(400);
    expect(problems(await call(c, 'PUT', '/api/controls/gateway', {}))).toEqual([
      '(body): give at least one of failureRate, declineRate, latencyMs',
    ]);
  });

  it('smtp: a count that is not 1..1000, a code that is not an SMTP error, no body', async () => {
    expect(problems(await call(c, 'POST', '/api/controls/smtp', { count: 0, code: 250 }))).toEqual([
      'count: count must be a whole number from 1 to 1000 (DELETE clears)',
      'code: code must be an SMTP error code from 400 to 599',
    ]);
    expect(problems(await call(c, 'POST', '/api/controls/smtp', { count: 'two' }))).toEqual([
      'count: count must be a whole number from 1 to 1000',
    ]);
    const none = await call(c, 'POST', '/api/controls/smtp');
    expect(none.status).toBe(400);
    expect(problems(none)).toEqual(['(body): the body must be a JSON object like { "count": 2, "code": 421 }']);
  });

  it('processes: an unknown signal, a name that is no process name, a missing service', async () => {
    expect(problems(await call(c, 'POST', '/api/controls/processes/payments/signal', { signal: 'SIGHUP' }))).toEqual([
      'signal: signal must be one of SIGKILL, SIGTERM, SIGSTOP, SIGCONT',
    ]);
    expect(problems(await call(c, 'POST', '/api/controls/processes/payments/signal', {}))).toEqual([
      'signal: signal must be one of SIGKILL, SIGTERM, SIGSTOP, SIGCONT',
    ]);
    const name = await call(c, 'POST', `/api/controls/processes/${encodeURIComponent('../etc')}/restart`);
    expect(name.status).toBe(400);
    expect(problems(name)).toEqual(['name: a process name may hold only letters, digits and . _ -']);
    expect(problems(await call(c, 'POST', '/api/controls/instances', {}))).toEqual([
      'service: service is required, e.g. "payments"',
    ]);
    expect(problems(await call(c, 'POST', '/api/controls/instances', { service: 'Pay Ments' }))).toEqual([
      'service: service is a service name, e.g. "payments"',
    ]);
    expect((await call(c, 'DELETE', `/api/controls/instances/${encodeURIComponent('a b')}`)).status).toBe(400);
  });

  it('connections: a name longer than AMQP allows', async () => {
    expect(problems(await call(c, 'DELETE', `/api/controls/connections/${'x'.repeat(256)}`))).toEqual([
      'name: a connection name has at most 255 characters',
    ]);
  });
});

describe('controls: a deployment without them (compose: no control API; a real Mailpit) answers 409 with the reason', () => {
  let c: TestConsole;
  let mailpit: Server;
  beforeAll(async () => {
    // Mailpit's router answers 404 for a route it does not have; this stands in for it
    mailpit = createHttpServer((_req, res) =>
      res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found\n'),
    );
    await new Promise<void>((r) => mailpit.listen(0, '127.0.0.1', r));
    c = await startConsole({ MAIL_URL: `http://127.0.0.1:${(mailpit.address() as { port: number }).port}` });
  });
  afterAll(async () => {
    await c.close();
    await new Promise((r) => mailpit.close(r));
  });

  it('process control: every route', async () => {
    for (const [method, route, body] of [
      ['POST', '/api/controls/processes/payments/signal', { signal: 'SIGKILL' }],
      ['POST', '/api/controls/processes/broker/restart', undefined],
      ['POST', '/api/controls/instances', { service: 'payments' }],
      ['DELETE', '/api/controls/instances/payments-2', undefined],
    ] as const) {
      expect([route, await call(c, method, route, body)]).toEqual([
        route,
        { status: 409, body: { statusCode: 409, error: 'Conflict', message: PROCESS_CONTROL_UNAVAILABLE } },
      ]);
    }
  });

  it('smtp: fail and clear', async () => {
    for (const [method, body] of [
      ['POST', { count: 1 }],
      ['DELETE', undefined],
    ] as const) {
      const reply = await call(c, method, '/api/controls/smtp', body);
      expect(reply.status).toBe(409);
      expect(reply.body.message).toMatch(new RegExp(`^${SMTP_UNAVAILABLE} \\(http://127\\.0\\.0\\.1:\\d+ answers 404`));
    }
  });

  it('GET /api/controls says so, with the reasons', async () => {
    const status = await call<ControlsStatus>(c, 'GET', '/api/controls');
    expect(status.status).toBe(200);
    expect(status.body.processes).toEqual({ state: 'unavailable', reason: PROCESS_CONTROL_UNAVAILABLE });
    expect(status.body.smtp).toMatchObject({ state: 'unavailable', reason: expect.stringContaining(SMTP_UNAVAILABLE) });
  });

  it('the gateway without an admin token', async () => {
    const noToken = await startConsole({ ADMIN_TOKEN: '' });
    try {
      expect(await call(noToken, 'PUT', '/api/controls/gateway', { declineRate: 1 })).toMatchObject({
        status: 409,
        body: { message: expect.stringMatching(/no ADMIN_TOKEN/) },
      });
      expect((await call<ControlsStatus>(noToken, 'GET', '/api/controls')).body.gateway).toMatchObject({
        state: 'unavailable',
        reason: expect.stringMatching(/no ADMIN_TOKEN/),
      });
    } finally {
      await noToken.close();
    }
  });
});

describe('controls: an upstream that does not answer is a 502 naming it, and GET /api/controls still answers', () => {
  let c: TestConsole;
  beforeAll(async () => {
    c = await startConsole({ DEMO_CONTROL_URL: await closedUrl() });
  });
  afterAll(() => c.close());

  it.each([
    [
      'PUT',
      '/api/controls/gateway',
      { declineRate: 0.5 },
      /^payments: PUT http:\/\/127\.0\.0\.1:\d+\/admin\/gateway failed \(ECONNREFUSED\)$/,
    ],
    ['GET', '/api/controls/gateway', undefined, /^payments: GET .* failed \(ECONNREFUSED\)$/],
    [
      'POST',
      '/api/controls/smtp',
      { count: 1 },
      /^the SMTP capture \(MAIL_URL\): POST http:\/\/127\.0\.0\.1:\d+\/api\/warren\/fail-next failed \(ECONNREFUSED\)$/,
    ],
    [
      'DELETE',
      '/api/controls/connections/some-connection',
      undefined,
      /^the broker management API: DELETE .*\/api\/connections\/some-connection failed \(ECONNREFUSED\)$/,
    ],
    [
      'POST',
      '/api/controls/processes/payments/signal',
      { signal: 'SIGKILL' },
      /^the demo's control API: POST .*\/processes\/payments\/signal failed \(ECONNREFUSED\)$/,
    ],
    ['POST', '/api/controls/instances', { service: 'payments' }, /^the demo's control API: POST .*\/instances failed/],
  ])('%s %s', async (method, route, body, message) => {
    const reply = await call(c, method, route, body);
    expect(reply.status).toBe(502);
    expect(reply.body).toMatchObject({ error: 'Bad Gateway', message: expect.stringMatching(message) });
  });

  it('GET /api/controls: every control unreachable, with the reason', async () => {
    const { status, body } = await call<ControlsStatus>(c, 'GET', '/api/controls');
    expect(status).toBe(200);
    expect(body.gateway).toEqual({
      state: 'unreachable',
      reason: expect.stringMatching(/^payments: GET .* failed \(ECONNREFUSED\)$/),
    });
    expect(body.smtp).toEqual({ state: 'unreachable', reason: expect.stringMatching(/^the SMTP capture/) });
    expect(body.connections).toEqual({
      state: 'unreachable',
      reason: expect.stringMatching(/^the broker management API/),
    });
    expect(body.processes).toEqual({ state: 'unreachable', reason: expect.stringMatching(/^the demo's control API/) });
  });
});

describe('controls: closing a service broker connection', () => {
  jest.setTimeout(60_000);
  let bundled: LiveBroker;
  const brokers: Array<{ name: string; amqpUrl: string; managementUrl: string }> = [];
  beforeAll(async () => {
    bundled = await startBroker();
    brokers.push({ name: 'bundled', amqpUrl: bundled.amqpUrl, managementUrl: bundled.managementUrl });
    if (process.env.RABBITMQ_URL && process.env.RABBITMQ_MANAGEMENT_URL)
      brokers.push({
        name: 'rabbitmq',
        amqpUrl: process.env.RABBITMQ_URL,
        managementUrl: process.env.RABBITMQ_MANAGEMENT_URL,
      });
  });
  afterAll(() => bundled?.stop());

  it('lists it by service and closes it with 320 CONNECTION_FORCED and the console reason, on every broker', async () => {
    for (const broker of brokers) {
      const c = await startConsole({ AMQP_MANAGEMENT_URL: broker.managementUrl });
      const service = `controls-test-${randomBytes(4).toString('hex')}`;
      let conn: ChannelModel | undefined;
      try {
        conn = await connect(broker.amqpUrl, { clientProperties: { connection_name: service } });
        conn.on('error', () => undefined);
        const closed = new Promise<{ code?: number; message: string }>((resolve) =>
          conn!.once('close', (err: { code?: number; message: string }) => resolve(err)),
        );
        // RabbitMQ refreshes its connection list every 5 s
        const listed = await eventually(
          `${broker.name}: the connection in GET /api/controls`,
          async () =>
            (await call<ControlsStatus>(c, 'GET', '/api/controls')).body.connections.connections?.find(
              (x) => x.service === service,
            ),
          20_000,
          200,
        );
        expect(listed).toMatchObject({ service, user: 'guest', vhost: '/' });

        const reply = await call(c, 'DELETE', `/api/controls/connections/${encodeURIComponent(listed.name)}`);
        expect([broker.name, reply]).toEqual([
          broker.name,
          { status: 200, body: { closed: listed.name, reason: CLOSE_REASON } },
        ]);
        const error = await closed;
        expect([broker.name, error.code, error.message]).toEqual([
          broker.name,
          320,
          expect.stringContaining(`"CONNECTION_FORCED - ${CLOSE_REASON}"`),
        ]);
        conn = undefined;

        // RabbitMQ answers 204 for a closed connection until its statistics drop it (up to 5 s)
        const again = await eventually(
          `${broker.name}: 404 for the closed connection`,
          async () => {
            const reply = await call(c, 'DELETE', `/api/controls/connections/${encodeURIComponent(listed.name)}`);
            return reply.status === 404 ? reply : undefined;
          },
          20_000,
          250,
        );
        expect(again.body.message).toBe(
          `the broker has no connection named ${JSON.stringify(listed.name)} (closed already?)`,
        );
      } finally {
        await conn?.close().catch(() => undefined);
        await c.close();
      }
    }
  });
});

describe('controls: SMTP outage against the real SMTP capture', () => {
  jest.setTimeout(60_000);
  let capture: Awaited<ReturnType<typeof startApp>>;
  let smtpPort: number;
  let mailUrl: string;
  let c: TestConsole;
  beforeAll(async () => {
    capture = await startApp(
      'smtp-capture',
      ['--host', '127.0.0.1', '--smtp-port', '0', '--http-port', '0'],
      { ...process.env, NO_COLOR: '1' },
      /http listening on/,
    );
    smtpPort = Number(/smtp listening on smtp:\/\/[^:]+:(\d+)/.exec(capture.output())?.[1]);
    mailUrl = /http listening on (http:\/\/\S+)/.exec(capture.output())![1].replace(/\/+$/, '');
    c = await startConsole({ MAIL_URL: mailUrl });
  });
  afterAll(async () => {
    await c?.close();
    await capture?.stop();
  });

  it('fails the next send with 421 (or the given code), then the one after goes through; Clear cancels the plan', async () => {
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: smtpPort,
      secure: false,
      ignoreTLS: true,
    } as SMTPTransport.Options);
    const send = (subject: string) =>
      transport.sendMail({ from: 'shop@warren.test', to: 'ada@example.com', subject, text: subject });
    try {
      expect((await call<ControlsStatus>(c, 'GET', '/api/controls')).body.smtp).toEqual({
        state: 'available',
        failNext: { remaining: 0, code: 421 },
      });
      expect(await call(c, 'POST', '/api/controls/smtp', { count: 1 })).toEqual({
        status: 200,
        body: { remaining: 1, code: 421 },
      });
      await expect(send('refused')).rejects.toMatchObject({ responseCode: 421 });
      await send('accepted');

      expect(await call(c, 'POST', '/api/controls/smtp', { count: 2, code: 550 })).toEqual({
        status: 200,
        body: { remaining: 2, code: 550 },
      });
      await expect(send('refused for good')).rejects.toMatchObject({ responseCode: 550 });
      expect(await call(c, 'DELETE', '/api/controls/smtp')).toEqual({ status: 200, body: { remaining: 0, code: 421 } });
      await send('accepted again');
      const messages = (await (await fetch(`${mailUrl}/api/v1/messages`)).json()) as {
        messages: Array<{ Subject: string }>;
      };
      expect(messages.messages.map((m) => m.Subject).sort()).toEqual(['accepted', 'accepted again']);
    } finally {
      transport.close();
    }
  });
});

/**
 * The demo's supervisor and control API (tools/scripts/lib), as `npm run demo` runs them, in a process of their
 * own (they are ES modules) with harmless children: `sleeper`, and `payments` / `payments-2` entries whose URLs
 * point at a real payments process and at a closed port.
 */
function startDemoControl(env: Record<string, string>): Promise<{ url: string; stop(): Promise<void> }> {
  const lib = (file: string) => pathToFileURL(path.join(ROOT, 'tools/scripts/lib', file)).href;
  const script = `
    import { Supervisor } from ${JSON.stringify(lib('supervisor.mjs'))};
    import { startControlApi } from ${JSON.stringify(lib('demo-control.mjs'))};
    const supervisor = new Supervisor({ logDir: process.env.LOG_DIR, log: (line) => console.error(line) });
    const idle = { command: process.execPath, args: ['-e', 'setInterval(() => {}, 1 << 30)'], env: {} };
    await supervisor.start({ name: 'sleeper', ...idle });
    await supervisor.start({ name: 'payments', ...idle, url: process.env.PAYMENTS_AT });
    await supervisor.start({ name: 'payments-2', ...idle, url: process.env.PAYMENTS_2_AT, removable: true });
    const addInstance = async (service) => {
      let n = 2;
      while (supervisor.get(service + '-' + n)) n++;
      const name = service + '-' + n;
      await supervisor.start({ name, ...idle, removable: true });
      return { name, url: 'http://127.0.0.1:9' };
    };
    const server = await startControlApi({ supervisor, token: process.env.TOKEN, port: 0, scalable: ['sleeper'], addInstance });
    console.log('control API on ' + server.address().port);
    process.on('SIGTERM', async () => { server.close(); await supervisor.stopAll(); process.exit(0); });
  `;
  const child: ChildProcess = spawn(process.execPath, ['--input-type=module', '-e', script], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return eventually('the control API to listen', () => {
    if (child.exitCode !== null) throw new Error(`the control API exited: ${out}`);
    const port = /control API on (\d+)/.exec(out)?.[1];
    return port
      ? {
          url: `http://127.0.0.1:${port}`,
          stop: async () => {
            const exited = new Promise((r) => child.once('exit', r));
            child.kill('SIGTERM');
            await exited;
          },
        }
      : undefined;
  });
}

/** The state letter of /proc/<pid>/stat: T while stopped (SIGSTOP). */
const procState = (pid: number) => /^\d+ \(.*\) (\S)/.exec(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.[1];

describe('controls: the payments gateway on a real payments process, and the demo processes through the real control API', () => {
  jest.setTimeout(120_000);
  let payments: Awaited<ReturnType<typeof startApp>> & { url: string };
  let demo: { url: string; stop(): Promise<void> };
  let c: TestConsole;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'warren-console-controls-'));
    const broker = process.env.WARREN_TEST_BROKER_URL;
    if (!broker) throw new Error('WARREN_TEST_BROKER_URL is not set: run through jest -c apps/console/jest.config.js');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ADMIN_TOKEN: TOKEN,
      AMQP_URL: broker,
      WARREN_NAMESPACE: `controls-${randomBytes(4).toString('hex')}`,
      WARREN_DATA_DIR: dir,
      NO_COLOR: '1',
    };
    delete env.DATABASE_URL;
    delete env.DATABASE_SCHEMA;
    const app = await startApp(
      'payments',
      [],
      { ...env, PORT: '0', HOST: '127.0.0.1', LOG_FORMAT: 'json' },
      /payments listening on http/,
    );
    payments = { ...app, url: /payments listening on (http:\/\/[^\s"]+)/.exec(app.output())![1].replace(/\/+$/, '') };
    demo = await startDemoControl({ LOG_DIR: dir, TOKEN, PAYMENTS_AT: payments.url, PAYMENTS_2_AT: await closedUrl() });
    c = await startConsole({ PAYMENTS_URL: payments.url, DEMO_CONTROL_URL: demo.url });
  }, 120_000);
  afterAll(async () => {
    await c?.close();
    await demo?.stop();
    await payments?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const processes = async () =>
    (await (
      await fetch(`${demo.url}/processes`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).json()) as DemoProcess[];
  const proc = async (name: string) => (await processes()).find((p) => p.name === name);

  it('applies the gateway settings to every payments instance the control API lists, naming the one that did not answer', async () => {
    const reply = await call<GatewayReply>(c, 'PUT', '/api/controls/gateway', {
      declineRate: 1,
      failureRate: 0.25,
      latencyMs: 5,
    });
    expect(reply.status).toBe(200);
    expect(reply.body.instances).toEqual([
      { name: 'payments', url: payments.url, settings: { declineRate: 1, failureRate: 0.25, latencyMs: 5 } },
      {
        name: 'payments-2',
        url: expect.any(String),
        error: expect.stringMatching(/^payments: PUT .* failed \(ECONNREFUSED\)$/),
      },
    ]);
    // the payments service's own admin route tells the same
    const own = await fetch(`${payments.url}/admin/gateway`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(await own.json()).toEqual({ declineRate: 1, failureRate: 0.25, latencyMs: 5 });
    // a change of one setting keeps the others
    expect(
      (await call<GatewayReply>(c, 'PUT', '/api/controls/gateway', { latencyMs: 0 })).body.instances[0].settings,
    ).toEqual({ declineRate: 1, failureRate: 0.25, latencyMs: 0 });
    expect((await call<GatewayReply>(c, 'GET', '/api/controls/gateway')).body.instances[0].settings).toEqual({
      declineRate: 1,
      failureRate: 0.25,
      latencyMs: 0,
    });
    expect((await call<ControlsStatus>(c, 'GET', '/api/controls')).body.gateway).toMatchObject({
      state: 'available',
      instances: [{ name: 'payments', settings: { declineRate: 1 } }, { name: 'payments-2' }],
    });
    await call(c, 'PUT', '/api/controls/gateway', { declineRate: 0, failureRate: 0 });
  });

  it('a wrong admin token is a 502 naming payments, not a 401 to the browser', async () => {
    const wrong = await startConsole({ PAYMENTS_URL: payments.url, ADMIN_TOKEN: 'not-the-token' });
    try {
      const reply = await call(wrong, 'PUT', '/api/controls/gateway', { declineRate: 0.5 });
      expect(reply).toMatchObject({
        status: 502,
        body: { message: expect.stringMatching(/^payments: PUT .* answered 401: the admin token is wrong$/) },
      });
    } finally {
      await wrong.close();
    }
  });

  it('SIGSTOP pauses a process until SIGCONT, and GET /api/controls tells which are paused', async () => {
    const { pid } = (await proc('sleeper'))!;
    expect(await call(c, 'POST', '/api/controls/processes/sleeper/signal', { signal: 'SIGSTOP' })).toEqual({
      status: 202,
      body: { name: 'sleeper', signal: 'SIGSTOP' },
    });
    await eventually('sleeper to stop', () => (procState(pid!) === 'T' ? true : undefined));
    expect((await call<ControlsStatus>(c, 'GET', '/api/controls')).body.processes).toEqual({
      state: 'available',
      paused: ['sleeper'],
    });
    expect((await call(c, 'POST', '/api/controls/processes/sleeper/signal', { signal: 'SIGCONT' })).status).toBe(202);
    await eventually('sleeper to go on', () => (procState(pid!) !== 'T' ? true : undefined));
    expect((await call<ControlsStatus>(c, 'GET', '/api/controls')).body.processes).toEqual({
      state: 'available',
      paused: [],
    });
  });

  it('kill -9 ends a process and the supervisor starts it again; restart answers with the new process', async () => {
    const before = (await proc('sleeper'))!;
    expect((await call(c, 'POST', '/api/controls/processes/sleeper/signal', { signal: 'SIGKILL' })).status).toBe(202);
    const after = await eventually('sleeper to be back', async () => {
      const p = await proc('sleeper');
      return p && p.pid !== before.pid && p.state === 'running' ? p : undefined;
    });
    expect(after.restarts).toBe(before.restarts + 1);
    const restarted = await call<DemoProcess>(c, 'POST', '/api/controls/processes/sleeper/restart');
    expect(restarted).toMatchObject({
      status: 200,
      body: { name: 'sleeper', state: 'running', restarts: before.restarts + 2 },
    });
    expect(restarted.body.pid).not.toBe(after.pid);
  });

  it('adds an instance and removes it; the demo own processes cannot be removed; its refusals pass through', async () => {
    const added = await call(c, 'POST', '/api/controls/instances', { service: 'sleeper' });
    expect(added).toEqual({ status: 201, body: { name: 'sleeper-2', url: 'http://127.0.0.1:9' } });
    expect(await proc('sleeper-2')).toMatchObject({ state: 'running', removable: true });
    expect(await call(c, 'DELETE', '/api/controls/instances/sleeper-2')).toEqual({
      status: 200,
      body: { removed: 'sleeper-2' },
    });
    expect(await proc('sleeper-2')).toBeUndefined();

    const own = await call(c, 'DELETE', '/api/controls/instances/sleeper');
    expect(own).toMatchObject({
      status: 409,
      body: {
        message: expect.stringMatching(
          /^the demo's control API: DELETE .* answered 409: sleeper is one of the demo's own processes/,
        ),
      },
    });
    expect(await call(c, 'POST', '/api/controls/instances', { service: 'billing' })).toMatchObject({
      status: 400,
      body: { message: expect.stringContaining('service must be one of sleeper, got "billing"') },
    });
    expect(await call(c, 'POST', '/api/controls/processes/nope/signal', { signal: 'SIGKILL' })).toMatchObject({
      status: 404,
      body: { message: expect.stringContaining('no process named "nope"') },
    });
  });
});
