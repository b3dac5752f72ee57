// `docker compose up` as a user runs it, checked end to end: brings a compose profile up under a project name
// of its own on free host ports, waits until every container is healthy, places orders (one confirmed, one
// cancelled for lack of stock) and finds each one's two emails in Mailpit's API exactly once, sends clicks and
// sees them in /stats, stops everything with SIGTERM (every container must exit 0 or 143 within its grace
// period) and `down -v` leaves no container, network or volume behind. Profile `cluster` besides: the three
// RabbitMQ nodes form one cluster, every queue the services declare is a quorum queue with a member on each
// node, both payments instances consume, and an order still settles while one node is stopped.
// With --observability metrics (Prometheus alone: its image has a local stand-in) or --observability observability
// (Prometheus, Grafana and Jaeger: their images need a registry), that profile runs beside the broker's and
// tracing is on (docker/observability/tracing.yml): the confirmed order's trace reaches the console and spans every
// service it crossed, Prometheus scrapes every target up and answers every query of the Grafana dashboard
// (docker/observability/grafana/dashboards/warren.json), and with the full profile Jaeger holds the order's trace
// and Grafana serves the dashboard to an anonymous viewer.
//
//   npm run test:compose -- [--profile bundled|rabbitmq|cluster] [--observability metrics|observability]
//                           [--project NAME] [--no-build] [--keep]
//
// Uses `docker compose` when the Compose v2 plugin is there, else `docker-compose` (v1.28+). Exit 0 when every
// check passed; otherwise the failed check, each container's state and the tail of its log.
import { execFile, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const exec = promisify(execFile);
const HEALTHY_WITHIN_MS = 240_000;
const SETTLE_WITHIN_MS = 60_000;

const { values: opts } = parseArgs({
  options: {
    profile: { type: 'string', default: 'bundled' },
    observability: { type: 'string' },
    project: { type: 'string' },
    'no-build': { type: 'boolean' },
    keep: { type: 'boolean' },
  },
  strict: true,
});
if (!['bundled', 'rabbitmq', 'cluster'].includes(opts.profile)) {
  console.error(`--profile must be bundled, rabbitmq or cluster, got '${opts.profile}'`);
  process.exit(2);
}
if (opts.observability !== undefined && !['metrics', 'observability'].includes(opts.observability)) {
  console.error(`--observability must be metrics or observability, got '${opts.observability}'`);
  process.exit(2);
}
const OBSERVABILITY = opts.observability;
const profiles = [opts.profile, OBSERVABILITY].filter(Boolean).join(' + ');
const project = opts.project ?? `warren-smoke-${opts.profile}-${randomBytes(3).toString('hex')}`;
const started = Date.now();
const log = (line) =>
  console.log(`[compose-smoke ${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${line}`);

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const PORT_VARS = [
  'BROKER_PORT',
  'MANAGEMENT_PORT',
  'PROMETHEUS_PORT',
  'REDIS_PORT',
  'SMTP_PORT',
  'SMTP_HTTP_PORT',
  'ORDERS_PORT',
  'PAYMENTS_PORT',
  'INVENTORY_PORT',
  'NOTIFICATIONS_PORT',
  'ANALYTICS_PORT',
  'CONSOLE_PORT',
  'PROMETHEUS_UI_PORT',
  'GRAFANA_PORT',
  'JAEGER_UI_PORT',
  'JAEGER_OTLP_PORT',
];
const ports = {};
for (const v of PORT_VARS) ports[v] = String(await freePort());
const env = {
  ...process.env,
  ...ports,
  COMPOSE_PROFILES: [opts.profile, OBSERVABILITY].filter(Boolean).join(','),
  COMPOSE_PROJECT_NAME: project,
  ADMIN_TOKEN: `smoke-${randomBytes(8).toString('hex')}`,
};

async function composeCommand() {
  try {
    await exec('docker', ['compose', 'version'], { env });
    return ['docker', ['compose']];
  } catch {
    return ['docker-compose', []];
  }
}
const [composeBin, composeCmd] = await composeCommand();
// tracing on with the observability profiles: the override file beside the main one
const TRACING_FILE = 'docker/observability/tracing.yml';
const composePrefix = OBSERVABILITY ? [...composeCmd, '-f', 'docker-compose.yml', '-f', TRACING_FILE] : composeCmd;

/** Runs compose with its output streamed (prefixed); rejects on a non-zero exit. */
function compose(args, { quiet = false } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(composeBin, [...composePrefix, '-p', project, ...args], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const onData = (d) => {
      out += d;
      if (!quiet) process.stdout.write(d);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve(out)
        : reject(
            new Error(`${composeBin} ${[...composePrefix, ...args].join(' ')} exited ${code}\n${out.slice(-3000)}`),
          ),
    );
  });
}

const docker = async (...args) => (await exec('docker', args, { maxBuffer: 64 * 1024 * 1024 })).stdout.trim();
const projectFilter = `label=com.docker.compose.project=${project}`;

async function containers() {
  const ids = (await docker('ps', '-aq', '--filter', projectFilter)).split('\n').filter(Boolean);
  if (!ids.length) return [];
  const inspected = JSON.parse(await docker('inspect', ...ids));
  return inspected.map((c) => ({
    name: c.Config.Labels['com.docker.compose.service'],
    id: c.Id,
    state: c.State.Status,
    health: c.State.Health?.Status ?? 'none',
    exitCode: c.State.ExitCode,
    restarts: c.RestartCount ?? 0,
    healthLog: (c.State.Health?.Log ?? [])
      .slice(-1)
      .map((l) => l.Output.trim())
      .join(''),
  }));
}

async function until(what, check, timeoutMs, everyMs = 500) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      if (err.fatal) throw err;
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs / 1000} s waiting for ${what}${last ? ` (last error: ${last.message})` : ''}`,
      );
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

async function http(method, url, body, headers = {}) {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON
  }
  return { status: res.status, body: parsed };
}

function expect(ok, message) {
  if (!ok) throw new Error(`check failed: ${message}`);
}

const url = (v) => `http://127.0.0.1:${ports[v]}`;
const APPS = ['orders', 'payments', 'inventory', 'notifications', 'analytics', 'console'];
const CLUSTER_NODES = ['rabbitmq-1', 'rabbitmq-2', 'rabbitmq-3'];
/** The compose services a profile runs: in `cluster`, each app is `<app>-cluster` (payments twice). */
function expectedServices() {
  const infra = ['redis', 'postgres', 'mailpit'];
  const observability =
    { metrics: ['prometheus'], observability: ['prometheus', 'grafana', 'jaeger'] }[OBSERVABILITY] ?? [];
  if (opts.profile === 'cluster')
    return [
      ...infra,
      ...observability,
      ...CLUSTER_NODES,
      ...APPS.map((a) => `${a}-cluster`),
      'payments-cluster-2',
    ].sort();
  return [...infra, ...observability, ...APPS, opts.profile === 'bundled' ? 'broker' : 'rabbitmq'].sort();
}
// Jaeger's image declares no health check and compose adds none (what its image carries is not known here): it is
// ready when it runs, and its query API answering is checked with the traces.
const NO_HEALTHCHECK = new Set(['jaeger']);
const ready = (c) =>
  c.health === 'healthy' || (NO_HEALTHCHECK.has(c.name) && c.health === 'none' && c.state === 'running');

/** The app a compose service runs (orders-cluster, payments-cluster-2 -> orders, payments). */
const appOf = (service) => service.replace(/-cluster(-\d+)?$/, '');

async function smoke() {
  // --- orders: one confirmed, one cancelled (more than the warehouse holds)
  const confirmedTo = `smoke-confirmed-${randomUUID().slice(0, 8)}@example.com`;
  const cancelledTo = `smoke-cancelled-${randomUUID().slice(0, 8)}@example.com`;
  const place = async (customerEmail, items) => {
    const res = await http('POST', `${url('ORDERS_PORT')}/orders`, { customerEmail, items });
    expect(res.status === 201, `POST /orders answered ${res.status}: ${JSON.stringify(res.body)}`);
    return res.body.id;
  };
  const okId = await place(confirmedTo, [{ sku: 'SKU-001', quantity: 1 }]);
  const noId = await place(cancelledTo, [{ sku: 'SKU-002', quantity: 1000 }]); // the warehouse holds 40
  log(`placed orders ${okId} and ${noId}`);
  const settled = (id) =>
    until(
      `order ${id} to settle`,
      async () => {
        const o = (await http('GET', `${url('ORDERS_PORT')}/orders/${id}`)).body;
        return o.status && o.status !== 'PENDING' ? o : undefined;
      },
      SETTLE_WITHIN_MS,
    );
  const [ok, no] = [await settled(okId), await settled(noId)];
  expect(ok.status === 'CONFIRMED', `order ${okId} should be CONFIRMED, is ${ok.status}`);
  expect(no.status === 'CANCELLED', `order ${noId} should be CANCELLED, is ${no.status}`);
  log(`order ${okId} CONFIRMED, order ${noId} CANCELLED`);

  // --- emails: both of each order's emails reach Mailpit, once each
  const mails = async () =>
    (await http('GET', `${url('SMTP_HTTP_PORT')}/api/v1/messages?limit=500`)).body.messages ?? [];
  const subjectsTo = (all, to) =>
    all
      .filter((m) => m.To.some((t) => t.Address === to))
      .map((m) => m.Subject)
      .sort();
  const expected = {
    [confirmedTo]: [/^We received your order/, /^Your order .* is confirmed/],
    [cancelledTo]: [/^We received your order/, /^Your order .* was cancelled/],
  };
  await until(
    'both emails of both orders in Mailpit',
    async () => {
      const all = await mails();
      return Object.entries(expected).every(([to, subjects]) =>
        subjects.every((re) => subjectsTo(all, to).some((s) => re.test(s))),
      );
    },
    SETTLE_WITHIN_MS,
  );
  // every email the service sent is in its record: once all four are recorded sent, nothing more is coming
  await until(
    'notifications to record four sends',
    async () => {
      const sent = (await http('GET', `${url('NOTIFICATIONS_PORT')}/notifications?limit=500`)).body;
      return Array.isArray(sent) && sent.filter((n) => n.to === confirmedTo || n.to === cancelledTo).length >= 4;
    },
    SETTLE_WITHIN_MS,
  );
  const all = await mails();
  for (const [to, subjects] of Object.entries(expected)) {
    const got = subjectsTo(all, to);
    expect(
      got.length === 2 && subjects.every((re) => got.filter((s) => re.test(s)).length === 1),
      `${to} should have exactly two emails (received, then ${to === confirmedTo ? 'confirmed' : 'cancelled'}), has ${JSON.stringify(got)}`,
    );
  }
  log('each order has its two emails in Mailpit, once each');

  // --- clicks: accepted by /collect and counted in /stats
  const visitor = `smoke-${randomUUID().slice(0, 8)}`;
  const before = (await http('GET', `${url('ANALYTICS_PORT')}/stats?minutes=60`)).body;
  const events = Array.from({ length: 20 }, (_, i) => ({
    type: i % 2 ? 'click' : 'page_view',
    visitorId: visitor,
    url: `https://shop.example/smoke/${i % 4}`,
  }));
  const res = await http('POST', `${url('ANALYTICS_PORT')}/collect`, { events });
  expect(
    res.status === 202 && res.body.accepted === 20,
    `POST /collect answered ${res.status}: ${JSON.stringify(res.body)}`,
  );
  await until(
    '/stats to count the 20 events',
    async () => {
      const now = (await http('GET', `${url('ANALYTICS_PORT')}/stats?minutes=60`)).body;
      return (
        now.counters.pageViews === before.counters.pageViews + 10 && now.counters.clicks === before.counters.clicks + 10
      );
    },
    SETTLE_WITHIN_MS,
  );
  log('20 clicks and page views counted in /stats');

  // --- the console: its page, and every source it reads answering (the broker's management API through the
  //     alias, each service, Mailpit); no process control under compose
  const page = await fetch(`${url('CONSOLE_PORT')}/`);
  expect(
    page.status === 200 && (await page.text()).includes('<div id="root">'),
    `the console's page answered ${page.status}`,
  );
  await until(
    'every source of the console to answer',
    async () => {
      const health = (await http('GET', `${url('CONSOLE_PORT')}/api/health`)).body;
      // the sources are polled while a browser listens: open the live stream for a moment
      const stream = await fetch(`${url('CONSOLE_PORT')}/api/stream`, {
        signal: globalThis.AbortSignal.timeout(3000),
      }).catch(() => undefined);
      await stream?.body?.cancel().catch(() => undefined);
      const down = Object.entries(health.sources).filter(([, s]) => s.status !== 'ok');
      if (down.length) throw new Error(`not yet up: ${down.map(([n, s]) => `${n} (${s.status})`).join(', ')}`);
      expect(!('processes' in health.sources), 'the console should offer no process control under compose');
      return true;
    },
    SETTLE_WITHIN_MS,
  );
  log('the console serves its page and reads every source');

  // --- logs: JSON lines from every service (docker logs: stdout and stderr)
  const running = await containers();
  for (const { name: service, id } of running.filter((c) => APPS.includes(appOf(c.name)))) {
    const { stdout, stderr } = await exec('docker', ['logs', id], { maxBuffer: 64 * 1024 * 1024 });
    const lines = `${stdout}\n${stderr}`.split('\n').filter((l) => l.trim());
    const notJson = lines.filter((l) => {
      try {
        return JSON.parse(l).service !== appOf(service);
      } catch {
        return true;
      }
    });
    expect(
      lines.length > 0 && !notJson.length,
      `${service} should log JSON lines only; ${notJson.length} of ${lines.length} are not, e.g. ${JSON.stringify(notJson[0])}`,
    );
  }
  log('every service logs JSON lines');
  return { confirmedId: okId };
}

// counters exported only once something was counted, which the smoke does not make happen (a handler failing, a
// retry, a parked message, an email the SMTP server refused): their queries must be valid, not return data
const ONLY_AFTER_A_FAILURE = [
  'warren_messaging_failed_messages_total',
  'warren_messaging_retried_messages_total',
  'warren_messaging_dead_lettered_messages_total',
  'warren_emails_failed_total',
];

/** Every query of the Grafana dashboard, Grafana's interval variables filled as Grafana would for a short range. */
function dashboardQueries() {
  const dashboard = JSON.parse(readFileSync(join(ROOT, 'docker/observability/grafana/dashboards/warren.json'), 'utf8'));
  const out = [];
  const walk = (panels) => {
    for (const p of panels ?? []) {
      for (const t of p.targets ?? [])
        out.push({
          panel: p.title,
          refId: t.refId,
          promql: t.expr.replace(/\$__rate_interval|\$__interval|\$__range/g, '1m'),
        });
      walk(p.panels);
    }
  };
  walk(dashboard.panels);
  return out;
}

/** Tracing through the console (and Jaeger), Prometheus's targets and the dashboard's queries. */
async function observabilityChecks({ confirmedId }) {
  // the confirmed order's trace in the console, across the services that handled it
  const crossed = ['orders', 'inventory', 'payments', 'notifications'];
  await until(
    `the console to hold order ${confirmedId}'s trace across ${crossed.join(', ')}`,
    async () => {
      const res = await http('GET', `${url('CONSOLE_PORT')}/api/traces?orderId=${confirmedId}`);
      if (res.status !== 200) throw new Error(`GET /api/traces answered ${res.status}: ${JSON.stringify(res.body)}`);
      const services = new Set(res.body.traces.flatMap((t) => t.services));
      const missing = crossed.filter((s) => !services.has(s));
      if (missing.length) throw new Error(`${res.body.traces.length} traces, no span yet from ${missing.join(', ')}`);
      return true;
    },
    SETTLE_WITHIN_MS,
  );
  log(`the console holds order ${confirmedId}'s trace, across ${crossed.join(', ')}`);

  // every target Prometheus discovers in this profile is up: in `cluster` each of the three nodes serves both
  // broker jobs, and payments runs twice
  const prometheus = url('PROMETHEUS_UI_PORT');
  const jobs = ['analytics', 'broker', 'broker-per-object', 'inventory', 'notifications', 'orders', 'payments'];
  const perJob = (job) =>
    opts.profile === 'cluster' ? (job.startsWith('broker') ? 3 : job === 'payments' ? 2 : 1) : 1;
  await until(
    'Prometheus to scrape every target, each one up',
    async () => {
      const active = (await http('GET', `${prometheus}/api/v1/targets?state=active`)).body.data.activeTargets;
      const wrong = jobs.filter(
        (job) => active.filter((t) => t.labels.job === job && t.health === 'up').length !== perJob(job),
      );
      const down = active
        .filter((t) => t.health !== 'up')
        .map((t) => `${t.labels.job} ${t.labels.instance} ${t.health} ${t.lastError}`);
      if (wrong.length || down.length)
        throw new Error(
          `jobs without every target up: ${wrong.join(', ') || 'none'}; down: ${down.join('; ') || 'none'}`,
        );
      return true;
    },
    SETTLE_WITHIN_MS,
  );
  log(`Prometheus scrapes every target, all up (${jobs.map((j) => `${j} ${perJob(j)}`).join(', ')})`);

  // every query of the dashboard is valid, and each returns data except the failure counters'
  const queries = dashboardQueries();
  await until(
    'every dashboard query to answer',
    async () => {
      const problems = [];
      for (const q of queries) {
        const res = await http('GET', `${prometheus}/api/v1/query?query=${encodeURIComponent(q.promql)}`);
        if (res.body?.status !== 'success')
          problems.push(`${q.panel} ${q.refId}: invalid (${res.body?.error ?? res.status})`);
        else if (!res.body.data.result.length && !ONLY_AFTER_A_FAILURE.some((n) => q.promql.includes(n)))
          problems.push(`${q.panel} ${q.refId}: no data`);
      }
      if (problems.length) throw new Error(problems.join('; '));
      return true;
    },
    SETTLE_WITHIN_MS,
    2000,
  );
  log(`every one of the dashboard's ${queries.length} queries is valid and answers`);

  if (OBSERVABILITY !== 'observability') return;
  // Jaeger: the console passed the order's spans on
  await until(
    `Jaeger to hold order ${confirmedId}'s trace`,
    async () => {
      const tags = encodeURIComponent(JSON.stringify({ 'messaging.message.conversation_id': confirmedId }));
      const res = await http('GET', `${url('JAEGER_UI_PORT')}/api/traces?service=orders&tags=${tags}&limit=20`);
      if (res.status !== 200) throw new Error(`Jaeger's /api/traces answered ${res.status}`);
      return res.body.data?.length > 0 ? true : undefined;
    },
    SETTLE_WITHIN_MS,
  );
  log(`Jaeger holds order ${confirmedId}'s trace`);
  // Grafana: the provisioned dashboard, to a viewer who did not log in
  const search = await http('GET', `${url('GRAFANA_PORT')}/api/search?query=Warren`);
  expect(
    search.status === 200 && Array.isArray(search.body) && search.body.some((d) => d.uid === 'warren-overview'),
    `Grafana's /api/search (anonymous) should list the Warren dashboard; answered ${search.status}: ${JSON.stringify(search.body)}`,
  );
  log('Grafana serves the provisioned Warren dashboard anonymously');
}

const managementGet = async (path) => {
  const res = await fetch(`${url('MANAGEMENT_PORT')}${path}`, {
    headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` },
  });
  if (!res.ok) throw new Error(`GET ${path} on node 1's management API answered ${res.status}`);
  return res.json();
};
const containerOf = async (service) => (await containers()).find((c) => c.name === service);

/** Profile `cluster`: one cluster of three, quorum queues on every node, both payments instances consuming. */
async function clusterChecks() {
  const status = JSON.parse(
    await docker(
      'exec',
      (await containerOf('rabbitmq-1')).id,
      'rabbitmq-diagnostics',
      '-q',
      'cluster_status',
      '--formatter',
      'json',
    ),
  );
  const expected = CLUSTER_NODES.map((n) => `rabbit@${n}`).sort();
  expect(
    JSON.stringify([...status.running_nodes].sort()) === JSON.stringify(expected),
    `cluster_status on rabbitmq-1 should list ${expected.join(', ')} running; lists ${status.running_nodes.join(', ')}`,
  );
  log(`one cluster: ${expected.join(', ')} running`);
  const queues = (await managementGet('/api/queues/%2F')).filter((q) => q.durable && !q.exclusive && !q.auto_delete);
  expect(queues.length > 0, 'the services declared no durable queue');
  const notQuorum = queues.filter((q) => q.type !== 'quorum');
  expect(
    !notQuorum.length,
    `every durable queue should be a quorum queue (MESSAGING_QUEUE_TYPE=quorum); these are not: ${notQuorum.map((q) => `${q.name} (${q.type})`).join(', ')}`,
  );
  const notOnEveryNode = queues.filter(
    (q) => JSON.stringify([...(q.members ?? [])].sort()) !== JSON.stringify(expected),
  );
  expect(
    !notOnEveryNode.length,
    `every quorum queue should have a member on each node; not: ${notOnEveryNode.map((q) => `${q.name} (${(q.members ?? []).join(', ')})`).join(', ')}`,
  );
  log(`${queues.length} durable queues, all quorum queues with a member on each node`);
  await until(
    'both payments instances consuming',
    async () => {
      const consumed = (await managementGet('/api/queues/%2F')).filter(
        (q) => q.name.startsWith('payments.') && q.consumers > 0,
      );
      if (!consumed.length || consumed.some((q) => q.consumers !== 2))
        throw new Error(`consumers: ${consumed.map((q) => `${q.name} ${q.consumers}`).join(', ') || 'none'}`);
      return true;
    },
    SETTLE_WITHIN_MS,
  );
  log('every payments queue someone consumes has two consumers (both instances)');

  // a node stopped: the services on it reconnect to the others, and an order still goes through the saga
  const node = await containerOf('rabbitmq-3');
  await docker('stop', '-t', '30', node.id);
  const placed = await http('POST', `${url('ORDERS_PORT')}/orders`, {
    customerEmail: `smoke-node-down-${randomUUID().slice(0, 8)}@example.com`,
    items: [{ sku: 'SKU-003', quantity: 1 }],
  });
  expect(
    placed.status === 201,
    `POST /orders with rabbitmq-3 stopped answered ${placed.status}: ${JSON.stringify(placed.body)}`,
  );
  const settled = await until(
    `order ${placed.body.id} to settle with rabbitmq-3 stopped`,
    async () => {
      const o = (await http('GET', `${url('ORDERS_PORT')}/orders/${placed.body.id}`)).body;
      return o.status && o.status !== 'PENDING' ? o : undefined;
    },
    SETTLE_WITHIN_MS,
  );
  expect(
    settled.status === 'CONFIRMED',
    `order ${placed.body.id} placed with rabbitmq-3 stopped should be CONFIRMED, is ${settled.status}`,
  );
  log(`with rabbitmq-3 stopped, order ${placed.body.id} CONFIRMED`);
  await docker('start', node.id);
  await until(
    'rabbitmq-3 to be healthy again, in the cluster',
    async () => (await containerOf('rabbitmq-3')).health === 'healthy',
    HEALTHY_WITHIN_MS,
    1000,
  );
  const again = JSON.parse(
    await docker('exec', node.id, 'rabbitmq-diagnostics', '-q', 'cluster_status', '--formatter', 'json'),
  );
  expect(
    again.running_nodes.length === 3,
    `after its restart rabbitmq-3 should see 3 nodes running; sees ${again.running_nodes.join(', ')}`,
  );
  log('rabbitmq-3 started again and rejoined');
}

async function report() {
  for (const c of await containers()) {
    console.log(`--- ${c.name}: ${c.state}, health ${c.health}${c.healthLog ? ` (${c.healthLog})` : ''}`);
    console.log((await docker('logs', '--tail', '30', c.id).catch((e) => e.message)) || '(no output)');
  }
}

async function main() {
  log(`project ${project}, profile ${profiles}, ${composeBin} ${composePrefix.join(' ')}`.trim());
  const upStarted = Date.now();
  await compose(['up', '-d', ...(opts['no-build'] ? ['--no-build'] : ['--build'])]);
  log(`up in ${((Date.now() - upStarted) / 1000).toFixed(0)} s`);
  const list = await until(
    'every container to be healthy',
    async () => {
      const cs = await containers();
      // restart: unless-stopped turns a crash into `restarting`: any exit before healthy fails the run at once
      const crashed = cs.find((c) => ['exited', 'dead', 'restarting'].includes(c.state) || c.restarts > 0);
      if (crashed)
        throw Object.assign(
          new Error(
            `${crashed.name} exited (${crashed.state}, exit code ${crashed.exitCode}, ${crashed.restarts} restarts) before it was healthy`,
          ),
          { fatal: true },
        );
      return cs.length && cs.every(ready) ? cs : undefined;
    },
    HEALTHY_WITHIN_MS,
    1000,
  );
  const expected = expectedServices();
  expect(
    JSON.stringify(list.map((c) => c.name).sort()) === JSON.stringify(expected),
    `containers should be ${expected.join(', ')}; are ${list
      .map((c) => c.name)
      .sort()
      .join(', ')}`,
  );
  log(`all ${list.length} containers healthy in ${((Date.now() - upStarted) / 1000).toFixed(0)} s`);

  const placed = await smoke();
  if (OBSERVABILITY) await observabilityChecks(placed);
  if (opts.profile === 'cluster') await clusterChecks();

  // --- SIGTERM: every container stops cleanly within its grace period: 0, or 143 for a process that ends by its
  //     own SIGTERM. 137 is the SIGKILL after the grace period; 1 a service whose shutdown gave up.
  const stopStarted = Date.now();
  await compose(['stop'], { quiet: true });
  const stopped = await containers();
  const unclean = stopped.filter((c) => c.exitCode !== 0 && c.exitCode !== 143);
  expect(
    !unclean.length,
    `did not stop cleanly: ${unclean.map((c) => `${c.name} (exit ${c.exitCode}${c.exitCode === 137 ? ': SIGKILL after the grace period' : ''})`).join(', ')}`,
  );
  log(
    `stopped cleanly in ${((Date.now() - stopStarted) / 1000).toFixed(1)} s (exit codes: ${stopped.map((c) => `${c.name} ${c.exitCode}`).join(', ')})`,
  );
}

let failed = false;
try {
  await main();
} catch (err) {
  failed = true;
  console.error(`\ncompose-smoke (${profiles}) FAILED: ${err.message}\n`);
  await report().catch((e) => console.error(`could not report the containers: ${e.message}`));
} finally {
  if (!opts.keep) {
    await compose(['down', '-v', '--remove-orphans', '-t', '30'], { quiet: true }).catch((err) => {
      failed = true;
      console.error(err.message);
    });
    const left = {
      containers: await docker('ps', '-aq', '--filter', projectFilter),
      networks: await docker('network', 'ls', '-q', '--filter', projectFilter),
      volumes: await docker('volume', 'ls', '-q', '--filter', projectFilter),
    };
    const leftover = Object.entries(left).filter(([, ids]) => ids);
    if (leftover.length) {
      failed = true;
      console.error(
        `down -v left behind: ${leftover.map(([kind, ids]) => `${kind} ${ids.split('\n').join(' ')}`).join('; ')}`,
      );
    } else log('down -v: no container, network or volume left');
  }
}
log(failed ? 'FAILED' : `passed (${profiles})`);
process.exit(failed ? 1 : 0);
