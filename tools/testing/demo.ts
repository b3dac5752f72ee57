// `npm run demo` as a test fixture: the whole platform as a user runs it (tools/scripts/demo.mjs), on free ports,
// with a data dir of its own and the suite's Redis; on the bundled broker, or on a broker of the caller's
// (AMQP_URL, e.g. the CI's RabbitMQ) under a namespace of its own. stop() is Ctrl-C: the demo stops every
// child it started.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { eventually } from './eventually';
import { freePort } from './ports';
import { startTestRedis, type TestRedis } from './redis';

const ROOT = path.resolve(__dirname, '../..');
const PORT_VARS = [
  'BROKER_PORT',
  'MANAGEMENT_PORT',
  'PROMETHEUS_PORT',
  'SMTP_PORT',
  'SMTP_HTTP_PORT',
  'ORDERS_PORT',
  'PAYMENTS_PORT',
  'INVENTORY_PORT',
  'NOTIFICATIONS_PORT',
  'ANALYTICS_PORT',
  'DEMO_CONTROL_PORT',
  'CONSOLE_PORT',
] as const;

export interface DemoOptions {
  /** A broker of the caller's instead of the bundled one (AMQP_URL: one URL or a comma-separated list), with its management API. */
  broker?: { amqpUrl: string; managementUrl: string };
  /** Arguments after `npm run demo --`, e.g. ['--instances', '2']. */
  args?: string[];
  /** DATABASE_URL for the demo (Postgres); unset, the services keep SQLite files in the demo's data dir. */
  databaseUrl?: string;
  /** More of the user's environment, e.g. their own OTEL_* settings. */
  env?: NodeJS.ProcessEnv;
}

export interface RunningDemo {
  ports: Record<(typeof PORT_VARS)[number], number>;
  dataDir: string;
  namespace: string;
  /** The admin token the demo made for this run. */
  token: string;
  /** The environment a process the demo started runs with (Linux: /proc/<pid>/environ). */
  environOf(pid: number): Record<string, string>;
  /** Everything the demo printed so far. */
  output(): string;
  /** http://127.0.0.1:<port> of a port variable, e.g. url('CONSOLE_PORT'). */
  url(variable: (typeof PORT_VARS)[number]): string;
  process: ChildProcess;
  /** Ctrl-C, then waits for the demo to exit; removes its data dir. */
  stop(): Promise<void>;
}

export async function startDemo(options: DemoOptions = {}): Promise<RunningDemo> {
  const redis: TestRedis = await startTestRedis();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'warren-demo-'));
  const ports = {} as RunningDemo['ports'];
  for (const v of PORT_VARS) ports[v] = await freePort();
  const namespace = `demo-test-${randomBytes(3).toString('hex')}`;
  // the namespace keeps its queues and Redis keys apart from other suites' on shared servers
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
    REDIS_URL: redis.url,
    DEMO_DATA_DIR: dataDir,
    WARREN_NAMESPACE: namespace,
  };
  for (const v of ['DATABASE_URL', 'ADMIN_TOKEN', 'AMQP_URL', 'AMQP_MANAGEMENT_URL']) delete env[v];
  // the demo decides the services' tracing from the user's OTEL_*: the test's own must not take part
  for (const v of Object.keys(env)) if (v.startsWith('OTEL_')) delete env[v];
  Object.assign(env, options.env);
  if (options.broker)
    Object.assign(env, { AMQP_URL: options.broker.amqpUrl, AMQP_MANAGEMENT_URL: options.broker.managementUrl });
  if (options.databaseUrl) env.DATABASE_URL = options.databaseUrl;
  const child = spawn(process.execPath, [path.join(ROOT, 'tools/scripts/demo.mjs'), ...(options.args ?? [])], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGINT');
      await exited;
    }
    await redis.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  // a demo that exits before it is running fails the start at once, with what it printed
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', () => reject(new Error(`the demo exited before it was running:\n${out}`))),
  );
  exited.catch(() => undefined);
  try {
    await Promise.race([
      exited,
      eventually('the demo to print its URLs', () => (/Warren is running/.test(out) ? true : undefined), 170_000, 200),
    ]);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    ports,
    dataDir,
    namespace,
    token: readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim(),
    output: () => out,
    environOf: (pid) =>
      Object.fromEntries(
        readFileSync(`/proc/${pid}/environ`, 'utf8')
          .split('\0')
          .filter(Boolean)
          .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
      ),
    url: (variable) => `http://127.0.0.1:${ports[variable]}`,
    process: child,
    stop,
  };
}
