// `npm run demo`: the whole platform on one machine, with one command. On a fresh clone it installs the
// dependencies, makes sure Redis is reachable (REDIS_URL, one already on localhost:6379, a redis-server it
// starts itself, or Debian's package when it runs as root), bundles everything, starts the bundled broker, the
// SMTP capture and the five services, waits until every /health is green, prints the URLs, and on Ctrl-C stops
// everything it started. Child output goes to .data/logs/<name>.log. The services listen on loopback only
// (HOST=127.0.0.1), and their admin routes take a token made for this run (ADMIN_TOKEN, else random), written to
// .data/admin-token (mode 0600) for `npm run demo:traffic` and curl.
// Every child is supervised (lib/supervisor.mjs): one that dies is started again with a log line while the rest
// keeps running. The control API (lib/demo-control.mjs, loopback, the admin token) lets the console kill,
// stop, restart and add processes. DEMO_DATA_DIR moves .data (the demo's own tests use it).
// AMQP_URL set: the demo uses that broker (RabbitMQ, say, or a cluster as a comma-separated list of its nodes)
// instead of starting the bundled one, and the console reads it through AMQP_MANAGEMENT_URL (default: the first
// node's host and credentials on port 15672).
// `--instances N` runs N instances of every service. The services export their spans to the console's OTLP
// receiver (OTEL_* set for each; see tracingEnv) unless the user set OTEL_* themselves or passed --no-tracing. DATABASE_URL set (postgres://…): every service gets a
// database of its own on that server (<database>_<service>, created when missing) that all its instances share,
// as in production; unset, every instance keeps its own SQLite file, so instances of one service do not share
// their state (the demo says so).
// Only node: built-ins at the top level, because node_modules may not exist yet.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startControlApi } from './lib/demo-control.mjs';
import { Supervisor } from './lib/supervisor.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dataDir = process.env.DEMO_DATA_DIR ? resolve(process.env.DEMO_DATA_DIR) : join(root, '.data');
const logDir = join(dataDir, 'logs');
const adminTokenFile = join(dataDir, 'admin-token');
const env = process.env;
const port = (name, fallback) => Number(env[name] ?? fallback);

/** A broker of the user's (AMQP_URL: one URL, or a cluster's nodes comma-separated), with its management API. */
const brokerUrls = (env.AMQP_URL ?? '')
  .split(',')
  .map((u) => u.trim())
  .filter(Boolean);
const externalBroker = brokerUrls.length
  ? {
      amqpUrl: brokerUrls.join(','),
      urls: brokerUrls,
      managementUrl: env.AMQP_MANAGEMENT_URL || managementUrlOf(brokerUrls[0]),
    }
  : undefined;

function managementUrlOf(amqpUrl) {
  const u = new URL(amqpUrl);
  return `http://${u.username || 'guest'}:${u.password || 'guest'}@${u.hostname}:15672`;
}

const ports = {
  broker: { port: port('BROKER_PORT', 5672), variable: 'BROKER_PORT' },
  management: { port: port('MANAGEMENT_PORT', 15672), variable: 'MANAGEMENT_PORT' },
  prometheus: { port: port('PROMETHEUS_PORT', 15692), variable: 'PROMETHEUS_PORT' },
  smtp: { port: port('SMTP_PORT', 1025), variable: 'SMTP_PORT' },
  smtpHttp: { port: port('SMTP_HTTP_PORT', 8025), variable: 'SMTP_HTTP_PORT' },
  orders: { port: port('ORDERS_PORT', 3001), variable: 'ORDERS_PORT' },
  payments: { port: port('PAYMENTS_PORT', 3002), variable: 'PAYMENTS_PORT' },
  inventory: { port: port('INVENTORY_PORT', 3003), variable: 'INVENTORY_PORT' },
  notifications: { port: port('NOTIFICATIONS_PORT', 3004), variable: 'NOTIFICATIONS_PORT' },
  analytics: { port: port('ANALYTICS_PORT', 3005), variable: 'ANALYTICS_PORT' },
  control: { port: port('DEMO_CONTROL_PORT', 8090), variable: 'DEMO_CONTROL_PORT' },
  console: { port: port('CONSOLE_PORT', 8080), variable: 'CONSOLE_PORT' },
};

const services = [
  { name: 'inventory', entry: 'apps/inventory/src/main.ts', path: '/stock', note: 'stock levels' },
  {
    name: 'payments',
    entry: 'apps/payments/src/main.ts',
    path: '/payments',
    note: 'ledger; gateway settings: PUT /admin/gateway',
  },
  { name: 'orders', entry: 'apps/orders/src/main.ts', path: '/orders', note: 'API docs: /docs' },
  {
    name: 'notifications',
    entry: 'apps/notifications/src/main.ts',
    path: '/notifications',
    note: 'sent emails; queue UI: /queues',
  },
  { name: 'analytics', entry: 'apps/analytics/src/main.ts', path: '/stats', note: 'live: /stats/stream' },
];

/** `--instances N`: how many instances of every service (default 1); `--no-tracing`: the services export no spans. */
function readArgs() {
  let values;
  try {
    ({ values } = parseArgs({
      args: process.argv.slice(2),
      options: { instances: { type: 'string' }, 'no-tracing': { type: 'boolean' } },
      strict: true,
    }));
  } catch (err) {
    console.error(`demo: ${err.message}\nusage: npm run demo [-- --instances N] [--no-tracing]`);
    process.exit(2);
  }
  const n = Number(values.instances ?? 1);
  if (!Number.isInteger(n) || n < 1 || n > 8) {
    console.error(`demo: --instances must be a whole number from 1 to 8, got '${values.instances}'`);
    process.exit(2);
  }
  return { instances: n, tracing: !values['no-tracing'] };
}
const { instances, tracing } = readArgs();

/** The OTEL_* variables of the user's environment: when there is one, the user is telling the SDK where to export. */
const userOtel = Object.keys(env).filter((k) => k.startsWith('OTEL_'));

/**
 * A service's tracing settings, for the OpenTelemetry SDK every service starts from the standard OTEL_* variables.
 * By default its spans go to the console's OTLP receiver, as OTLP/HTTP JSON (the only encoding the console reads),
 * in batches every second rather than the SDK's five, so a waterfall fills while one watches. A user who set any
 * OTEL_* variable chose an exporter: theirs are passed on as they are, and only the service's name is added when
 * they did not set one (one name for every service would make one service of five). --no-tracing removes every
 * OTEL_* variable, the user's too: with none, the services start no SDK at all.
 */
function tracingEnv(service) {
  if (!tracing) return Object.fromEntries(userOtel.map((k) => [k, undefined])); // undefined: spawn leaves the variable out
  const name = env.OTEL_SERVICE_NAME ? {} : { OTEL_SERVICE_NAME: service };
  if (userOtel.length) return name;
  return {
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://127.0.0.1:${ports.console.port}/v1/traces`,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_BSP_SCHEDULE_DELAY: '1000',
    ...name,
  };
}

/** The services that keep a database (analytics keeps its counters in Redis). */
const withDatabase = new Set(['orders', 'payments', 'inventory', 'notifications']);

const supervisor = new Supervisor({ logDir });
let controlServer;
let stopping = false;

const fail = (line) => {
  console.error(`demo: ${line}`);
  return stop(1);
};

async function main() {
  if (!existsSync(join(root, 'node_modules', 'esbuild'))) {
    console.log('demo: installing dependencies (npm ci)…');
    const install = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
    if (install.status !== 0) process.exit(install.status ?? 1);
  }
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => void stop(0));

  const brokerPorts = ['broker', 'management', 'prometheus'];
  for (const [name, { port: p, variable }] of Object.entries(ports)) {
    if (externalBroker && brokerPorts.includes(name)) continue;
    if (!(await isFree(p))) return fail(`port ${p} (${name}) is taken; set ${variable} to a free port`);
  }
  if (externalBroker) {
    let answering = 0;
    for (const url of externalBroker.urls) {
      let u;
      try {
        u = new URL(url);
      } catch {
        return fail(
          `AMQP_URL holds '${redact(url)}', which is not a URL (one amqp:// URL, or several separated by commas)`,
        );
      }
      if (await answersTcp(u.hostname, Number(u.port || 5672))) answering++;
    }
    // one node of a cluster may be down: the services try the others in turn
    if (answering === 0)
      return fail(
        `AMQP_URL (${redactList(externalBroker.amqpUrl)}) does not answer; unset it to use the bundled broker`,
      );
  }
  const redisUrl = await ensureRedis();
  if (!redisUrl) return;
  const databases = await ensureDatabases();
  if (!databases) return;

  console.log('demo: bundling the broker, the SMTP capture and the services…');
  const { bundle } = await import('./bundle.mjs');
  const bundles = {};
  for (const [name, entry] of [
    ['broker', 'apps/broker/src/main.ts'],
    ['smtp-capture', 'apps/smtp-capture/src/main.ts'],
    ['console', 'apps/console/src/main.ts'],
    ...services.map((s) => [s.name, s.entry]),
  ]) {
    bundles[name] = await bundle(entry, `dist/apps/${name}/main.js`);
  }
  // the console's web app, next to its server's bundle (dist/apps/console/web)
  const vite = spawnSync(
    process.execPath,
    [join(root, 'node_modules/vite/bin/vite.js'), 'build', '-c', 'apps/console/vite.config.ts', '--logLevel', 'error'],
    { cwd: root, stdio: 'inherit' },
  );
  if (vite.status !== 0) return fail("building the console's web app failed (see above)");
  mkdirSync(logDir, { recursive: true });

  const brokerArgs = [
    '--port',
    String(ports.broker.port),
    '--management-port',
    String(ports.management.port),
    '--prometheus-port',
    String(ports.prometheus.port),
    '--data-dir',
    join(dataDir, 'broker'),
  ];
  if (!externalBroker) await start('broker', bundles.broker, brokerArgs, {}, /listening on amqp:/);
  await start(
    'smtp-capture',
    bundles['smtp-capture'],
    ['--smtp-port', String(ports.smtp.port), '--http-port', String(ports.smtpHttp.port)],
    {},
    /http listening on/,
  );
  const adminToken = writeAdminToken();
  const shared = {
    AMQP_URL: externalBroker?.amqpUrl ?? `amqp://guest:guest@localhost:${ports.broker.port}`,
    REDIS_URL: redisUrl,
    SMTP_URL: `smtp://localhost:${ports.smtp.port}`,
    WARREN_DATA_DIR: dataDir,
    // loopback only: the demo's admin token guards the admin routes, but nobody else needs to reach them
    HOST: '127.0.0.1',
    ADMIN_TOKEN: adminToken,
  };
  // WARREN_INSTANCE names each instance's broker connection (and payments' captures): the service's name, then <service>-2 …
  // DATABASE_URL: the service's own database on that server (all its instances share it); unset: SQLite in WARREN_DATA_DIR
  const databaseEnv = (service) => (databases[service] ? { DATABASE_URL: databases[service] } : { DATABASE_URL: '' });
  for (const s of services)
    await start(
      s.name,
      bundles[s.name],
      [],
      {
        ...shared,
        ...databaseEnv(s.name),
        ...tracingEnv(s.name),
        PORT: String(ports[s.name].port),
        WARREN_INSTANCE: s.name,
      },
      undefined,
      { url: `http://127.0.0.1:${ports[s.name].port}` },
    );

  console.log('demo: waiting for every /health…');
  await Promise.all(services.map((s) => waitForHealth(s.name, `http://127.0.0.1:${ports[s.name].port}/health`)));
  if (stopping) return;

  // more instances of a service on request (competing consumers): a free port and a data dir of their own
  const addInstance = async (service) => {
    let n = 2;
    while (supervisor.get(`${service}-${n}`)) n++;
    const name = `${service}-${n}`;
    const instancePort = await freePort();
    const url = `http://127.0.0.1:${instancePort}`;
    mkdirSync(join(dataDir, name), { recursive: true });
    await supervisor.start({
      name,
      command: process.execPath,
      args: ['--enable-source-maps', bundles[service]],
      env: {
        ...env,
        ...shared,
        ...databaseEnv(service),
        ...tracingEnv(service),
        PORT: String(instancePort),
        WARREN_DATA_DIR: join(dataDir, name),
        WARREN_INSTANCE: name,
      },
      cwd: root,
      url,
      removable: true,
    });
    if (!(await healthyWithin(`${url}/health`, 60_000))) {
      await supervisor.remove(name);
      throw new Error(`${name} was not healthy within 60 s; stopped it (see ${join(logDir, `${name}.log`)})`);
    }
    console.log(`demo: started ${name} on ${url}`);
    return { name, url };
  };
  controlServer = await startControlApi({
    supervisor,
    token: adminToken,
    port: ports.control.port,
    scalable: services.map((s) => s.name),
    addInstance,
  });
  // --instances N: the others, every service at once (each waits for its own /health)
  if (instances > 1) {
    console.log(`demo: starting ${instances - 1} more instance(s) of every service…`);
    try {
      for (let n = 2; n <= instances; n++) await Promise.all(services.map((s) => addInstance(s.name)));
    } catch (err) {
      return fail(err.message);
    }
    if (stopping) return;
  }

  // the console last: it reads everything above through public interfaces only
  const consoleUrl = `http://127.0.0.1:${ports.console.port}`;
  await start(
    'console',
    bundles.console,
    [],
    {
      CONSOLE_PORT: String(ports.console.port),
      HOST: '127.0.0.1',
      AMQP_MANAGEMENT_URL: externalBroker?.managementUrl ?? `http://guest:guest@127.0.0.1:${ports.management.port}`,
      AMQP_URL: shared.AMQP_URL,
      ...Object.fromEntries(
        services.map((s) => [`${s.name.toUpperCase()}_URL`, `http://127.0.0.1:${ports[s.name].port}`]),
      ),
      MAIL_URL: `http://127.0.0.1:${ports.smtpHttp.port}`,
      DEMO_CONTROL_URL: `http://127.0.0.1:${ports.control.port}`,
      ADMIN_TOKEN: adminToken,
    },
    undefined,
    { url: consoleUrl },
  );
  await waitForHealth('console', `${consoleUrl}/api/health`);
  if (stopping) return;

  const rows = [
    ['console', `http://localhost:${ports.console.port}`, 'start here: the platform live, and controls to break it'],
    ...services.map((s) => [s.name, `http://localhost:${ports[s.name].port}${s.path}`, s.note]),
    ['emails', `http://localhost:${ports.smtpHttp.port}`, 'captured emails (Mailpit API: /api/v1/messages)'],
    ...(externalBroker
      ? [
          [
            'broker',
            redactList(externalBroker.amqpUrl),
            `your broker${externalBroker.urls.length > 1 ? ` (${externalBroker.urls.length} nodes)` : ''} (AMQP_URL); its management API: ${redact(externalBroker.managementUrl)}`,
          ],
        ]
      : [
          [
            'management',
            `http://localhost:${ports.management.port}/api/overview`,
            "the broker's management API, RabbitMQ's (guest / guest)",
          ],
          [
            'metrics',
            `http://localhost:${ports.prometheus.port}/metrics`,
            "the broker's Prometheus metrics, rabbitmq_prometheus's names",
          ],
          ['broker', `amqp://guest:guest@localhost:${ports.broker.port}`, 'the bundled AMQP broker'],
        ]),
    [
      'control',
      `http://127.0.0.1:${ports.control.port}/processes`,
      "the demo's processes: kill, restart, add instances (admin token)",
    ],
    !tracing
      ? ['traces', 'off', '--no-tracing: the services export no spans']
      : userOtel.length
        ? ['traces', 'your OTEL_* settings', `the services export as you set (${userOtel.join(', ')})`]
        : [
            'traces',
            `http://localhost:${ports.console.port}/v1/traces`,
            "the services' spans (OTLP/HTTP JSON), shown in the console's Orders tab; --no-tracing turns it off",
          ],
    ['redis', redisUrl, ''],
    Object.keys(databases).length
      ? [
          'database',
          redact(env.DATABASE_URL),
          `Postgres: one database per service, shared by its instances (${Object.values(databases)
            .map((u) => new URL(u).pathname.slice(1))
            .join(', ')})`,
        ]
      : [
          'database',
          join(dataDir, '<instance>'),
          'SQLite: one file per instance; set DATABASE_URL (postgres://…) for one database per service',
        ],
  ];
  const width = Math.max(...rows.map((r) => r[1].length));
  console.log('\nWarren is running:\n');
  for (const [name, url, note] of rows) console.log(`  ${name.padEnd(14)}${url.padEnd(width + 3)}${note}`);
  console.log(
    `\nPlace an order:\n  curl -s -X POST localhost:${ports.orders.port}/orders -H 'content-type: application/json' \\\n    -d '{"customerEmail":"ada@example.com","items":[{"sku":"SKU-001","quantity":2}]}'`,
  );
  console.log(`Admin routes (PUT /admin/gateway, /notifications/failed/…/retry, /queues): token ${adminToken}`);
  console.log(
    `  (in .data/admin-token; curl -H "authorization: Bearer $(cat .data/admin-token)" …; Bull Board asks for it as the password)`,
  );
  if (instances > 1) {
    console.log(
      `Instances: ${instances} of every service (payments, payments-2, …); the control URL lists each one's URL`,
    );
    if (!Object.keys(databases).length) {
      console.log(
        '  SQLite: each instance has a database of its own, so instances of one service do not share their outbox, inbox or saga state: set DATABASE_URL (postgres://…) to see them behave as one service',
      );
    }
  }
  console.log(
    `Send clicks:  npm run traffic:clicks -- --rate 50 --duration 30\nLogs: .data/logs/   ·   Ctrl-C stops everything\n`,
  );
}

/** A comma-separated list of URLs without their passwords. */
function redactList(list) {
  return list
    .split(',')
    .map((u) => redact(u))
    .join(',');
}

/**
 * DATABASE_URL (postgres://…) set: a database per service on that server, `<database>_<service>`, created when
 * missing; returns service → URL. Unset: {} (SQLite). undefined when the server cannot be used (the demo stops).
 */
async function ensureDatabases() {
  if (!env.DATABASE_URL) return {};
  let base;
  try {
    base = new URL(env.DATABASE_URL);
  } catch {
    await fail('DATABASE_URL is not a URL (postgres://user:password@host:5432/database)');
    return undefined;
  }
  if (!/^postgres(ql)?:$/.test(base.protocol)) {
    await fail(`DATABASE_URL must be a postgres:// URL, got ${base.protocol}//…`);
    return undefined;
  }
  const prefix = decodeURIComponent(base.pathname.slice(1)) || 'warren';
  if (!/^[a-z_][a-z0-9_]*$/i.test(prefix)) {
    await fail(
      `DATABASE_URL's database name '${prefix}' must be letters, digits and underscores (the demo creates ${prefix}_<service> beside it)`,
    );
    return undefined;
  }
  const { default: pg } = await import('pg');
  const urls = {};
  let client;
  try {
    client = await connectPostgres(pg, base);
    for (const service of withDatabase) {
      const name = `${prefix}_${service}`.toLowerCase();
      const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${name}`);
      const url = new URL(base);
      url.pathname = `/${name}`;
      urls[service] = url.toString();
    }
  } catch (err) {
    await fail(`DATABASE_URL (${redact(env.DATABASE_URL)}): ${err.message}`);
    return undefined;
  } finally {
    await client?.end().catch(() => undefined);
  }
  return urls;
}

/** A client on DATABASE_URL's server: its own database, or the server's `postgres` database when that one does not exist yet. */
async function connectPostgres(pg, url) {
  const client = new pg.Client({ connectionString: url.toString(), connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    return client;
  } catch (err) {
    await client.end().catch(() => undefined);
    if (err.code !== '3D000') throw err; // 3D000: invalid_catalog_name, no such database
    const maintenance = new URL(url);
    maintenance.pathname = '/postgres';
    const fallback = new pg.Client({ connectionString: maintenance.toString(), connectionTimeoutMillis: 5000 });
    await fallback.connect();
    return fallback;
  }
}

/** A URL without its password, for printing. */
function redact(url) {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString().replace(/\/$/, '');
}

/** ADMIN_TOKEN when the user set one, else a new random token; written to .data/admin-token, readable by the user only. */
function writeAdminToken() {
  const token = env.ADMIN_TOKEN || randomBytes(24).toString('base64url');
  mkdirSync(dataDir, { recursive: true });
  // a new file each run: `mode` applies only when the file is created, and an old one may have another mode
  rmSync(adminTokenFile, { force: true });
  writeFileSync(adminTokenFile, `${token}\n`, { mode: 0o600, flag: 'wx' });
  return token;
}

/** REDIS_URL if it answers; one on localhost:6379; a redis-server we start; Debian's package when root. */
async function ensureRedis() {
  if (env.REDIS_URL) {
    const u = new URL(env.REDIS_URL);
    if (await answersPing(u.hostname, Number(u.port || 6379))) return env.REDIS_URL;
    await fail(`REDIS_URL (${env.REDIS_URL}) does not answer`);
    return undefined;
  }
  if (await answersPing('127.0.0.1', 6379)) return 'redis://localhost:6379';
  if (!hasCommand('redis-server') && process.getuid?.() === 0 && hasCommand('apt-get')) {
    console.log('demo: installing redis-server (apt-get)…');
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'redis-server'], {
      stdio: 'inherit',
      env: { ...env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  }
  if (!hasCommand('redis-server')) {
    await fail(
      'Redis is needed: install redis-server (Debian/Ubuntu: sudo apt-get install redis-server) or set REDIS_URL',
    );
    return undefined;
  }
  const redisPort = port('REDIS_PORT', 6379);
  if (!(await isFree(redisPort))) {
    await fail(`port ${redisPort} (redis) is taken by something that is not Redis; set REDIS_URL or REDIS_PORT`);
    return undefined;
  }
  await start(
    'redis',
    'redis-server',
    ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {},
    /Ready to accept connections/i,
    { node: false },
  );
  return `redis://localhost:${redisPort}`;
}

/**
 * Starts a supervised child with its output in .data/logs/<name>.log; with `ready`, waits until a line matches
 * it. If it dies before it is ready, the demo stops with the reason.
 */
function start(name, script, args, extraEnv, ready, { node = true, url, removable = false } = {}) {
  const spec = {
    name,
    command: node ? process.execPath : script,
    args: node ? ['--enable-source-maps', script, ...args] : args,
    env: { ...env, ...extraEnv },
    cwd: root,
    ready,
    url,
    removable,
  };
  return supervisor.start(spec).catch((err) => fail(err.message));
}

/** Polls url until it answers 200; false after ms. */
async function healthyWithin(url, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline && !stopping) {
    if (
      await fetch(url).then(
        (r) => r.status === 200,
        () => false,
      )
    )
      return true;
    await new Promise((r) => setTimeout(r, 300));
  }
  return false;
}

async function waitForHealth(name, url) {
  const deadline = Date.now() + 120_000;
  while (!stopping) {
    const ok = await fetch(url).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline) return fail(`${name} is not healthy after 120 s (${url}); see .data/logs/${name}.log`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** Stops the services first, then the SMTP capture, the broker and Redis, the console last: every child we started, by PID. */
async function stop(code) {
  if (stopping) return;
  stopping = true;
  controlServer?.close();
  if (supervisor.children.size) console.log('\ndemo: stopping…');
  // the console last, though it started last: a service sends its last spans to the console's receiver as it
  // stops, and an exporter whose receiver is gone retries until its timeout (10 s), past the grace period
  const consoleChild = supervisor.get('console');
  supervisor.stopping = true;
  for (const child of [...supervisor.children.values()].reverse()) if (child !== consoleChild) await child.stop();
  await supervisor.stopAll();
  process.exit(code);
}

/** A free TCP port on loopback, asked of the OS. */
function freePort() {
  return new Promise((resolveFree, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port: p } = server.address();
      server.close(() => resolveFree(p));
    });
  });
}

function isFree(p) {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(p, () => server.close(() => resolve(true)));
  });
}

/** Connects to host:p; with `send`, writes it and answers whether the reply matches `expect`; false on no answer. */
function answers(host, p, { send, expect } = {}) {
  return new Promise((resolve) => {
    const socket = connect(p, host);
    const done = (v) => {
      socket.destroy();
      resolve(v);
    };
    socket.setTimeout(2000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => (send ? socket.write(send) : done(true)));
    socket.on('data', (d) => done(expect.test(d.toString())));
  });
}

const answersTcp = (host, p) => answers(host, p);
const answersPing = (host, p) => answers(host, p, { send: 'PING\r\n', expect: /^\+PONG/ });

function hasCommand(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

await main();
