// The command line as a real process: the esbuild bundle of src/main.ts, spawned and judged by its output,
// its exit status, and what nodemailer and fetch see.
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import nodemailer from 'nodemailer';
import { bundleEntry } from '../../../tools/testing/bundle';

const root = resolve(__dirname, '../../..');
const WAIT_MS = 10_000;

jest.setTimeout(30_000);

let tmp: string;
let main: string;
const started = new Set<ChildProcess>();

interface Run {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitForLines(count: number): Promise<string[]>;
}

function run(args: string[], env: Record<string, string> = {}): Run {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, NODE_PATH: join(root, 'node_modules'), ...env };
  if (!('SMTP_PORT' in env)) delete childEnv.SMTP_PORT;
  if (!('SMTP_HTTP_PORT' in env)) delete childEnv.SMTP_HTTP_PORT;
  const child = spawn(process.execPath, [main, ...args], {
    cwd: tmp,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.add(child);
  let out = '';
  let err = '';
  const changed = new Set<() => void>();
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    for (const f of changed) f();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) =>
    child.once('close', (code, signal) => {
      started.delete(child);
      for (const f of changed) f();
      resolveExit({ code, signal });
    }),
  );
  const waitForLines = (count: number) =>
    new Promise<string[]>((resolveLines, reject) => {
      const timer = setTimeout(
        () => finish(new Error(`timed out waiting for ${count} lines; stdout: ${out}; stderr: ${err}`)),
        WAIT_MS,
      );
      const check = () => {
        const lines = out.split('\n').slice(0, -1);
        if (lines.length >= count) finish(undefined, lines);
        else if (child.exitCode !== null || child.signalCode !== null)
          finish(new Error(`exited before printing ${count} lines; stdout: ${out}; stderr: ${err}`));
      };
      const finish = (error?: Error, lines?: string[]) => {
        clearTimeout(timer);
        changed.delete(check);
        if (error) reject(error);
        else resolveLines(lines!);
      };
      changed.add(check);
      check();
    });
  return { child, stdout: () => out, stderr: () => err, exited, waitForLines };
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

const LISTEN = /^(smtp|http) listening on (smtp|http):\/\/127\.0\.0\.1:(\d+)$/;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'warren-smtp-capture-'));
  main = await bundleEntry('apps/smtp-capture/src/main.ts', join(tmp, 'main.js'));
}, 60_000);

afterAll(() => {
  for (const child of started)
    if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('smtp-capture CLI', () => {
  it('prints one listen line per server, captures mail, and exits 0 on SIGTERM', async () => {
    const capture = run(['--smtp-port', '0', '--http-port', '0']);
    const lines = await capture.waitForLines(2);
    expect(lines).toHaveLength(2);
    const [smtp, http] = lines.map((l) => LISTEN.exec(l));
    expect(smtp?.[1]).toBe('smtp');
    expect(http?.[1]).toBe('http');
    const smtpUrl = `smtp://127.0.0.1:${smtp![3]}`;
    const httpUrl = `http://127.0.0.1:${http![3]}`;

    const transport = nodemailer.createTransport(smtpUrl);
    await transport.sendMail({ from: 'cli@warren.test', to: 'ada@example.com', subject: 'via the CLI', text: 'hello' });
    transport.close();
    const list = (await (await fetch(`${httpUrl}/api/v1/messages`)).json()) as any;
    expect(list.messages.map((m: any) => m.Subject)).toEqual(['via the CLI']);

    capture.child.kill('SIGTERM');
    expect(await capture.exited).toEqual({ code: 0, signal: null });
    expect(capture.stdout()).toBe(`${lines.join('\n')}\n`);
    expect(capture.stderr()).toBe('');
  });

  it('takes its ports from SMTP_PORT and SMTP_HTTP_PORT, and stops on SIGINT too', async () => {
    const [smtpPort, httpPort] = [await freePort(), await freePort()];
    const capture = run([], { SMTP_PORT: String(smtpPort), SMTP_HTTP_PORT: String(httpPort) });
    expect(await capture.waitForLines(2)).toEqual([
      `smtp listening on smtp://127.0.0.1:${smtpPort}`,
      `http listening on http://127.0.0.1:${httpPort}`,
    ]);
    expect((await fetch(`http://127.0.0.1:${httpPort}/health`)).status).toBe(200);
    capture.child.kill('SIGINT');
    expect(await capture.exited).toEqual({ code: 0, signal: null });
  });

  it('exits 1 with one line naming the port and the variable when a port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const taken = (blocker.address() as { port: number }).port;
    try {
      const capture = run(['--smtp-port', '0', '--http-port', String(taken)]);
      expect((await capture.exited).code).toBe(1);
      expect(capture.stderr()).toBe(`smtp-capture: HTTP port ${taken} (set --http-port or SMTP_HTTP_PORT) is in use\n`);
    } finally {
      await new Promise<void>((r) => blocker.close(() => r()));
    }
  });

  it('exits 2 with the usage for a bad flag', async () => {
    const capture = run(['--smtp-port', 'twenty']);
    expect((await capture.exited).code).toBe(2);
    expect(capture.stderr()).toMatch(
      /^smtp-capture: --smtp-port must be a non-negative integer, got 'twenty'\n\nUsage:/,
    );
  });
});
