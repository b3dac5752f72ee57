// The broker's command line, as a real process: the esbuild bundle of src/main.ts (what `npm run broker`
// runs), spawned with flags and judged by its output, its exit status, and what an amqplib client sees.
import * as amqp from 'amqplib';
import { ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleEntry } from '../../../tools/testing/bundle';

const WAIT_MS = 10_000;

jest.setTimeout(30_000);

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface BrokerProcess {
  child: ChildProcess;
  /** Complete stdout lines so far. */
  lines: string[];
  stdout(): string;
  stderr(): string;
  exited: Promise<Exit>;
  /** Resolves with the first stdout line that matches; rejects on timeout or exit. */
  waitForLine(match: RegExp, ms?: number): Promise<string>;
}

let tmp: string;
let brokerMain: string;
const started = new Set<ChildProcess>();

function running(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function spawnBroker(args: string[]): BrokerProcess {
  const env = { ...process.env };
  delete env.BROKER_PORT; // would stand in for a missing --port
  const child = spawn(process.execPath, [brokerMain, '--data-dir', join(tmp, 'data'), ...args], {
    cwd: tmp,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.add(child);
  let out = '';
  let err = '';
  const lines: string[] = [];
  const watchers = new Set<() => void>();
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    lines.splice(0, lines.length, ...out.split('\n').slice(0, -1));
    for (const watch of watchers) watch();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<Exit>((resolvePromise, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      started.delete(child);
      resolvePromise({ code, signal });
    });
  });
  exited
    .catch(() => undefined)
    .finally(() => {
      for (const watch of watchers) watch();
    });
  const waitForLine = (match: RegExp, ms = WAIT_MS) =>
    new Promise<string>((resolvePromise, reject) => {
      const timer = setTimeout(
        () => done(new Error(`timed out after ${ms} ms waiting for ${match}; stdout: ${out}; stderr: ${err}`)),
        ms,
      );
      const watch = () => {
        const line = lines.find((l) => match.test(l));
        if (line !== undefined) done(undefined, line);
        else if (!running(child))
          done(
            new Error(
              `broker exited (${child.exitCode ?? child.signalCode}) before printing ${match}; stdout: ${out}; stderr: ${err}`,
            ),
          );
      };
      const done = (error?: Error, line?: string) => {
        clearTimeout(timer);
        watchers.delete(watch);
        if (error) reject(error);
        else resolvePromise(line!);
      };
      watchers.add(watch);
      watch();
    });
  return { child, lines, stdout: () => out, stderr: () => err, exited, waitForLine };
}

/** Runs the broker with flags it should reject at once; SIGKILLs it if it is still up after WAIT_MS. */
async function runToExit(args: string[]): Promise<Exit & { stdout: string; stderr: string }> {
  const broker = spawnBroker(args);
  const timer = setTimeout(() => running(broker.child) && process.kill(broker.child.pid!, 'SIGKILL'), WAIT_MS);
  try {
    const exit = await broker.exited;
    return { ...exit, stdout: broker.stdout(), stderr: broker.stderr() };
  } finally {
    clearTimeout(timer);
  }
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'warren-cli-'));
  brokerMain = await bundleEntry('apps/broker/src/main.ts', join(tmp, 'main.js'));
}, 60_000);

afterAll(() => {
  for (const child of started) if (running(child) && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('broker CLI: --port 0 --host 127.0.0.1', () => {
  let broker: BrokerProcess;
  let port: number;
  let conn: amqp.ChannelModel | undefined;

  beforeAll(() => {
    broker = spawnBroker(['--port', '0', '--host', '127.0.0.1']);
  });
  afterAll(async () => {
    if (conn) await conn.close().catch(() => undefined);
  });

  it('prints exactly one line, "listening on amqp://127.0.0.1:PORT", with the real port', async () => {
    const line = await broker.waitForLine(/^listening on /);
    const match = /^listening on amqp:\/\/127\.0\.0\.1:(\d+)$/.exec(line);
    expect(match).not.toBeNull();
    port = Number(match![1]);
    expect(port).toBeGreaterThan(0);
    expect(port).toBeLessThanOrEqual(65535);
    expect(broker.stdout()).toBe(`${line}\n`);
    expect(broker.stderr()).toBe('');
  });

  it('accepts an amqplib client on that port and round-trips a message', async () => {
    expect(port).toBeGreaterThan(0);
    conn = await withTimeout(amqp.connect(`amqp://127.0.0.1:${port}`), WAIT_MS, 'amqplib to connect');
    const ch = await conn.createChannel();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    const got = new Promise<amqp.ConsumeMessage>((resolvePromise) => {
      void ch.consume(queue, (m) => m && resolvePromise(m), { noAck: true });
    });
    ch.sendToQueue(queue, Buffer.from('over the wire'), { correlationId: 'c-1' });
    const m = await withTimeout(got, WAIT_MS, 'the message to come back');
    expect(m.content.toString()).toBe('over the wire');
    expect(m.properties.correlationId).toBe('c-1');
    // Serving a client printed nothing more.
    expect(broker.lines).toHaveLength(1);
    expect(broker.stderr()).toBe('');
  });

  it("SIGTERM closes the client's connection with 320 CONNECTION_FORCED, then the process exits 0", async () => {
    expect(conn).toBeDefined();
    const errors: Error[] = [];
    conn!.on('error', (e: Error) => errors.push(e));
    const closed = new Promise<Error | undefined>((resolvePromise) => conn!.once('close', resolvePromise));
    process.kill(broker.child.pid!, 'SIGTERM');
    const error = (await withTimeout(closed, WAIT_MS, "the client's connection to close")) as
      (Error & { code?: number }) | undefined;
    conn = undefined;
    expect(error).toBeInstanceOf(Error);
    expect(error!.code).toBe(320);
    expect(error!.message).toMatch(/CONNECTION.FORCED/);
    // 320 is a deliberate close, not a fault: amqplib emits no 'error' for it.
    expect(errors).toEqual([]);
    expect(await withTimeout(broker.exited, WAIT_MS, 'the broker to exit')).toEqual({ code: 0, signal: null });
    // The shutdown is logged on stderr (stdout is kept for the "listening on" line), and nothing else is.
    expect(broker.stderr()).toBe('[broker] SIGTERM: closing connections\n');
    expect(broker.lines.filter((l) => l.startsWith('listening on'))).toHaveLength(1);
  });
});

describe('broker CLI: bad invocations', () => {
  it.each([
    [['--port', 'abc'], /^broker: .*--port.*abc/],
    [['--port', '70000'], /^broker: .*--port.*70000/],
    [['--bogus'], /^broker: .*--bogus/],
    [['--port', ''], /^broker: .*--port.*''/],
    [['--port', '0x10'], /^broker: .*--port.*0x10/],
    [['--port', '1e3'], /^broker: .*--port.*1e3/],
    [['--tls-cert', 'server.pem'], /^broker: --tls-cert and --tls-key go together/],
    [['--tls-port', '5671'], /^broker: --tls-port and --tls-ca need --tls-cert and --tls-key/],
    [['--handshake-timeout', '0'], /^broker: --handshake-timeout must be at least 1/],
    [['--max-handshakes', 'many'], /^broker: --max-handshakes must be a non-negative integer/],
  ])('%j exits 2 with a clear message and the usage on stderr', async (args, message) => {
    const result = await runToExit(args as string[]);
    expect({ code: result.code, signal: result.signal, stdout: result.stdout }).toEqual({
      code: 2,
      signal: null,
      stdout: '',
    });
    expect(result.stderr.split('\n')[0]).toMatch(message);
    expect(result.stderr).toMatch(/^Usage: /m);
  });

  it.each([
    [
      ['--tls-cert', 'missing.pem', '--tls-key', 'missing.key', '--port', '0'],
      /^broker: cannot read the TLS certificate missing\.pem: ENOENT$/,
    ],
    [['--definitions', 'missing.json', '--port', '0'], /^broker: cannot load definitions from missing\.json: ENOENT/],
  ])('%j exits 1 with one line naming the file', async (args, message) => {
    const result = await runToExit(args as string[]);
    expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 1, stdout: '' });
    expect(result.stderr.trimEnd()).toMatch(message);
  });

  it('refuses definitions that do not parse, naming the entry', async () => {
    writeFileSync(
      join(tmp, 'bad-definitions.json'),
      JSON.stringify({ users: [{ name: 'u', hashing_algorithm: 'bcrypt' }] }),
    );
    const result = await runToExit(['--definitions', join(tmp, 'bad-definitions.json'), '--port', '0']);
    expect(result.code).toBe(1);
    expect(result.stderr.trimEnd()).toMatch(/users\[0\]\.hashing_algorithm 'bcrypt' is not supported$/);
  });

  it('stops with one line when the saved users and vhosts cannot be read', async () => {
    const dataDir = join(tmp, 'corrupt-access');
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, 'access.json'), '{"users": [');
    const result = await runToExit(['--data-dir', dataDir, '--port', '0']);
    expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 1, stdout: '' });
    expect(result.stderr.trimEnd()).toMatch(/^broker: cannot load the saved users and vhosts: .*access\.json: /);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  describe('a port that is already taken', () => {
    let holder: Server;
    let taken: number;
    beforeAll(async () => {
      holder = createServer();
      await new Promise<void>((resolvePromise) => holder.listen(0, '127.0.0.1', resolvePromise));
      taken = (holder.address() as { port: number }).port;
    });
    afterAll(() => new Promise<void>((resolvePromise) => holder.close(() => resolvePromise())));

    it('gives one clear line on stderr (no usage text), nothing on stdout, and a non-zero exit', async () => {
      const result = await runToExit(['--port', String(taken), '--host', '127.0.0.1']);
      expect(result.signal).toBeNull();
      expect(result.code).not.toBe(0);
      expect(result.code).not.toBeNull();
      expect(result.stdout).toBe('');
      const lines = result.stderr.trimEnd().split('\n');
      expect(lines[0]).toMatch(new RegExp(`^broker: .*\\b${taken}\\b.*in use`));
      expect(lines).toHaveLength(1);
    });
  });
});
