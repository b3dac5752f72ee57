// A service as its own process: what it writes (JSON lines, one object per line, each naming the service) and
// how it ends on SIGTERM: promptly when shutdown finishes, with exit 1 and a line saying so when it does not
// finish within SHUTDOWN_TIMEOUT_MS.
import { bundleFixture, lineMatching, type BundledFixture, type Run } from './support/service-process';

let fixture: BundledFixture;
beforeAll(async () => {
  fixture = await bundleFixture('libs/service-kit/test/fixtures/process-service.ts');
}, 30_000);
afterAll(() => fixture?.remove());

const run = (env: Record<string, string>): Run => fixture.run(env);

const parsed = (lines: string[]) =>
  lines.map((l) => JSON.parse(l) as { service: string; level: number; msg: string; pid: number; hostname: string });

describe('a service process', () => {
  it('logs JSON lines that name the service, and stops promptly on SIGTERM', async () => {
    const r = run({});
    await lineMatching(r, /kit-process listening on http:\/\/127\.0\.0\.1:\d+/);
    r.child.kill('SIGTERM');
    const { code, signal } = await r.exited;
    expect(code === 0 || signal === 'SIGTERM').toBe(true);
    const lines = parsed(r.lines()); // throws on any line that is not JSON
    expect(lines.length).toBeGreaterThan(3);
    for (const l of lines)
      expect(l).toMatchObject({
        service: 'kit-process',
        pid: r.child.pid,
        hostname: expect.any(String),
        level: expect.any(Number),
      });
  });

  it('exits 1 with a line naming SHUTDOWN_TIMEOUT_MS when its shutdown does not finish in time', async () => {
    const r = run({ HANG_ON_SHUTDOWN: '1', SHUTDOWN_TIMEOUT_MS: '300' });
    await lineMatching(r, /kit-process listening on/);
    const sent = Date.now();
    r.child.kill('SIGTERM');
    const { code } = await r.exited;
    expect(code).toBe(1);
    expect(Date.now() - sent).toBeGreaterThanOrEqual(300);
    expect(parsed(r.lines()).find((l) => l.level === 50)?.msg).toBe(
      'shutdown after SIGTERM did not finish within 300 ms (SHUTDOWN_TIMEOUT_MS); exiting',
    );
  });

  it('refuses to start with a queue type other than classic or quorum, naming MESSAGING_QUEUE_TYPE', async () => {
    const r = run({ MESSAGING_QUEUE_TYPE: 'mirrored' });
    const { code } = await r.exited;
    expect(code).toBe(1);
    const [line] = parsed(r.lines());
    expect(line).toMatchObject({
      service: 'kit-process',
      level: 60,
      msg: "kit-process failed to start: MESSAGING_QUEUE_TYPE must be classic or quorum, got 'mirrored'",
    });
  });

  it('refuses to start with a malformed setting, saying which, as a JSON line', async () => {
    const r = run({ LOG_FORMAT: 'xml' });
    const { code } = await r.exited;
    expect(code).toBe(1);
    const [line] = parsed(r.lines());
    expect(line).toMatchObject({
      service: 'kit-process',
      level: 60,
      msg: "kit-process failed to start: LOG_FORMAT must be json or pretty, got 'xml'",
    });
  });
});
