import { spawn } from 'node:child_process';
import { z } from 'zod';
import { BrokerUnavailableError, defineMessage, Messaging } from '../src';
import { MessagingHarness } from '../src/testing';
import { cleanup, eventually, testBrokers, uniqueName } from './support/brokers';
import { bundledChild, repositoryRoot as root } from './support/child-bundle';
import { spawnBroker, type SpawnedBroker } from '../../../tools/testing/spawn-broker';
import { TcpProxy } from '../../../tools/testing/tcp-proxy';
import { freePort } from '../../../tools/testing/ports';

const Tick = defineMessage('tick.happened', z.object({ n: z.number().int() }));

/**
 * Publishes `count` messages one after another, each awaited (so a resolved publish means confirmed), while
 * `outage` runs once `outageAfter` of them are confirmed. Returns the numbers the broker confirmed.
 */
async function publishThrough(
  m: Messaging,
  count: number,
  outageAfter: number,
  outage: () => Promise<void>,
): Promise<number[]> {
  const confirmed: number[] = [];
  let outageDone: Promise<void> | undefined;
  for (let n = 0; n < count; n++) {
    if (n === outageAfter) outageDone = outage();
    await m.emit(Tick, { n });
    confirmed.push(n);
  }
  await outageDone;
  return confirmed;
}

async function consumerAndPublisher(url: string, exchange: string, queue: string) {
  const opts = {
    url,
    eventsExchange: exchange,
    commandsExchange: `${exchange}.cmd`,
    reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
    publishTimeoutMs: 20_000,
  };
  const consumer = new Messaging({ ...opts, serviceName: 'reconnect-consumer' });
  const publisher = new Messaging({ ...opts, serviceName: 'reconnect-publisher' });
  const harness = new MessagingHarness(consumer);
  const received = new Set<number>();
  await consumer.consume({
    queue,
    bindings: [{ pattern: 'tick.*' }],
    handlers: [
      {
        pattern: 'tick.happened',
        contract: Tick,
        handle: (msg) => void received.add((msg.payload as { n: number }).n),
      },
    ],
  });
  await consumer.start();
  await publisher.start();
  return { consumer, publisher, harness, received };
}

describe('reconnection with the bundled broker restarting', () => {
  let broker: SpawnedBroker;
  const exchange = uniqueName('events');
  const queue = uniqueName('reconnect');

  beforeAll(async () => {
    broker = await spawnBroker();
  });
  afterAll(async () => {
    await cleanup(broker.url, { queues: [queue], exchanges: [exchange, `${exchange}.cmd`] }).catch(() => undefined);
    await broker.stop();
  });

  it.each(['SIGTERM', 'SIGKILL'] as const)(
    'loses no confirmed message when the broker restarts (%s) under load',
    async (signal) => {
      const { consumer, publisher, harness, received } = await consumerAndPublisher(broker.url, exchange, queue);
      received.clear();
      const confirmed = await publishThrough(publisher, 300, 100, () => broker.restart(signal));
      // every confirmed message is delivered after the restart: persistent, in a durable queue, redeclared
      await eventually(
        `all ${confirmed.length} confirmed messages consumed`,
        () => (confirmed.every((n) => received.has(n)) ? true : undefined),
        20_000,
      );
      expect(harness.all('disconnected').length).toBeGreaterThanOrEqual(1);
      expect(harness.all('connected').length).toBeGreaterThanOrEqual(1);
      await publisher.close();
      await consumer.close();
    },
  );
});

describe.each(testBrokers())('reconnection when the broker goes away ($name)', ({ url }) => {
  let proxy: TcpProxy;
  const exchange = uniqueName('events');
  const queues: string[] = [];

  beforeAll(async () => {
    proxy = await TcpProxy.start(url);
  });
  afterAll(async () => {
    await proxy.close();
    await cleanup(url, { queues, exchanges: [exchange, `${exchange}.cmd`] });
  });

  it('re-declares, resubscribes and delivers everything confirmed across a lost connection', async () => {
    const queue = uniqueName('cut');
    queues.push(queue);
    const { consumer, publisher, harness, received } = await consumerAndPublisher(proxy.url, exchange, queue);
    const confirmed = await publishThrough(publisher, 200, 80, async () => {
      await proxy.cut();
      await new Promise((r) => setTimeout(r, 300)); // the outage itself: the broker stays away this long
      await proxy.restore();
    });
    await eventually(
      `all ${confirmed.length} confirmed messages consumed`,
      () => (confirmed.every((n) => received.has(n)) ? true : undefined),
      20_000,
    );
    expect(harness.all('disconnected').length).toBeGreaterThanOrEqual(1);
    await publisher.close();
    await consumer.close();
  });

  it('closes within shutdownTimeoutMs when the broker stops answering (nothing more crosses the link)', async () => {
    const queue = uniqueName('stall');
    queues.push(queue);
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const timersBefore = timers();
    const link = await TcpProxy.start(url);
    // a heartbeat far longer than the test: only the shutdown's own bounds can end the wait
    const m = new Messaging({
      url: link.url,
      serviceName: 'stalled',
      eventsExchange: exchange,
      commandsExchange: `${exchange}.cmd`,
      heartbeatSeconds: 120,
      shutdownTimeoutMs: 400,
    });
    await m.consume({
      queue,
      bindings: [{ pattern: 'tick.*' }],
      handlers: [{ pattern: 'tick.happened', contract: Tick, handle: () => undefined }],
    });
    await m.start();
    link.stall();
    const started = Date.now();
    await m.close();
    // the cancel, the channel close and the connection close each wait 400 ms for an answer that never comes
    expect(Date.now() - started).toBeGreaterThanOrEqual(3 * 400 - 50);
    expect(Date.now() - started).toBeLessThan(3 * 400 + 1000);
    expect(m.isConnected).toBe(false);
    await link.close();
    // nothing of the dropped connection keeps running (amqplib's heartbeat timers, 120 s here, would hold the
    // process for up to two heartbeat intervals). Polled for a moment: the count is the whole process's, and a
    // short timer of something else in this worker may be running just now
    await eventually(
      'no timer of the dropped connection left',
      () => (timers() <= timersBefore ? true : undefined),
      3_000,
      50,
    ).catch(() => undefined);
    expect(timers()).toBeLessThanOrEqual(timersBefore);
  });

  it('fails a publish with BrokerUnavailableError when the outage outlasts publishTimeoutMs', async () => {
    const m = new Messaging({
      url: proxy.url,
      serviceName: 'impatient',
      eventsExchange: exchange,
      commandsExchange: `${exchange}.cmd`,
      publishTimeoutMs: 300,
      reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
    });
    await m.start();
    await proxy.cut();
    await eventually('the disconnect to be noticed', () => (m.isConnected ? undefined : true));
    const started = Date.now();
    const err = await m.emit(Tick, { n: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BrokerUnavailableError);
    expect((err as Error).message).toBe('no connection to the broker within 300 ms');
    expect(Date.now() - started).toBeLessThan(2000);
    await proxy.restore();
    await eventually('reconnection', () => (m.isConnected ? true : undefined));
    await m.close();
  });

  it('starts before the broker is reachable and connects when it appears', async () => {
    await proxy.cut();
    const m = new Messaging({
      url: proxy.url,
      serviceName: 'early',
      eventsExchange: exchange,
      commandsExchange: `${exchange}.cmd`,
      reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
    });
    let started = false;
    const starting = m.start().then(() => (started = true));
    await new Promise((r) => setTimeout(r, 200));
    expect(started).toBe(false);
    await proxy.restore();
    await starting;
    expect(m.isConnected).toBe(true);
    await m.close();
  });
});

describe('a process whose broker is down', () => {
  const childBundle = bundledChild('libs/messaging/test/fixtures/unreachable-child.ts');

  // A service started while the broker is down has nothing else holding it open yet: the wait between attempts
  // must, or the process exits 0 after the first (a chaos run found a service restarted during a broker outage gone).
  it('stays up, trying again, until the client is closed', async () => {
    const port = await freePort(); // nothing listens on it
    const child = spawn(process.execPath, [childBundle], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, UNREACHABLE_CHILD_URL: `amqp://guest:guest@127.0.0.1:${port}` },
    });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      // attempts are logged at 1, 10, 20…: the tenth means nine waits, each one the process's only work
      const tenth = await Promise.race([
        eventually('the tenth attempt', () => (/unreachable .*attempt 10\b/.test(out) ? true : undefined), 20_000),
        exited.then((code) => {
          throw new Error(`the process exited (${code}) while the broker was down:\n${out}`);
        }),
      ]);
      expect(tenth).toBe(true);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(out).toMatch(/closed\n$/);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
