// HTTP fuzzing of every endpoint (issue 17): the five services (one stack, real processes on the test broker),
// the SMTP capture, the console (its API and POST /v1/traces) and the bundled broker's management API get
// malformed and hostile requests derived from each route's valid request (support/http-fuzz.ts says which), and
// none may answer 5xx: the answer to hostile input is a 4xx, in JSON where the service answers JSON errors (the
// SMTP capture answers plain text, as Mailpit does; RabbitMQ's 401 without credentials and its 405 have no
// body). Requests Node's HTTP parser refuses before any app sees them (an unknown method, a raw non-ASCII byte
// in the path, a request line past the header limit) may get its bare 400/431. Afterwards every service is still
// healthy and still serves a valid request correctly: an order placed after the fuzzing is CONFIRMED, paid and
// emailed, a page view reaches the stats, the broker's management API declares, publishes and gets, and the
// console places an order.
//
// The route tables below are the list of what is fuzzed; a route added later without an entry fails the first
// test (the orders OpenAPI document's paths, the routes each Nest app logs at start and the management API's
// declared routes must equal the tables'). HTTP_FUZZ_SEED replays a run (a random seed otherwise): it is in the
// describe title. HTTP_FUZZ_LOG=<file> writes one line per request.
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../tools/testing/ports';
import {
  ADMIN_TOKEN,
  adminHeaders,
  brokers,
  eventually,
  http,
  ROOT,
  runtime,
  ServiceProcess,
  Stack,
  type BrokerTarget,
  type ProcessName,
  type ServiceName,
} from './support/stack';
import {
  fuzzRequests,
  mappedRoutes,
  methodRequests,
  pool,
  Prng,
  send,
  validRequest,
  type FuzzRequest,
  type Json,
  type RouteSpec,
} from './support/http-fuzz';
import { settled } from './support/orders';

const SEED = process.env.HTTP_FUZZ_SEED ?? randomBytes(4).toString('hex');
/** Requests in flight at once, per target. */
const CONCURRENCY = 6;
/** HTTP_FUZZ_LOG=<file>: one line per request (target, status, request, the answer's start), to see what each case got. */
const LOG = process.env.HTTP_FUZZ_LOG;

type TargetName = ServiceName | 'smtp-capture' | 'console' | 'management';

interface Target {
  name: TargetName;
  /** What an admin route's valid requests carry (the services' admin token, the broker's user). */
  auth?: Record<string, string>;
  /** Error statuses answered without a body by design (RabbitMQ's 401 without credentials, its 405). */
  emptyErrors?: number[];
  /** Whether its errors are JSON (Mailpit's API answers plain text, as Mailpit does). */
  jsonErrors: boolean;
  routes: RouteSpec[];
}

/** Filled in once the stack runs: an order that exists, for the routes that read one. */
const known = { orderId: '00000000-0000-4000-8000-000000000000' };

/** Every service's own routes: /health and /metrics (service-kit). */
const common: RouteSpec[] = [
  { method: 'GET', path: '/health' },
  { method: 'GET', path: '/metrics' },
];

/** The broker's management API as guest (administrator): every route needs a user, so every route is an admin route here. */
const GUEST = { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` };
const m = (method: string, path: string, extra: Partial<RouteSpec> = {}): RouteSpec => ({
  method,
  path: `/api/${path}`,
  admin: true,
  ...extra,
});
const VHOST = { vhost: '/' };
const QUEUE = { vhost: '/', name: 'fuzz-q' };
const EXCHANGE = { vhost: '/', name: 'fuzz-x' };
const BINDING_Q = { vhost: '/', source: 'amq.direct', destination: 'fuzz-q' };
const BINDING_E = { vhost: '/', source: 'amq.direct', destination: 'fuzz-x' };
const DEFINITIONS: Json = {
  queues: [{ name: 'fuzz-def-q', vhost: '/', durable: true, auto_delete: false, arguments: { 'x-max-length': 10 } }],
  exchanges: [
    {
      name: 'fuzz-def-x',
      vhost: '/',
      type: 'topic',
      durable: true,
      auto_delete: false,
      internal: false,
      arguments: {},
    },
  ],
  bindings: [
    {
      source: 'fuzz-def-x',
      vhost: '/',
      destination: 'fuzz-def-q',
      destination_type: 'queue',
      routing_key: '#',
      arguments: {},
    },
  ],
};
const MANAGEMENT_ROUTES: RouteSpec[] = [
  m('GET', 'overview'),
  m('GET', 'whoami'),
  m('GET', 'nodes'),
  m('GET', 'nodes/:name', { params: { name: 'warren@localhost' } }),
  m('GET', 'health/checks/alarms'),
  m('GET', 'health/checks/local-alarms'),
  m('GET', 'health/checks/virtual-hosts'),
  m('GET', 'health/checks/port-listener/:port', { params: { port: '5672' } }),
  m('GET', 'aliveness-test/:vhost', { params: VHOST }),
  m('GET', 'vhosts'),
  m('GET', 'vhosts/:vhost', { params: VHOST }),
  m('PUT', 'vhosts/:vhost', { params: { vhost: 'fuzz-vhost' }, body: { description: 'fuzzed', tags: 'a,b' } }),
  m('DELETE', 'vhosts/:vhost', { params: { vhost: 'fuzz-vhost' } }),
  m('GET', 'vhosts/:vhost/connections', { params: VHOST }),
  m('GET', 'users'),
  m('GET', 'users/:user', { params: { user: 'fuzz-user' } }),
  m('PUT', 'users/:user', { params: { user: 'fuzz-user' }, body: { password: 'fuzz-password', tags: 'management' } }),
  m('DELETE', 'users/:user', { params: { user: 'fuzz-user' } }),
  m('GET', 'permissions'),
  m('GET', 'permissions/:vhost/:user', { params: { vhost: '/', user: 'fuzz-user' } }),
  m('PUT', 'permissions/:vhost/:user', {
    params: { vhost: '/', user: 'fuzz-user' },
    body: { configure: '^fuzz', write: '.*', read: '' },
  }),
  m('DELETE', 'permissions/:vhost/:user', { params: { vhost: '/', user: 'fuzz-user' } }),
  m('GET', 'policies'),
  m('GET', 'policies/:vhost', { params: VHOST }),
  m('GET', 'policies/:vhost/:name', { params: { vhost: '/', name: 'fuzz-policy' } }),
  m('PUT', 'policies/:vhost/:name', {
    params: { vhost: '/', name: 'fuzz-policy' },
    body: { pattern: '^fuzz-', definition: { 'max-length': 100 }, priority: 1, 'apply-to': 'queues' },
  }),
  m('DELETE', 'policies/:vhost/:name', { params: { vhost: '/', name: 'fuzz-policy' } }),
  m('GET', 'definitions'),
  m('GET', 'definitions/:vhost', { params: VHOST }),
  m('POST', 'definitions', { body: DEFINITIONS }),
  m('POST', 'definitions/:vhost', { params: VHOST, body: DEFINITIONS }),
  m('GET', 'connections'),
  m('GET', 'connections/:name', { params: { name: 'no-such-connection' } }),
  m('DELETE', 'connections/:name', { params: { name: 'no-such-connection' } }),
  m('GET', 'connections/:name/channels', { params: { name: 'no-such-connection' } }),
  m('GET', 'channels'),
  m('GET', 'consumers'),
  m('GET', 'consumers/:vhost', { params: VHOST }),
  m('GET', 'exchanges'),
  m('GET', 'exchanges/:vhost', { params: VHOST }),
  m('GET', 'exchanges/:vhost/:name', { params: EXCHANGE }),
  m('PUT', 'exchanges/:vhost/:name', {
    params: EXCHANGE,
    body: {
      type: 'direct',
      durable: true,
      auto_delete: false,
      internal: false,
      arguments: { 'alternate-exchange': 'amq.fanout' },
    },
  }),
  m('DELETE', 'exchanges/:vhost/:name', { params: EXCHANGE }),
  m('GET', 'exchanges/:vhost/:name/bindings/source', { params: EXCHANGE }),
  m('GET', 'exchanges/:vhost/:name/bindings/destination', { params: EXCHANGE }),
  m('POST', 'exchanges/:vhost/:name/publish', {
    params: { vhost: '/', name: 'amq.default' },
    body: {
      properties: { delivery_mode: 2, headers: { a: 1 }, priority: 1, expiration: '60000' },
      routing_key: 'fuzz-q',
      payload: 'aGk=',
      payload_encoding: 'base64',
    },
  }),
  m('GET', 'queues'),
  m('GET', 'queues/:vhost', { params: VHOST }),
  m('GET', 'queues/:vhost/:name', { params: QUEUE }),
  m('PUT', 'queues/:vhost/:name', {
    params: QUEUE,
    body: { durable: true, auto_delete: false, arguments: { 'x-max-length': 100, 'x-message-ttl': 60000 } },
  }),
  m('DELETE', 'queues/:vhost/:name', { params: QUEUE }),
  m('GET', 'queues/:vhost/:name/bindings', { params: QUEUE }),
  m('DELETE', 'queues/:vhost/:name/contents', { params: QUEUE }),
  m('POST', 'queues/:vhost/:name/get', {
    params: QUEUE,
    body: { count: 2, ackmode: 'ack_requeue_true', encoding: 'auto', truncate: 50 },
  }),
  m('GET', 'bindings'),
  m('GET', 'bindings/:vhost', { params: VHOST }),
  m('GET', 'bindings/:vhost/e/:source/q/:destination', { params: BINDING_Q }),
  m('POST', 'bindings/:vhost/e/:source/q/:destination', {
    params: BINDING_Q,
    body: { routing_key: 'fuzz', arguments: { 'x-match': 'all' } },
  }),
  m('GET', 'bindings/:vhost/e/:source/q/:destination/:props', { params: { ...BINDING_Q, props: 'fuzz' } }),
  m('DELETE', 'bindings/:vhost/e/:source/q/:destination/:props', { params: { ...BINDING_Q, props: 'fuzz' } }),
  m('GET', 'bindings/:vhost/e/:source/e/:destination', { params: BINDING_E }),
  m('POST', 'bindings/:vhost/e/:source/e/:destination', {
    params: BINDING_E,
    body: { routing_key: 'fuzz', arguments: {} },
  }),
  m('GET', 'bindings/:vhost/e/:source/e/:destination/:props', { params: { ...BINDING_E, props: 'fuzz' } }),
  m('DELETE', 'bindings/:vhost/e/:source/e/:destination/:props', { params: { ...BINDING_E, props: 'fuzz' } }),
];

/**
 * The management API's routes as its source declares them (apps/broker/src/management/resources: `method`,
 * `path`, with the `${kind}`-style parts of the mapped ones expanded), to hold the table above to them: the e2e
 * project may not import the broker, but it may read it.
 */
function declaredManagementRoutes(): string[] {
  const dir = path.join(ROOT, 'apps/broker/src/management/resources');
  const out: string[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    const text = readFileSync(path.join(dir, file), 'utf8');
    // `[...].map((kind) …` / `(['q', 'e'] as const).flatMap((kind) …`: what each variable ranges over
    const ranges = [...text.matchAll(/\[([^[\]]+)\](?: as const\))?\.(?:flatMap|map)\(\s*\((\w+)\)/g)].map((x) => ({
      at: x.index!,
      name: x[2],
      values: [...x[1].matchAll(/'([^']+)'/g)].map((v) => v[1]),
    }));
    for (const r of text.matchAll(/method: '([A-Z]+)',\s*path: (?:'([^']+)'|`([^`]+)`)/g)) {
      let paths = [r[2] ?? r[3]];
      for (const v of (r[3] ?? '').matchAll(/\$\{(\w+)\}/g)) {
        const range = ranges.filter((x) => x.name === v[1] && x.at < r.index!).pop();
        paths = paths.flatMap((p) => (range?.values ?? ['?']).map((value) => p.replace(`\${${v[1]}}`, value)));
      }
      out.push(...paths.map((p) => `${r[1]} /api/${p}`));
    }
  }
  return [...new Set(out)].sort();
}

const TARGETS: Target[] = [
  {
    name: 'orders',
    jsonErrors: true,
    routes: [
      {
        method: 'POST',
        path: '/orders',
        body: { customerEmail: 'fuzz@example.com', items: [{ sku: 'SKU-002', quantity: 1 }] },
        fuzzHeaders: ['idempotency-key'],
      },
      { method: 'GET', path: '/orders', query: { status: 'PENDING', limit: '10', offset: '0' } },
      { method: 'GET', path: '/orders/:id', params: { id: known.orderId } },
      { method: 'GET', path: '/docs', unmapped: true, jsonErrors: false },
      { method: 'GET', path: '/docs-json', unmapped: true },
      ...common,
    ],
  },
  {
    name: 'inventory',
    jsonErrors: true,
    routes: [
      { method: 'GET', path: '/stock' },
      { method: 'GET', path: '/reservations/:orderId', params: { orderId: known.orderId } },
      {
        method: 'POST',
        path: '/admin/stock/:sku/restock',
        params: { sku: 'SKU-010' },
        body: { quantity: 1 },
        admin: true,
      },
      ...common,
    ],
  },
  {
    name: 'payments',
    jsonErrors: true,
    routes: [
      { method: 'GET', path: '/payments', query: { orderId: known.orderId, limit: '10' } },
      { method: 'GET', path: '/admin/gateway', admin: true },
      { method: 'PUT', path: '/admin/gateway', body: { failureRate: 0, declineRate: 0, latencyMs: 0 }, admin: true },
      ...common,
    ],
  },
  {
    name: 'notifications',
    jsonErrors: true,
    routes: [
      { method: 'GET', path: '/notifications', query: { limit: '5' } },
      { method: 'GET', path: '/notifications/failed', query: { limit: '5' } },
      { method: 'POST', path: '/notifications/failed/retry', admin: true },
      {
        method: 'POST',
        path: '/notifications/failed/:id/retry',
        params: { id: `order.placed/${known.orderId}` },
        admin: true,
      },
      { method: 'POST', path: '/notifications/digest', admin: true },
      // Bull Board (its UI and API, admin only): read routes fuzzed with the token, the ones that change the
      // queue (pause, empty, obliterate…) only asked without a token or with a wrong one
      { method: 'GET', path: '/queues', admin: true, unmapped: true, jsonErrors: false },
      { method: 'GET', path: '/queues/api/queues', admin: true, unmapped: true, jsonErrors: false },
      {
        method: 'GET',
        path: '/queues/api/queues/:queue/:job',
        params: { queue: 'emails', job: 'x' },
        admin: true,
        unmapped: true,
        jsonErrors: false,
      },
      {
        method: 'PUT',
        path: '/queues/api/queues/:queue/pause',
        params: { queue: 'emails' },
        admin: true,
        authOnly: true,
        unmapped: true,
      },
      {
        method: 'PUT',
        path: '/queues/api/queues/:queue/empty',
        params: { queue: 'emails' },
        admin: true,
        authOnly: true,
        unmapped: true,
      },
      {
        method: 'PUT',
        path: '/queues/api/queues/:queue/obliterate',
        params: { queue: 'emails' },
        admin: true,
        authOnly: true,
        unmapped: true,
      },
      ...common,
    ],
  },
  {
    name: 'analytics',
    jsonErrors: true,
    routes: [
      {
        method: 'POST',
        path: '/collect',
        body: {
          events: [{ type: 'page_view', visitorId: 'fuzz-visitor', url: 'https://shop.example/fuzz', title: 'Fuzz' }],
        },
      },
      { method: 'GET', path: '/stats', query: { minutes: '5' } },
      { method: 'GET', path: '/stats/stream', query: { minutes: '5' }, sse: true },
      ...common,
    ],
  },
  {
    name: 'console',
    jsonErrors: true,
    routes: [
      { method: 'GET', path: '/', unmapped: true, jsonErrors: false },
      { method: 'GET', path: '/api/stream', sse: true },
      { method: 'GET', path: '/api/health' },
      {
        method: 'POST',
        path: '/api/orders',
        body: { customerEmail: 'console-fuzz@example.com', items: [{ sku: 'SKU-002', quantity: 1 }] },
      },
      { method: 'GET', path: '/api/orders/:id', params: { id: known.orderId } },
      { method: 'GET', path: '/api/dead-letters' },
      { method: 'GET', path: '/api/dead-letters/:queue', params: { queue: 'fuzz.dlq' }, query: { limit: '10' } },
      {
        method: 'POST',
        path: '/api/dead-letters/:queue/replay',
        params: { queue: 'fuzz.dlq' },
        body: { ids: ['m-1'] },
      },
      { method: 'POST', path: '/api/dead-letters/:queue/purge', params: { queue: 'fuzz.dlq' }, body: { ids: ['m-1'] } },
      { method: 'GET', path: '/api/controls' },
      { method: 'GET', path: '/api/controls/gateway' },
      { method: 'PUT', path: '/api/controls/gateway', body: { failureRate: 0, declineRate: 0, latencyMs: 0 } },
      { method: 'POST', path: '/api/controls/smtp', body: { count: 1, code: 421 } },
      { method: 'DELETE', path: '/api/controls/smtp' },
      { method: 'GET', path: '/api/controls/connections' },
      { method: 'DELETE', path: '/api/controls/connections/:name', params: { name: 'no-such-connection' } },
      {
        method: 'POST',
        path: '/api/controls/processes/:name/signal',
        params: { name: 'payments' },
        body: { signal: 'SIGCONT' },
      },
      { method: 'POST', path: '/api/controls/processes/:name/restart', params: { name: 'payments' } },
      { method: 'POST', path: '/api/controls/instances', body: { service: 'payments' } },
      { method: 'DELETE', path: '/api/controls/instances/:name', params: { name: 'payments-2' } },
      { method: 'GET', path: '/api/scenarios' },
      { method: 'GET', path: '/api/scenarios/current' },
      // a valid id would run a scenario (orders, a stopped consumer…): only ids no scenario has
      { method: 'POST', path: '/api/scenarios/:id/run', params: { id: 'no-such-scenario' } },
      { method: 'GET', path: '/api/traces', query: { orderId: known.orderId } },
      { method: 'GET', path: '/api/traces/:traceId', params: { traceId: '0af7651916cd43dd8448eb211c80319c' } },
      {
        method: 'POST',
        path: '/v1/traces',
        unmapped: true,
        body: {
          resourceSpans: [
            {
              resource: { attributes: [{ key: 'service.name', value: { stringValue: 'fuzz' } }] },
              scopeSpans: [
                {
                  scope: { name: 'fuzz' },
                  spans: [
                    {
                      traceId: '0af7651916cd43dd8448eb211c80319c',
                      spanId: 'b7ad6b7169203331',
                      name: 'fuzz',
                      kind: 2,
                      startTimeUnixNano: '1700000000000000000',
                      endTimeUnixNano: 1700000000100000000,
                      attributes: [{ key: 'n', value: { intValue: '1' } }],
                      status: { code: 1 },
                    },
                  ],
                },
              ],
            },
          ],
        },
      },
    ],
  },
  {
    name: 'smtp-capture',
    jsonErrors: false,
    routes: [
      { method: 'GET', path: '/' },
      { method: 'GET', path: '/health' },
      { method: 'GET', path: '/livez' },
      { method: 'GET', path: '/readyz' },
      { method: 'GET', path: '/api/v1/info' },
      { method: 'GET', path: '/api/v1/messages', query: { start: '0', limit: '10' } },
      { method: 'PUT', path: '/api/v1/messages', body: { IDs: ['x'], Read: true } },
      { method: 'DELETE', path: '/api/v1/messages', body: { IDs: ['x'] } },
      { method: 'GET', path: '/api/v1/search', query: { query: 'fuzz', start: '0', limit: '10' } },
      { method: 'DELETE', path: '/api/v1/search', query: { query: 'to:nobody@fuzz.example' } },
      { method: 'GET', path: '/api/v1/message/:id', params: { id: 'latest' } },
      { method: 'GET', path: '/api/v1/message/:id/headers', params: { id: 'latest' } },
      { method: 'GET', path: '/api/v1/message/:id/raw', params: { id: 'latest' } },
      { method: 'GET', path: '/api/v1/message/:id/part/:part', params: { id: 'latest', part: '1' } },
      { method: 'GET', path: '/view/:id.html', params: { id: 'latest' } },
      { method: 'GET', path: '/view/:id.txt', params: { id: 'latest' } },
      { method: 'GET', path: '/api/warren/fail-next' },
      { method: 'POST', path: '/api/warren/fail-next', body: { count: 0, code: 421 } },
      { method: 'DELETE', path: '/api/warren/fail-next' },
    ],
  },
  { name: 'management', jsonErrors: true, auth: GUEST, emptyErrors: [401, 405], routes: MANAGEMENT_ROUTES },
];

interface ManagedBroker {
  amqpUrl: string;
  /** With guest's credentials in it, as the console takes it. */
  managementUrl: string;
  /** Without them: the fuzzer sends its own. */
  managementBase: string;
  stop(): Promise<void>;
}

/** A bundled broker with its management API (as the demo runs it) on free ports: the console reads it. */
async function startManagedBroker(): Promise<ManagedBroker> {
  const entry = process.env.WARREN_TEST_BROKER_ENTRY;
  if (!entry) throw new Error('WARREN_TEST_BROKER_ENTRY is not set: run through jest -c e2e/jest.config.js');
  const dataDir = mkdtempSync(path.join(tmpdir(), 'warren-fuzz-broker-'));
  const child = spawn(
    process.execPath,
    [entry, '--host', '127.0.0.1', '--port', '0', '--management-port', '0', '--data-dir', dataDir],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  // its log (a 500's stack is there) beside the request log, when one is kept
  if (LOG) child.stderr!.on('data', (d) => appendFileSync(`${LOG}.broker`, d));
  const [amqpPort, httpPort] = await eventually(
    'the broker to listen',
    () => {
      if (child.exitCode !== null) throw new Error(`the broker exited: ${out}`);
      const amqp = /listening on amqp:\/\/[^:]+:(\d+)/.exec(out);
      const mgmt = /listening on http:\/\/[^:]+:(\d+) \(management API\)/.exec(out);
      return amqp && mgmt ? [amqp[1], mgmt[1]] : undefined;
    },
    15_000,
  );
  return {
    amqpUrl: `amqp://guest:guest@127.0.0.1:${amqpPort}`,
    managementUrl: `http://guest:guest@127.0.0.1:${httpPort}`,
    managementBase: `http://127.0.0.1:${httpPort}`,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** `GET /orders/:id` from an OpenAPI path and method. */
const fromOpenApi = (path: string, method: string) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`;
const key = (r: RouteSpec) => `${r.method} ${r.path}`;

// The local runtime only (the route check reads the processes' logs; `npm run test:containers` leaves this suite
// out), on one broker: fuzzing HTTP does not depend on which broker carries the messages, so it takes the first
// E2E_BROKER allows (the bundled one unless E2E_BROKER=rabbitmq).
if (runtime() !== 'local')
  throw new Error('the HTTP fuzzing suite runs services as local processes (E2E_RUNTIME=local)');
const targets: BrokerTarget[] = brokers().slice(0, 1);
const describeFuzz = describe.each(targets);

describeFuzz(
  `HTTP fuzzing of every endpoint (seed '${SEED}': HTTP_FUZZ_SEED=${SEED} replays it; $name broker)`,
  ({ amqpUrl }) => {
    // HTTP_FUZZ_DATABASE=postgres runs the services on Postgres (DATABASE_URL's server) rather than SQLite
    const database = process.env.HTTP_FUZZ_DATABASE === 'postgres' ? 'postgres' : 'sqlite';
    const stack = new Stack(
      amqpUrl,
      { SAGA_STEP_TIMEOUT_MS: '60000', SAGA_SWEEP_INTERVAL_MS: '500', EMAIL_RATE_PER_SECOND: '50' },
      { services: ['orders', 'inventory', 'payments', 'notifications', 'analytics'], database },
    );
    const started = Date.now();
    /** Per target: the requests sent, and how many got each status. */
    const sent: Partial<Record<TargetName, string>> = {};
    let total = 0;

    /** The console, as `npm run demo` runs it, on a broker of its own with the management API it reads. */
    let consoleProcess: ServiceProcess | undefined;
    let managed: ManagedBroker | undefined;
    const base = (name: TargetName) =>
      name === 'smtp-capture'
        ? stack.mailUrl
        : name === 'console'
          ? consoleProcess!.url
          : name === 'management'
            ? managed!.managementBase
            : stack.url(name);

    beforeAll(async () => {
      await stack.start();
      managed = await startManagedBroker();
      const webDir = path.join(stack.dir, 'web');
      mkdirSync(webDir);
      writeFileSync(path.join(webDir, 'index.html'), '<!doctype html><title>Warren Console</title>');
      consoleProcess = new ServiceProcess(
        'console' as ProcessName,
        await freePort(),
        {
          ...process.env,
          HOST: '127.0.0.1',
          NO_COLOR: '1',
          ADMIN_TOKEN,
          WARREN_NAMESPACE: stack.namespace,
          CONSOLE_WEB_DIR: webDir,
          AMQP_URL: managed.amqpUrl,
          AMQP_MANAGEMENT_URL: managed.managementUrl,
          ...stack.consoleEnv(),
        },
        path.join(stack.dir, 'console.log'),
        [],
        '/api/health',
      );
      await consoleProcess.start();
      const placed = await http('POST', `${stack.url('orders')}/orders`, {
        customerEmail: 'fuzz@example.com',
        items: [{ sku: 'SKU-001', quantity: 1 }],
      });
      expect(placed.status).toBe(201);
      // the routes that read an order read this one
      for (const t of TARGETS)
        for (const r of t.routes) {
          for (const k of Object.keys(r.params ?? {}))
            r.params![k] = r.params![k].replace(known.orderId, placed.body.id);
          for (const k of Object.keys(r.query ?? {})) r.query![k] = r.query![k].replace(known.orderId, placed.body.id);
        }
      known.orderId = placed.body.id;
      // the port the managed broker's AMQP listener has
      MANAGEMENT_ROUTES.find((r) => r.path.includes('port-listener'))!.params!.port = new URL(managed.amqpUrl).port;
    }, 180_000);

    afterAll(async () => {
      await consoleProcess?.stop();
      await managed?.stop();
      await stack.teardown();
      process.stderr.write(
        `http-fuzz: seed ${SEED}, ${total} requests in ${((Date.now() - started) / 1000).toFixed(1)} s\n${Object.entries(
          sent,
        )
          .map(([k, v]) => `  ${k}: ${v}\n`)
          .join('')}`,
      );
    });

    it('has every route in its table: the OpenAPI document, the routes each Nest app maps, the management API', async () => {
      const doc = await http('GET', `${stack.url('orders')}/docs-json`);
      expect(doc.status).toBe(200);
      const documented = Object.entries(doc.body.paths as Record<string, Record<string, unknown>>).flatMap(
        ([path, ops]) => Object.keys(ops).map((m) => fromOpenApi(path, m)),
      );
      const orders = TARGETS.find((t) => t.name === 'orders')!;
      expect(documented.sort()).toEqual(
        orders.routes
          .filter((r) => !r.unmapped)
          .map(key)
          .sort(),
      );
      expect(MANAGEMENT_ROUTES.map(key).sort()).toEqual(declaredManagementRoutes());
      for (const t of TARGETS.filter((x) => x.name !== 'smtp-capture' && x.name !== 'management')) {
        const log = readFileSync(
          (t.name === 'console' ? consoleProcess! : (stack.services[t.name as ServiceName] as ServiceProcess)).logFile,
          'utf8',
        );
        expect({ service: t.name, routes: mappedRoutes(log) }).toEqual({
          service: t.name,
          routes: t.routes
            .filter((r) => !r.unmapped)
            .map(key)
            .sort(),
        });
      }
    });

    it.each(TARGETS.map((t) => [t.name, t] as const))(
      '%s: no hostile request gets a 5xx, and errors are JSON where the service answers JSON',
      async (_name, target) => {
        const prng = new Prng(`${SEED}/${target.name}`);
        const auth = target.auth ?? adminHeaders;
        const requests: FuzzRequest[] = [
          ...target.routes.flatMap((r) => fuzzRequests(prng, r, auth)),
          ...methodRequests(target.routes, auth),
        ];
        total += requests.length;
        const failures: string[] = [];
        const statuses: Record<number, number> = {};
        const url = base(target.name);
        await pool(requests, CONCURRENCY, async (req) => {
          const what = `${req.method} ${req.path.length > 120 ? `${req.path.slice(0, 100)}…(${req.path.length} chars)` : req.path} [${req.route.method} ${req.route.path}: ${req.name}]`;
          try {
            const res = await send(url, req);
            const text = res.body.toString('utf8');
            statuses[res.status] = (statuses[res.status] ?? 0) + 1;
            if (LOG)
              appendFileSync(LOG, `${target.name} ${res.status} ${what} ${text.slice(0, 160).replace(/\s+/g, ' ')}\n`);
            if (req.transport && (res.status === 400 || res.status === 431) && text === '') return; // Node's parser said no
            if (
              res.status === 503 &&
              req.route.path.startsWith('/api/health/checks/') &&
              /"status":"failed"/.test(text)
            )
              return; // the check's own answer, as RabbitMQ's
            if (res.status >= 400 && text === '' && target.emptyErrors?.includes(res.status)) return;
            if (res.status >= 500) failures.push(`${what}: ${res.status} ${text.slice(0, 300)}`);
            else if (
              res.status >= 400 &&
              (req.route.jsonErrors ?? target.jsonErrors) &&
              req.method !== 'HEAD' &&
              !res.cut
            ) {
              const type = String(res.headers['content-type'] ?? '');
              let parsed = false;
              try {
                parsed = typeof JSON.parse(text) === 'object';
              } catch {
                // not JSON
              }
              if (!type.startsWith('application/json') || !parsed)
                failures.push(`${what}: ${res.status} not a JSON error (${type}): ${text.slice(0, 200)}`);
            }
          } catch (err) {
            // a request line past the header limit: Node answers 431 and closes while the request is still being
            // written; a large body a server refuses (413) or has no use for: it answers and closes before reading it
            // all, and the reset that unread data causes may reach the client before the answer does
            if ((req.transport || (req.body?.length ?? 0) > 65_536) && /ECONNRESET|EPIPE/.test((err as Error).message))
              return;
            failures.push(`${what}: no answer (${(err as Error).message})`);
          }
        });
        sent[target.name] = `${requests.length} (${Object.entries(statuses)
          .map(([k, v]) => `${v}×${k}`)
          .join(' ')})`;
        expect(failures).toEqual([]);
        // and it still answers
        const health = await send(
          url,
          validRequest(
            target.routes.find((r) => ['/health', '/api/health', '/api/overview'].includes(r.path))!,
            auth,
          ),
        );
        expect(health.status).toBe(200);
      },
    );

    it('leaves every service healthy and serving: an order placed now is confirmed, paid and emailed; a page view is counted', async () => {
      for (const name of ['orders', 'inventory', 'payments', 'notifications', 'analytics'] as ServiceName[]) {
        expect({ name, status: (await http('GET', `${stack.url(name)}/health`)).status }).toEqual({
          name,
          status: 200,
        });
      }
      // whatever the fuzzing set (a valid subset of a mutated body), the gateway approves everything again
      const gateway = await http(
        'PUT',
        `${stack.url('payments')}/admin/gateway`,
        { failureRate: 0, declineRate: 0, latencyMs: 0 },
        adminHeaders,
      );
      expect(gateway).toEqual({ status: 200, body: { failureRate: 0, declineRate: 0, latencyMs: 0 } });
      expect((await http('DELETE', `${stack.mailUrl}/api/warren/fail-next`)).status).toBe(200);
      const restocked = await http(
        'POST',
        `${stack.url('inventory')}/admin/stock/SKU-003/restock`,
        { quantity: 5 },
        adminHeaders,
      );
      expect(restocked.status).toBe(200);
      const placed = await http('POST', `${stack.url('orders')}/orders`, {
        customerEmail: 'after-fuzz@example.com',
        items: [{ sku: 'SKU-003', quantity: 1 }],
      });
      expect(placed.status).toBe(201);
      const order = await settled(stack, placed.body.id);
      expect(order).toMatchObject({ status: 'CONFIRMED', customerEmail: 'after-fuzz@example.com' });
      const ledger = await http('GET', `${stack.url('payments')}/payments?orderId=${placed.body.id}`);
      expect(ledger.body).toEqual([expect.objectContaining({ kind: 'capture', orderId: placed.body.id })]);
      await eventually('the confirmation email', async () => {
        const sentEmails = (await http('GET', `${stack.url('notifications')}/notifications?limit=500`)).body as Array<{
          key: string;
        }>;
        return sentEmails.some((e) => e.key === `order.confirmed/${placed.body.id}`) ? true : undefined;
      });
      const before = (await http('GET', `${stack.url('analytics')}/stats?minutes=5`)).body.counters.pageViews as number;
      const collected = await http('POST', `${stack.url('analytics')}/collect`, {
        events: [{ type: 'page_view', visitorId: 'after-fuzz', url: 'https://shop.example/after-fuzz' }],
      });
      expect(collected).toEqual({ status: 202, body: { accepted: 1, rejected: [] } });
      await eventually('the page view counted', async () =>
        ((await http('GET', `${stack.url('analytics')}/stats?minutes=5`)).body.counters.pageViews as number) > before
          ? true
          : undefined,
      );
      for (const s of [...stack.all(), consoleProcess!])
        expect({ name: s.name, running: (s as ServiceProcess).running }).toEqual({ name: s.name, running: true });
      // the broker's management API still declares, publishes and gets
      const mgmt = (method: string, p: string, body?: unknown) =>
        http(method, `${managed!.managementBase}/api/${p}`, body, GUEST);
      expect((await mgmt('GET', 'aliveness-test/%2F')).body).toEqual({ status: 'ok' });
      expect((await mgmt('PUT', 'queues/%2F/after-fuzz', { durable: false })).status).toBe(201);
      expect(
        (
          await mgmt('POST', 'exchanges/%2F/amq.default/publish', {
            properties: {},
            routing_key: 'after-fuzz',
            payload: 'still here',
            payload_encoding: 'string',
          })
        ).body,
      ).toEqual({ routed: true });
      expect(
        (await mgmt('POST', 'queues/%2F/after-fuzz/get', { count: 1, ackmode: 'ack_requeue_false', encoding: 'auto' }))
          .body,
      ).toEqual([expect.objectContaining({ payload: 'still here' })]);
      // the console still places and reads an order through the orders service
      const viaConsole = await http('POST', `${consoleProcess!.url}/api/orders`, {
        customerEmail: 'console@example.com',
        items: [{ sku: 'SKU-003', quantity: 1 }],
      });
      expect(viaConsole.status).toBe(201);
      expect((await settled(stack, viaConsole.body.id)).status).toBe('CONFIRMED');
    });
  },
);
