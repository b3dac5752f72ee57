// The perf tool's client against the bundled broker, run as a process (the esbuild bundle of
// apps/broker/src/main.ts, as `npm run broker` runs it): short throughput and latency runs must move messages
// and report sane numbers.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startBroker, type BrokerProcess } from '../support/broker-process';
import { parseCommand, UsageError } from './cli';
import { AmqpError, Connection } from './client';
import { runLatency } from './latency';
import { runThroughput } from './throughput';

const root = resolve(__dirname, '../..');
jest.setTimeout(20_000);

let tmp: string;
let broker: BrokerProcess;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'warren-perf-spec-'));
  const main = join(tmp, 'broker.js');
  const built = spawnSync(process.execPath, [join(root, 'tools/scripts/bundle.mjs'), 'apps/broker/src/main.ts', main], {
    cwd: root,
    encoding: 'utf8',
  });
  if (built.status !== 0) throw new Error(`bundling the broker failed: ${built.stderr}`);
  broker = await startBroker(main, join(tmp, 'data'));
});

afterAll(async () => {
  await broker?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('throughput', () => {
  it('floods for about a second: 1 publisher, 1 no-ack consumer', async () => {
    const ticks: number[] = [];
    const r = await runThroughput({ uri: broker.url, timeSeconds: 1.1, onTick: (t) => ticks.push(t.second) });
    expect(r.stoppedBy).toBe('time');
    expect(r.elapsedSeconds).toBeGreaterThan(1);
    expect(r.elapsedSeconds).toBeLessThan(3);
    expect(ticks).toEqual([1]);
    expect(r.published).toBeGreaterThan(10_000);
    expect(r.consumed).toBeGreaterThan(1000);
    expect(r.consumed).toBeLessThanOrEqual(r.published);
    expect(r.publishRate).toBeCloseTo(r.published / r.publishSeconds);
    expect(r.consumeRate).toBeCloseTo(r.consumed / r.consumeSeconds);
    expect(r.confirmed).toBe(0);
  });

  it('holds --rate: 2 publishers at 4000 msg/s each, 2 acking consumers keep up', async () => {
    const r = await runThroughput({
      uri: broker.url,
      publishers: 2,
      consumers: 2,
      timeSeconds: 1,
      rate: 4000,
      ack: true,
      prefetch: 100,
      ackEvery: 50,
    });
    expect(r.stoppedBy).toBe('time');
    // 2 x 4000/s for 1 s, give or take a timer tick
    expect(r.published).toBeGreaterThan(7000);
    expect(r.published).toBeLessThanOrEqual(8100);
    expect(r.consumed).toBeGreaterThan(r.published * 0.9);
  });

  it('stops by count with confirms: every message confirmed and consumed exactly once', async () => {
    const r = await runThroughput({
      uri: broker.url,
      publishers: 2,
      consumers: 1,
      pmessages: 5000,
      confirm: 200,
      persistent: true,
      ack: true,
      prefetch: 100,
      ackEvery: 30,
    });
    expect(r.stoppedBy).toBe('count');
    expect(r.published).toBe(10_000);
    expect(r.confirmed).toBe(10_000);
    expect(r.nacked).toBe(0);
    expect(r.consumed).toBe(10_000);
    expect(r.consumeSeconds).toBeLessThanOrEqual(r.elapsedSeconds);
  });

  it('spreads messages over several queues through a direct exchange', async () => {
    const r = await runThroughput({
      uri: broker.url,
      publishers: 2,
      consumers: 3,
      queues: 4,
      exchange: 'perf-spec-direct',
      pmessages: 3000,
      size: 3000,
    });
    expect(r.stoppedBy).toBe('count');
    expect(r.queues).toHaveLength(4);
    expect(r.consumed).toBe(6000);
  });

  it('carries bodies larger than a frame', async () => {
    const r = await runThroughput({ uri: broker.url, pmessages: 50, size: 300_000 });
    expect(r.consumed).toBe(50);
  });
});

describe('latency', () => {
  it('times one round trip at a time', async () => {
    const r = await runLatency({ uri: broker.url, count: 300, warmup: 20, size: 64 });
    expect(r.stoppedBy).toBe('count');
    expect(r.count).toBe(300);
    expect(r.minUs).toBeGreaterThan(0);
    expect(r.minUs).toBeLessThanOrEqual(r.p50Us);
    expect(r.p50Us).toBeLessThanOrEqual(r.p95Us);
    expect(r.p95Us).toBeLessThanOrEqual(r.p99Us);
    expect(r.p99Us).toBeLessThanOrEqual(r.maxUs);
    expect(r.meanUs).toBeLessThanOrEqual(r.maxUs);
    expect(r.rate).toBeGreaterThan(10);
  });

  it('works with acks and persistent messages', async () => {
    const r = await runLatency({ uri: broker.url, count: 100, warmup: 0, ack: true, persistent: true });
    expect(r.count).toBe(100);
    expect(r.p50Us).toBeGreaterThan(0);
  });
});

describe('client and command line', () => {
  it('reports a refused login as an error instead of hanging', async () => {
    const bad = broker.url.replace('guest:guest', 'guest:wrong');
    await expect(Connection.open(bad)).rejects.toThrow(AmqpError);
  });

  it('parses lavinmqperf-style flags', () => {
    const c = parseCommand([
      'throughput',
      '--uri',
      'amqp://h',
      '-x',
      '3',
      '-y',
      '2',
      '-s',
      '1024',
      '--ack',
      '--prefetch',
      '10',
      '--confirm',
      '50',
      '--pmessages',
      '1000',
    ]);
    expect(c).toMatchObject({
      mode: 'throughput',
      options: {
        uri: 'amqp://h',
        publishers: 3,
        consumers: 2,
        size: 1024,
        ack: true,
        prefetch: 10,
        ackEvery: 5,
        confirm: 50,
        pmessages: 1000,
        timeSeconds: undefined,
      },
    });
    expect(parseCommand(['throughput'])).toMatchObject({ options: { timeSeconds: 10, ack: false } });
    expect(parseCommand(['latency', '--count', '5', '--persistent'])).toMatchObject({
      mode: 'latency',
      options: { count: 5, persistent: true },
    });
    expect(() => parseCommand(['throughput', '--ack', '--no-ack'])).toThrow(UsageError);
    expect(() => parseCommand(['latency', '-x', '2'])).toThrow(UsageError);
    expect(() => parseCommand(['bogus'])).toThrow(UsageError);
  });
});
