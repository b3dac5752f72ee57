import { eventually as eventuallyWithin } from '../../tools/testing/eventually';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { connect, type Channel } from 'amqplib';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');

export type ServiceName = 'orders' | 'inventory' | 'payments';

/** tools/testing's eventually, with the longer default wait processes need. */
export const eventually = <T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 30_000, everyMs = 50): Promise<T> => eventuallyWithin(what, check, timeoutMs, everyMs);

/** A free TCP port on loopback (asked of the OS; the service binds it a moment later). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Bundles each service once per jest worker (as `npm run build` does, with tools/scripts/bundle.mjs) into
 * tmp/e2e/<service>.js, so the suites run the code the demo runs.
 */
const bundled = new Map<ServiceName, string>();
export function bundleService(name: ServiceName): string {
  let out = bundled.get(name);
  if (!out) {
    out = path.join(ROOT, 'tmp', 'e2e', `${name}.js`);
    execFileSync(process.execPath, [path.join(ROOT, 'tools/scripts/bundle.mjs'), `apps/${name}/src/main.ts`, path.relative(ROOT, out)], { cwd: ROOT, stdio: 'inherit' });
    bundled.set(name, out);
  }
  return out;
}

/** One service process. Its port is chosen up front, so a restart comes back on the same URL. */
export class ServiceProcess {
  private child?: ChildProcess;
  private log?: WriteStream;
  readonly url: string;

  constructor(
    readonly name: ServiceName,
    readonly port: number,
    private readonly env: NodeJS.ProcessEnv,
    readonly logFile: string,
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
    const child = spawn(process.execPath, ['--enable-source-maps', entry], { cwd: ROOT, env: { ...this.env, PORT: String(this.port) }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout!.pipe(this.log, { end: false });
    child.stderr!.pipe(this.log, { end: false });
    const exited = new Promise<never>((_, reject) => child.once('exit', (code, signal) => reject(new Error(`${this.name} exited (${code ?? signal}) before it was healthy:\n${this.tail()}`))));
    exited.catch(() => undefined);
    await Promise.race([
      exited,
      eventually(`${this.name} /health`, async () => ((await fetch(`${this.url}/health`)).status === 200 ? true : undefined), timeoutMs, 100),
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

/**
 * orders, inventory and payments as child processes in one WARREN_NAMESPACE against one broker, each with
 * its own SQLite file in a temporary directory.
 */
export class Stack {
  readonly namespace = `e2e-${randomBytes(4).toString('hex')}`;
  readonly dir = mkdtempSync(path.join(tmpdir(), 'warren-e2e-'));
  readonly services = {} as Record<ServiceName, ServiceProcess>;

  constructor(
    readonly amqpUrl: string,
    private readonly extraEnv: NodeJS.ProcessEnv = {},
  ) {}

  async start(): Promise<void> {
    mkdirSync(path.join(this.dir, 'data'), { recursive: true });
    const env: NodeJS.ProcessEnv = { ...process.env, ...this.extraEnv, WARREN_NAMESPACE: this.namespace, WARREN_DATA_DIR: path.join(this.dir, 'data'), AMQP_URL: this.amqpUrl, NO_COLOR: '1' };
    delete env.DATABASE_URL; // each service keeps its own SQLite file here
    delete env.DATABASE_SCHEMA;
    for (const name of ['inventory', 'payments', 'orders'] as const) {
      this.services[name] = new ServiceProcess(name, await freePort(), env, path.join(this.dir, `${name}.log`));
    }
    // consumers first, so the saga's first commands find their queues
    await Promise.all([this.services.inventory.start(), this.services.payments.start()]);
    await this.services.orders.start();
  }

  async stop(): Promise<void> {
    await Promise.all(Object.values(this.services).map((s) => s.stop()));
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  url(name: ServiceName): string {
    return this.services[name].url;
  }

  logs(): string {
    return Object.values(this.services)
      .map((s) => `--- ${s.name} ---\n${s.tail(3000)}`)
      .join('\n');
  }
}

/** JSON over HTTP: the status and the parsed body (the text when it is not JSON). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the suites read the services' JSON as they document it
export async function http(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { method, headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body: parsed };
}

/**
 * Deletes what a stack declared on a shared broker (RabbitMQ): the services' work queues (DESIGN.md:
 * `<service>.<purpose>`), with their retry and DLQ companions, the observer's queue, and the exchanges.
 */
export async function deleteNamespace(url: string, namespace: string, extraQueues: string[] = []): Promise<void> {
  const queues = ['orders.saga', 'inventory.commands', 'payments.commands', 'orders.rpc', 'inventory.rpc', 'payments.rpc', ...extraQueues].map((q) => `${namespace}.${q}`);
  const conn = await connect(url);
  // one channel per deletion: a broker may close the channel over a name that does not exist
  const attempt = async (fn: (ch: Channel) => Promise<unknown>) => {
    const ch = await conn.createChannel();
    ch.on('error', () => undefined);
    await fn(ch).catch(() => undefined);
    await ch.close().catch(() => undefined);
  };
  try {
    for (const q of queues) {
      for (const name of [q, `${q}.dlq`, ...Array.from({ length: 10 }, (_, i) => `${q}.retry.${i + 1}`)]) await attempt((ch) => ch.deleteQueue(name));
    }
    for (const e of ['warren.events', 'warren.commands']) await attempt((ch) => ch.deleteExchange(`${namespace}.${e}`));
  } finally {
    await conn.close();
  }
}
