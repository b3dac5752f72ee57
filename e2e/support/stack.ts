import { eventually as eventuallyWithin } from '../../tools/testing/eventually';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { Redis } from 'ioredis';
import { freePort } from '../../tools/testing/ports';
import { createTestDatabase } from '../../tools/testing/service-env';
import { deleteTopology } from '@warren/messaging/testing';
import { startTestRedis } from '../../tools/testing/redis';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');

export type ServiceName = 'orders' | 'inventory' | 'payments' | 'notifications' | 'analytics';
/** What a ServiceProcess can run: a service, or the SMTP capture. */
export type ProcessName = ServiceName | 'smtp-capture';

/** A running piece of the stack, a local process or a container: where it answers, and how to stop/start it. */
export interface ServiceHandle {
  readonly name: string;
  readonly url: string;
  start(timeoutMs?: number): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<void>;
  tail(chars?: number): string;
}

/** A broker a suite can take down and bring back with its data (the containers runtime's broker container). */
export interface PausableBroker {
  /** Stops it as `docker stop` does: SIGTERM, SIGKILL after the grace period. */
  pause(): Promise<void>;
  /** Starts it again with the data it had. */
  resume(): Promise<void>;
}

export type Runtime = 'local' | 'containers';
export type BrokerKind = 'bundled' | 'rabbitmq';

/** E2E_RUNTIME: `local` (default: child processes) or `containers` (testcontainers, support/containers.ts). */
export function runtime(): Runtime {
  const r = process.env.E2E_RUNTIME ?? 'local';
  if (r !== 'local' && r !== 'containers') throw new Error(`E2E_RUNTIME must be local or containers, got '${r}'`);
  return r;
}

export interface BrokerTarget {
  name: BrokerKind;
  /** The broker's URL (local runtime); in the containers runtime `container:<kind>`, and the stack starts that broker and sets stack.amqpUrl. */
  amqpUrl: string;
}

/**
 * The brokers a suite runs on (describe.each). E2E_BROKER=bundled|rabbitmq picks one; by default the bundled
 * broker (started by the global setup) and RabbitMQ too when RABBITMQ_URL is set.
 */
export function brokers(only?: BrokerKind): BrokerTarget[] {
  const wanted = process.env.E2E_BROKER;
  if (wanted !== undefined && wanted !== 'bundled' && wanted !== 'rabbitmq')
    throw new Error(`E2E_BROKER must be bundled or rabbitmq, got '${wanted}'`);
  if (runtime() === 'containers') {
    // no URL yet: `container:<kind>` tells support/containers.ts which broker image to start
    const kinds: BrokerKind[] = wanted ? [wanted] : ['bundled', 'rabbitmq'];
    return kinds.filter((k) => !only || k === only).map((name) => ({ name, amqpUrl: `container:${name}` }));
  }
  const bundled = process.env.WARREN_TEST_BROKER_URL;
  if (!bundled) throw new Error('WARREN_TEST_BROKER_URL is not set: run through jest -c e2e/jest.config.js');
  if (wanted === 'rabbitmq' && !process.env.RABBITMQ_URL)
    throw new Error('E2E_BROKER=rabbitmq needs RABBITMQ_URL (e.g. amqp://guest:guest@127.0.0.1:5672)');
  const all: BrokerTarget[] = [
    { name: 'bundled', amqpUrl: bundled },
    ...(process.env.RABBITMQ_URL ? [{ name: 'rabbitmq' as const, amqpUrl: process.env.RABBITMQ_URL }] : []),
  ];
  return all.filter((b) => (!wanted || b.name === wanted) && (!only || b.name === only));
}

/** The admin token every stack's services run with (ADMIN_TOKEN), and the header that sends it. */
export const ADMIN_TOKEN = `e2e-admin-${randomBytes(8).toString('hex')}`;
export const adminHeaders = { authorization: `Bearer ${ADMIN_TOKEN}` };

/** tools/testing's eventually, with the longer default wait processes need. */
export const eventually = <T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 30_000,
  everyMs = 50,
): Promise<T> => eventuallyWithin(what, check, timeoutMs, everyMs);

/**
 * Bundles each service once per process (a jest worker, a chaos run; as `npm run build` does, with
 * tools/scripts/bundle.mjs) into tmp/e2e/<service>.js, so the suites run the code the demo runs. Several
 * processes may bundle at once (chaos runs side by side): each writes into a directory of its own and renames the
 * files into place, so a service starting elsewhere never reads a half-written bundle.
 */
const bundled = new Map<ProcessName, string>();
export function bundleService(name: ProcessName): string {
  let out = bundled.get(name);
  if (!out) {
    const dir = path.join(ROOT, 'tmp', 'e2e');
    const staging = path.join(dir, `.staging-${process.pid}`);
    const staged = path.join(staging, `${name}.js`);
    execFileSync(
      process.execPath,
      [path.join(ROOT, 'tools/scripts/bundle.mjs'), `apps/${name}/src/main.ts`, path.relative(ROOT, staged)],
      { cwd: ROOT, stdio: 'inherit' },
    );
    out = path.join(dir, `${name}.js`);
    renameSync(`${staged}.map`, `${out}.map`); // same base name: the bundle's sourceMappingURL still finds it
    renameSync(staged, out);
    rmSync(staging, { recursive: true, force: true });
    bundled.set(name, out);
  }
  return out;
}

/** One service process. Its port is chosen up front, so a restart comes back on the same URL. */
export class ServiceProcess implements ServiceHandle {
  private child?: ChildProcess;
  private log?: WriteStream;
  readonly url: string;

  constructor(
    readonly name: ProcessName,
    readonly port: number,
    private readonly env: NodeJS.ProcessEnv,
    readonly logFile: string,
    private readonly args: string[] = [],
    private readonly healthPath = '/health',
    /** Flags for node itself (a benchmark's --cpu-prof: node refuses it in NODE_OPTIONS). */
    private readonly nodeArgs: string[] = [],
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Spawns the bundle and waits for GET /health to answer 200. */
  async start(timeoutMs = 30_000): Promise<void> {
    const entry = bundleService(this.name);
    this.log = createWriteStream(this.logFile, { flags: 'a' });
    const child = spawn(process.execPath, ['--enable-source-maps', ...this.nodeArgs, entry, ...this.args], {
      cwd: ROOT,
      env: { ...this.env, PORT: String(this.port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stdout!.pipe(this.log, { end: false });
    child.stderr!.pipe(this.log, { end: false });
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code, signal) =>
        reject(new Error(`${this.name} exited (${code ?? signal}) before it was healthy:\n${this.tail()}`)),
      ),
    );
    exited.catch(() => undefined);
    await Promise.race([
      exited,
      eventually(
        `${this.name} ${this.healthPath}`,
        async () => ((await fetch(`${this.url}${this.healthPath}`)).status === 200 ? true : undefined),
        timeoutMs,
        100,
      ),
    ]).catch((err: Error) => {
      throw new Error(`${err.message}\n--- ${this.name} log ---\n${this.tail()}`);
    });
  }

  /** SIGTERM (graceful: in-flight handlers finish, the outbox flushes) to this PID; SIGKILL after 15 s. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
    this.log?.end();
  }

  /** The end of the service's log, for failure messages. */
  tail(chars = 4000): string {
    try {
      return readFileSync(this.logFile, 'utf8').slice(-chars);
    } catch {
      return '';
    }
  }
}

export interface StackOptions {
  /** Which services to run (default: orders, inventory, payments). Redis comes with notifications/analytics. */
  services?: ServiceName[];
  /** Instances per service (default 1): `{ payments: 2 }` runs two competing payments consumers. */
  instances?: Partial<Record<ServiceName, number>>;
  /** Environment for one service only, on top of the shared one. */
  serviceEnv?: Partial<Record<ServiceName, NodeJS.ProcessEnv>>;
  /** Run the SMTP capture (default: when notifications runs). */
  smtp?: boolean;
  /**
   * `sqlite` (default): every instance keeps a database of its own (a SQLite file; a Postgres database per
   * instance in the containers runtime). `postgres`: one Postgres database per service that all its instances
   * share, as a service scaled out in production does (local runtime: created on DATABASE_URL's server).
   */
  database?: 'sqlite' | 'postgres';
  /** Flags for node itself, per service (local runtime). */
  nodeArgs?: Partial<Record<ServiceName, string[]>>;
}

/**
 * What the stack's SMTP capture keeps (its default is 1,000, oldest dropped first): the invariants read every email a
 * run sent, and a chaos run or a benchmark sends thousands.
 */
const SMTP_CAPTURE_MAX_MESSAGES = 200_000;

/** Start order: consumers of commands first, orders (which sends them) last. */
const START_ORDER: ServiceName[] = ['inventory', 'payments', 'notifications', 'analytics', 'orders'];

/**
 * Any subset of the services as child processes (local runtime) or containers (E2E_RUNTIME=containers) in one
 * WARREN_NAMESPACE against one broker, each with its own SQLite file in a temporary directory; Redis from
 * startTestRedis() and the SMTP capture on two free ports when notifications or analytics need them.
 */
export class Stack {
  readonly namespace = `e2e-${randomBytes(4).toString('hex')}`;
  readonly dir = mkdtempSync(path.join(tmpdir(), 'warren-e2e-'));
  /** The first instance of each service. */
  readonly services = {} as Record<ServiceName, ServiceHandle>;
  /** Every instance of each service (services[name] is instances[name][0]). */
  readonly instances = {} as Record<ServiceName, ServiceHandle[]>;
  smtp?: ServiceHandle;
  /** The stack's own broker, when it runs one (the containers runtime). */
  broker?: PausableBroker;
  redisUrl?: string;
  /** The PID of the stack's own redis-server (none when REDIS_URL names a shared one). */
  redisPid?: number;
  private stopRedis?: () => Promise<void>;
  /** Whether Redis is a shared server (REDIS_URL) whose keys the teardown deletes, rather than the stack's own. */
  private redisShared = false;
  private stopRuntime?: () => Promise<void>;
  readonly options: Required<Pick<StackOptions, 'services' | 'instances' | 'serviceEnv' | 'database' | 'nodeArgs'>> & {
    smtp: boolean;
  };
  /** Drops the Postgres databases the stack created (local runtime, `database: 'postgres'`). */
  private readonly dropDatabases: Array<() => Promise<void>> = [];

  constructor(
    public amqpUrl: string,
    readonly extraEnv: NodeJS.ProcessEnv = {},
    options: StackOptions = {},
  ) {
    const services = options.services ?? ['orders', 'inventory', 'payments'];
    this.options = {
      services,
      instances: options.instances ?? {},
      serviceEnv: options.serviceEnv ?? {},
      smtp: options.smtp ?? services.includes('notifications'),
      database: options.database ?? 'sqlite',
      nodeArgs: options.nodeArgs ?? {},
    };
  }

  get needsRedis(): boolean {
    return this.options.services.some((s) => s === 'notifications' || s === 'analytics');
  }

  async start(): Promise<void> {
    if (runtime() === 'containers') {
      const { startContainers } = await import('./containers');
      this.stopRuntime = await startContainers(this);
      return;
    }
    if (this.options.database === 'postgres' && !process.env.DATABASE_URL)
      throw new Error(
        "a stack with database: 'postgres' needs DATABASE_URL (a Postgres server the test may create databases on)",
      );
    mkdirSync(path.join(this.dir, 'data'), { recursive: true });
    if (this.needsRedis) {
      const redis = await startTestRedis();
      this.redisUrl = redis.url;
      this.stopRedis = () => redis.stop();
      this.redisShared = redis.shared;
      this.redisPid = redis.pid;
    }
    if (this.options.smtp) {
      const [smtpPort, httpPort] = [await freePort(), await freePort()];
      this.smtp = new ServiceProcess(
        'smtp-capture',
        httpPort,
        { ...process.env, NO_COLOR: '1' },
        path.join(this.dir, 'smtp-capture.log'),
        [
          '--host',
          '127.0.0.1',
          '--smtp-port',
          String(smtpPort),
          '--http-port',
          String(httpPort),
          '--max-messages',
          String(SMTP_CAPTURE_MAX_MESSAGES),
        ],
        '/api/v1/messages',
      );
      await this.smtp.start();
      this.extraEnv.SMTP_URL ??= `smtp://127.0.0.1:${smtpPort}`;
    }
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ADMIN_TOKEN,
      ...this.extraEnv,
      WARREN_NAMESPACE: this.namespace,
      WARREN_DATA_DIR: path.join(this.dir, 'data'),
      AMQP_URL: this.amqpUrl,
      NO_COLOR: '1',
      ...(this.redisUrl ? { REDIS_URL: this.redisUrl } : {}),
    };
    const server = env.DATABASE_URL;
    delete env.DATABASE_URL; // each service keeps its own SQLite file here, or gets a Postgres database below
    delete env.DATABASE_SCHEMA;
    for (const name of START_ORDER.filter((n) => this.options.services.includes(n))) {
      const count = this.options.instances[name] ?? 1;
      this.instances[name] = [];
      let databaseUrl: string | undefined;
      if (this.options.database === 'postgres' && name !== 'analytics') {
        const database = await createTestDatabase(server!, `e2e_${name}`);
        this.dropDatabases.push(database.drop);
        databaseUrl = database.url;
      }
      for (let i = 0; i < count; i++) {
        const label = count > 1 ? `${name}-${i + 1}` : name;
        // two instances of one service share the queue, and the Postgres database if there is one, but not a SQLite file
        const dataDir = path.join(this.dir, 'data', label);
        mkdirSync(dataDir, { recursive: true });
        const own = {
          WARREN_DATA_DIR: dataDir,
          WARREN_INSTANCE: label,
          ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
        };
        this.instances[name].push(
          new ServiceProcess(
            name,
            await freePort(),
            { ...env, ...this.options.serviceEnv[name], ...own },
            path.join(this.dir, `${label}.log`),
            [],
            '/health',
            this.options.nodeArgs[name],
          ),
        );
      }
      this.services[name] = this.instances[name][0];
    }
    // consumers first, so the first commands and events find their queues
    const first = START_ORDER.filter((n) => n !== 'orders' && this.instances[n]);
    await Promise.all(first.flatMap((n) => this.instances[n].map((s) => s.start())));
    if (this.instances.orders) await Promise.all(this.instances.orders.map((s) => s.start()));
  }

  /** Every instance, in no particular order. */
  all(): ServiceHandle[] {
    return Object.values(this.instances).flat();
  }

  async stop(): Promise<void> {
    if (this.stopRuntime) return this.stopRuntime();
    await Promise.all(this.all().map((s) => s.stop()));
    await this.smtp?.stop();
    await this.stopRedis?.();
  }

  /** Stops what is still running, deletes the namespace's queues/exchanges and Redis keys, and the temp dir. */
  async teardown(extraQueues: string[] = []): Promise<void> {
    await this.stop();
    if (runtime() === 'local') await deleteNamespace(this.amqpUrl, this.namespace, extraQueues);
    // the stack's own redis-server went with stop(): only a shared one keeps the namespace's keys
    if (this.redisUrl && this.redisShared && runtime() === 'local')
      await deleteRedisKeys(this.redisUrl, this.namespace).catch(() => undefined);
    for (const drop of this.dropDatabases.splice(0)) await drop();
    this.remove();
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  url(name: ServiceName): string {
    return this.services[name].url;
  }

  /** Where the console finds this stack's services and the SMTP capture (its *_URL variables). */
  consoleEnv(): Record<string, string> {
    return {
      ORDERS_URL: this.url('orders'),
      PAYMENTS_URL: this.url('payments'),
      INVENTORY_URL: this.url('inventory'),
      NOTIFICATIONS_URL: this.url('notifications'),
      ANALYTICS_URL: this.url('analytics'),
      MAIL_URL: this.mailUrl,
    };
  }

  /** The SMTP capture's Mailpit-compatible HTTP API. */
  get mailUrl(): string {
    if (!this.smtp) throw new Error('this stack runs no SMTP capture');
    return this.smtp.url;
  }

  logs(): string {
    return [...this.all(), ...(this.smtp ? [this.smtp] : [])]
      .map((s) => `--- ${s.name} ---\n${s.tail(3000)}`)
      .join('\n');
  }
}

/** Deletes the Redis keys a namespace's services wrote (analytics:<ns>.…, bull:<ns>.…). */
export async function deleteRedisKeys(url: string, namespace: string): Promise<void> {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    for (const pattern of [`analytics:${namespace}.*`, `bull:${namespace}.*`, `*${namespace}*`]) {
      let cursor = '0';
      do {
        const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
        cursor = next;
        if (keys.length) await client.del(...keys);
      } while (cursor !== '0');
    }
  } finally {
    client.disconnect();
  }
}

/** JSON over HTTP: the status and the parsed body (the text when it is not JSON). */
export async function http(
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the suites read the services' JSON as they document it
): Promise<{ status: number; body: any }> {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body: parsed };
}

/** The queues every service declares (docs/architecture.md, Messaging topology), without the namespace. */
export const SERVICE_QUEUES = [
  'orders.saga',
  'inventory.commands',
  'payments.commands',
  'orders.rpc',
  'inventory.rpc',
  'payments.rpc',
  'notifications.order-events',
  'notifications.rpc',
  'analytics.clickstream',
  'analytics.rpc',
];

/**
 * Deletes what a stack declared on a shared broker (RabbitMQ): the services' work queues (docs/architecture.md,
 * Messaging topology: `<service>.<purpose>`), with their retry and DLQ companions, the observer's queue, and the
 * exchanges.
 */
export async function deleteNamespace(url: string, namespace: string, extraQueues: string[] = []): Promise<void> {
  await deleteTopology(url, {
    queues: [...SERVICE_QUEUES, ...extraQueues].map((q) => `${namespace}.${q}`),
    exchanges: ['warren.events', 'warren.commands'].map((e) => `${namespace}.${e}`),
  });
}
