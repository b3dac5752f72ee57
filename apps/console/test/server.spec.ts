// The console's server: its live stream (server-sent events) from a live bundled broker's management API and
// from services that are not there; one upstream poll per interval however many browsers listen; its settings.
import 'reflect-metadata';
import { readConsoleConfig } from '../src/server/config';
import { eventually } from '../../../tools/testing/eventually';
import { startBroker, type LiveBroker } from './support/broker';
import { listen, startConsole, type TestConsole } from './support/console';

describe('the console server', () => {
  let broker: LiveBroker;
  let server: TestConsole;
  let base: string;
  /** The closed port every source but the broker is at. */
  let down: number;
  const POLL_MS = 200;

  beforeAll(async () => {
    broker = await startBroker();
    server = await startConsole({ CONSOLE_POLL_MS: String(POLL_MS), AMQP_MANAGEMENT_URL: broker.managementUrl });
    base = server.base;
    down = Number(new URL(server.config.ordersUrl).port);
  });
  afterAll(async () => {
    await server?.close();
    await broker?.stop();
  });

  const health = async () =>
    (await (await fetch(`${base}/api/health`)).json()) as {
      sources: Record<string, { status: string; subscribers: number; requests: number }>;
    };

  it('streams the topology from the broker and says which sources cannot be reached, to every browser, polling each source once', async () => {
    const clients = await Promise.all([1, 2, 3].map(() => listen(base)));
    const started = Date.now();
    for (const c of clients) {
      await eventually('the topology and the unreachable orders', () => {
        const topology = c.events.find((e) => e.type === 'topology');
        const orders = c.events.find((e) => e.type === 'orders');
        return topology && orders ? { topology, orders } : undefined;
      });
    }
    const first = clients[0].events;
    expect(first.find((e) => e.type === 'topology')?.data).toMatchObject({
      status: 'ok',
      data: { vhost: '/', queues: expect.any(Array), exchanges: expect.any(Array) },
    });
    expect(first.find((e) => e.type === 'orders')?.data).toMatchObject({
      status: 'unreachable',
      error: `orders: GET http://127.0.0.1:${down}/orders?limit=50 failed (ECONNREFUSED)`,
    });
    expect(first.some((e) => e.type === 'processes')).toBe(false); // no control API configured (compose): no such source

    await eventually('a few more polls', async () =>
      (await health()).sources.topology.requests >= 5 ? true : undefined,
    );
    const h = await health();
    expect(h.sources.topology.subscribers).toBe(3);
    // one upstream poll per interval for all three browsers, not one each
    expect(h.sources.topology.requests).toBeLessThanOrEqual(Math.ceil((Date.now() - started) / POLL_MS) + 2);
    // unchanged states are not sent again: each browser heard of the unreachable orders once
    for (const c of clients) expect(c.events.filter((e) => e.type === 'orders')).toHaveLength(1);

    clients.forEach((c) => c.close());
    await eventually('the browsers to be gone', async () =>
      (await health()).sources.topology.subscribers === 0 ? true : undefined,
    );
    const after = (await health()).sources.topology.requests;
    await new Promise((r) => setTimeout(r, POLL_MS * 4)); // polls would be counted here if it still polled
    expect((await health()).sources.topology.requests - after).toBeLessThanOrEqual(1);
  });
});

describe('readConsoleConfig', () => {
  it('defaults to the demo ports, and names a bad setting', () => {
    expect(readConsoleConfig({})).toMatchObject({
      port: 8080,
      pollMs: 1000,
      managementUrl: 'http://guest:guest@127.0.0.1:15672',
      ordersUrl: 'http://127.0.0.1:3001',
      mailUrl: 'http://127.0.0.1:8025',
      controlUrl: undefined,
    });
    expect(readConsoleConfig({ ORDERS_PORT: '4001', DEMO_CONTROL_URL: 'http://127.0.0.1:8090/' })).toMatchObject({
      ordersUrl: 'http://127.0.0.1:4001',
      controlUrl: 'http://127.0.0.1:8090',
    });
    expect(() => readConsoleConfig({ CONSOLE_PORT: 'eighty' })).toThrow(
      "CONSOLE_PORT must be a whole number from 0 to 65535, got 'eighty'",
    );
    expect(() => readConsoleConfig({ CONSOLE_POLL_MS: '5' })).toThrow(
      "CONSOLE_POLL_MS must be a whole number from 100 to 60000, got '5'",
    );
    expect(() => readConsoleConfig({ AMQP_MANAGEMENT_URL: 'ftp://broker' })).toThrow(
      "AMQP_MANAGEMENT_URL must be an http(s) URL, got 'ftp://broker'",
    );
    expect(() => readConsoleConfig({ ORDERS_URL: 'not a url' })).toThrow(
      "ORDERS_URL must be an http(s) URL, got 'not a url'",
    );
  });

  it('takes AMQP_URL as one URL or a cluster list, and names a bad entry with its password masked', () => {
    expect(readConsoleConfig({}).amqpUrl).toBe('amqp://guest:guest@127.0.0.1:5672');
    expect(readConsoleConfig({ AMQP_URL: 'amqp://a:pw@n1:5672, amqp://a:pw@n2:5672 ,' }).amqpUrl).toBe(
      'amqp://a:pw@n1:5672,amqp://a:pw@n2:5672',
    );
    expect(() => readConsoleConfig({ AMQP_URL: 'amqp://a:pw@n1:5672,http://a:secret@n2' })).toThrow(
      "AMQP_URL must be an amqp(s) URL or several separated by commas: 'http://a:***@n2' in url is not an amqp:// or amqps:// URL",
    );
  });
});
