// A service as its own process: what it writes (JSON lines, one object per line, each naming the service) and
// how it ends on SIGTERM: promptly when shutdown finishes, with exit 1 and a line saying so when it does not
// finish within SHUTDOWN_TIMEOUT_MS.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const ROOT = path.resolve(__dirname, '../../..');
mkdirSync(path.join(ROOT, 'tmp'), { recursive: true });

// inside the repository, so the bundle's npm packages resolve from its node_modules
const dir = mkdtempSync(path.join(ROOT, 'tmp', 'kit-process-'));
let entry: string;

beforeAll(async () => {
  entry = path.join(dir, 'service.js');
  await promisify(execFile)(process.execPath, [path.join(ROOT, 'tools/scripts/bundle.mjs'), 'libs/service-kit/test/fixtures/process-service.ts', entry], { cwd: ROOT });
}, 30_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  child: ChildProcess;
  lines: () => string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function run(env: Record<string, string>): Run {
  const child = spawn(process.execPath, [entry], {
    env: { PATH: process.env.PATH, AMQP_URL: process.env.WARREN_TEST_BROKER_URL, PORT: '0', HOST: '127.0.0.1', WARREN_NAMESPACE: `test.kit.${randomBytes(4).toString('hex')}`, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, lines: () => out.split('\n').filter((l) => l.trim()), exited };
}

/** Resolves with the first line matching `re`; rejects if the process exits first. */
function lineMatching(r: Run, re: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const line = r.lines().find((l) => re.test(l));
      if (line) {
        r.child.stdout!.off('data', check);
        resolve(line);
      }
    };
    r.child.stdout!.on('data', check);
    void r.exited.then(() => reject(new Error(`exited before printing ${re}:\n${r.lines().join('\n')}`)));
    check();
  });
}

const parsed = (lines: string[]) => lines.map((l) => JSON.parse(l) as { service: string; level: number; msg: string; pid: number; hostname: string });

describe('a service process', () => {
  it('logs JSON lines that name the service, and stops promptly on SIGTERM', async () => {
    const r = run({});
    await lineMatching(r, /kit-process listening on http:\/\/127\.0\.0\.1:\d+/);
    r.child.kill('SIGTERM');
    const { code, signal } = await r.exited;
    expect(code === 0 || signal === 'SIGTERM').toBe(true);
    const lines = parsed(r.lines()); // throws on any line that is not JSON
    expect(lines.length).toBeGreaterThan(3);
    for (const l of lines) expect(l).toMatchObject({ service: 'kit-process', pid: r.child.pid, hostname: expect.any(String), level: expect.any(Number) });
  });

  it('exits 1 with a line naming SHUTDOWN_TIMEOUT_MS when its shutdown does not finish in time', async () => {
    const r = run({ HANG_ON_SHUTDOWN: '1', SHUTDOWN_TIMEOUT_MS: '300' });
    await lineMatching(r, /kit-process listening on/);
    const sent = Date.now();
    r.child.kill('SIGTERM');
    const { code } = await r.exited;
    expect(code).toBe(1);
    expect(Date.now() - sent).toBeGreaterThanOrEqual(300);
    expect(parsed(r.lines()).find((l) => l.level === 50)?.msg).toBe('shutdown after SIGTERM did not finish within 300 ms (SHUTDOWN_TIMEOUT_MS); exiting');
  });

  it('refuses to start with a queue type other than classic or quorum, naming MESSAGING_QUEUE_TYPE', async () => {
    const r = run({ MESSAGING_QUEUE_TYPE: 'mirrored' });
    const { code } = await r.exited;
    expect(code).toBe(1);
    const [line] = parsed(r.lines());
    expect(line).toMatchObject({ service: 'kit-process', level: 60, msg: "kit-process failed to start: MESSAGING_QUEUE_TYPE must be classic or quorum, got 'mirrored'" });
  });

  it('refuses to start with a malformed setting, saying which, as a JSON line', async () => {
    const r = run({ LOG_FORMAT: 'xml' });
    const { code } = await r.exited;
    expect(code).toBe(1);
    const [line] = parsed(r.lines());
    expect(line).toMatchObject({ service: 'kit-process', level: 60, msg: "kit-process failed to start: LOG_FORMAT must be json or pretty, got 'xml'" });
  });
});
