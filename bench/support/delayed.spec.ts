// The broker bench's delayed-message scenario (g): its summary, and a short run of its flow against the bundled
// broker (the esbuild bundle of apps/broker/src/main.ts, as the bench runs it). With RABBITMQ_URL, also what
// happens against a RabbitMQ without the plugin.
import * as amqp from 'amqplib';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startBroker, type BrokerProcess } from './broker-process';
import { delayedScenario, LATE_MS, RABBIT_NA, seededRandom, summariseLateness, type DelayedConfig } from './delayed';
import { trackPeakRss } from './proc';
import { SCENARIOS } from './scenarios';

const root = resolve(__dirname, '../..');
jest.setTimeout(30_000);

const counts = { published: 0, duplicates: 0, publishSeconds: 1 };

describe('lateness summary', () => {
  it('counts early and late arrivals and takes nearest-rank percentiles', () => {
    const lateness = [3, -1, 0, 51, 50, 7, 200, 1, 2, 4];
    const s = summariseLateness(lateness, { ...counts, published: 12, duplicates: 2 });
    expect(s).toEqual({
      published: 12,
      arrived: 10,
      missing: 2,
      duplicates: 2,
      early: 1,
      lateOver50: 2, // 50 itself is not over
      p50Ms: 3,
      p90Ms: 51,
      p99Ms: 200,
      maxMs: 200,
      publishSeconds: 1,
    });
    expect(LATE_MS).toBe(50);
  });

  it('has no percentiles when nothing arrived', () => {
    const s = summariseLateness([], { ...counts, published: 5 });
    expect(s).toMatchObject({ arrived: 0, missing: 5, early: 0, lateOver50: 0 });
    expect([s.p50Ms, s.p99Ms, s.maxMs].every(Number.isNaN)).toBe(true);
  });

  it('draws the same delays for the same seed, spread over [0, 1)', () => {
    const draw = (seed: number) => Array.from({ length: 10_000 }, seededRandom(seed));
    const a = draw(42);
    expect(draw(42)).toEqual(a);
    expect(draw(43)).not.toEqual(a);
    expect(Math.min(...a)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...a)).toBeLessThan(1);
    const deciles = new Array(10).fill(0);
    for (const v of a) deciles[Math.floor(v * 10)]++;
    for (const d of deciles) expect(Math.abs(d - 1000)).toBeLessThan(150);
  });
});

describe('scenario (g) in the bench', () => {
  it('is bundled-only, opt-in, amqplib-only, with RSS measured', () => {
    const g = SCENARIOS.find((s) => s.key === 'g');
    expect(g).toMatchObject({ delayed: true, bundledOnly: RABBIT_NA, optIn: true, memory: true, perf: null });
    expect(RABBIT_NA).toBe('RabbitMQ: n/a (no x-delayed-message without the plugin)');
    expect(SCENARIOS.filter((s) => s.optIn).map((s) => s.key)).toEqual(['g']);
  });
});

describe('flow against the bundled broker', () => {
  let tmp: string;
  let broker: BrokerProcess;
  const small: DelayedConfig = {
    messages: 2000,
    spreadMs: 1000,
    graceMs: 5000,
    confirmWindow: 100,
    prefetch: 200,
    seed: 7,
  };

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'warren-delayed-bench-'));
    const main = join(tmp, 'broker.js');
    const built = spawnSync(
      process.execPath,
      [join(root, 'tools/scripts/bundle.mjs'), 'apps/broker/src/main.ts', main],
      { cwd: root, encoding: 'utf8' },
    );
    if (built.status !== 0) throw new Error(`bundling the broker failed: ${built.stderr}`);
    broker = await startBroker(main, join(tmp, 'data'));
  });

  afterAll(async () => {
    await broker?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('publishes every message with its delay; every one arrives once, none early; the names are gone after teardown', async () => {
    const rss = trackPeakRss(broker.pid, 20);
    const started = Date.now();
    const setup = await delayedScenario(broker.url, small, { scale: 1, maxSeconds: 10 });
    const m = await setup.run();
    const elapsed = Date.now() - started;
    await setup.teardown();
    const peak = rss.stop();
    expect(m.capped).toBe(false);
    expect(m.messages).toBe(2000);
    expect(m.published).toBe(2000);
    expect(m.delayed).toMatchObject({ published: 2000, arrived: 2000, missing: 0, duplicates: 0, early: 0 });
    const d = m.delayed!;
    expect(d.p50Ms).toBeLessThanOrEqual(d.p90Ms);
    expect(d.p90Ms).toBeLessThanOrEqual(d.p99Ms);
    expect(d.p99Ms).toBeLessThanOrEqual(d.maxMs);
    expect(d.lateOver50).toBeLessThanOrEqual(2000);
    // the delays reach up to the spread: the run lasts about that long, and not much longer
    expect(elapsed).toBeGreaterThanOrEqual(900);
    expect(m.seconds).toBeGreaterThan(0.9);
    expect(m.seconds).toBeLessThan(8);
    expect(peak).toBeGreaterThan(10 * 2 ** 20);
    expect(rss.hwmReset).toBe(true);
    // teardown deleted the exchange and the queue
    const conn = await amqp.connect(broker.url);
    conn.on('error', () => undefined);
    try {
      const gone = async (check: (ch: amqp.Channel) => Promise<unknown>) => {
        const ch = await conn.createChannel();
        ch.on('error', () => undefined);
        return check(ch).then(
          () => 'exists',
          (e: { code?: number }) => e.code,
        );
      };
      expect(setup.exchange).toMatch(/^bench-g-\d+-[0-9a-f]{6}-x$/);
      expect(await gone((ch) => ch.checkExchange(setup.exchange))).toBe(404);
      expect(await gone((ch) => ch.checkQueue(setup.queue))).toBe(404);
    } finally {
      await conn.close().catch(() => undefined);
    }
  });

  it('stops publishing at the time cap and waits only for what was published (capped)', async () => {
    const setup = await delayedScenario(
      broker.url,
      { ...small, messages: 100_000, spreadMs: 200 },
      { scale: 1, maxSeconds: 0.3 },
    );
    try {
      const m = await setup.run();
      expect(m.capped).toBe(true);
      expect(m.published).toBeGreaterThan(0);
      expect(m.published).toBeLessThan(100_000);
      expect(m.delayed).toMatchObject({
        published: m.published,
        arrived: m.published,
        missing: 0,
        early: 0,
        duplicates: 0,
      });
    } finally {
      await setup.teardown();
    }
  });

  it('gives up waiting spread + grace after the last publish, counting what did not arrive as missing (capped)', async () => {
    // delays of 0 .. 5 s (seeded: the same every run), but a wait of 5000 - 4990 = 10 ms after the confirms
    const setup = await delayedScenario(
      broker.url,
      { ...small, messages: 50, spreadMs: 5000, graceMs: -4990 },
      { scale: 1, maxSeconds: 10 },
    );
    try {
      const started = Date.now();
      const m = await setup.run();
      expect(Date.now() - started).toBeLessThan(3000);
      expect(m.capped).toBe(true);
      expect(m.published).toBe(50);
      expect(m.delayed!.missing).toBeGreaterThan(40);
      expect(m.delayed!.arrived + m.delayed!.missing).toBe(50);
      expect(m.delayed!.early).toBe(0);
    } finally {
      await setup.teardown();
    }
  });
});

(process.env.RABBITMQ_URL ? describe : describe.skip)('against RabbitMQ without the plugin', () => {
  it('fails at setup: the exchange type is unknown (503, connection closed)', async () => {
    const url = process.env.RABBITMQ_URL as string;
    const err = await delayedScenario(
      url,
      { messages: 1, spreadMs: 0, graceMs: 0, confirmWindow: 1, prefetch: 1, seed: 1 },
      { scale: 1, maxSeconds: 1 },
    ).then(
      () => null,
      (e: Error & { code?: number }) => ({ code: e.code, message: e.message }),
    );
    // a connection error: amqplib rejects the pending call with the close reason
    expect(err?.message).toMatch(/503 \(COMMAND-INVALID\).*x-delayed-message/);
  });
});
