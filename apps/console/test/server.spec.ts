// The console's server: its live stream (server-sent events) from a live bundled broker's management API and
// from services that are not there; one upstream poll per interval however many browsers listen; its settings.
import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { createServer } from 'node:net';
import { readConsoleConfig } from '../src/server/config';
import { ConsoleModule } from '../src/server/console.module';
import { eventually } from '../../../tools/testing/eventually';
import { takeSseEvents } from '../../../tools/testing/sse';
import { startBroker, type LiveBroker } from './support/broker';

/** A loopback port nothing listens on: its sources are unreachable. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}

interface Client {
  events: Array<{ type: string; data: { status: string; error?: string; data?: unknown } }>;
  close(): void;
}

/** A browser's EventSource, as fetch: parses `event:` / `data:` frames as they arrive. */
async function listen(url: string): Promise<Client> {
  const abort = new AbortController();
  const res = await fetch(url, { headers: { accept: 'text/event-stream' }, signal: abort.signal });
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const client: Client = { events: [], close: () => abort.abort() };
  void (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        const { events, rest } = takeSseEvents(buffer + decoder.decode(chunk, { stream: true }));
        buffer = rest;
        for (const e of events) client.events.push({ type: e.type, data: JSON.parse(e.data) });
      }
    } catch {
      // aborted by close()
    }
  })();
  return client;
}

describe('the console server', () => {
  let broker: LiveBroker;
  let app: INestApplication;
  let base: string;
  let down: number;
  const POLL_MS = 200;

  beforeAll(async () => {
    broker = await startBroker();
    down = await closedPort();
    const at = `http://127.0.0.1:${down}`;
    const config = readConsoleConfig({ CONSOLE_PORT: '0', HOST: '127.0.0.1', CONSOLE_POLL_MS: String(POLL_MS), AMQP_MANAGEMENT_URL: broker.managementUrl, ORDERS_URL: at, PAYMENTS_URL: at, INVENTORY_URL: at, NOTIFICATIONS_URL: at, ANALYTICS_URL: at, MAIL_URL: at });
    app = await NestFactory.create(ConsoleModule.forRoot(config), { logger: false });
    await app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await app?.close();
    await broker?.stop();
  });

  const health = async () => (await (await fetch(`${base}/api/health`)).json()) as { sources: Record<string, { status: string; subscribers: number; requests: number }> };

  it('streams the topology from the broker and says which sources cannot be reached, to every browser, polling each source once', async () => {
    const clients = await Promise.all([1, 2, 3].map(() => listen(`${base}/api/stream`)));
    const started = Date.now();
    for (const c of clients) {
      await eventually('the topology and the unreachable orders', () => {
        const topology = c.events.find((e) => e.type === 'topology');
        const orders = c.events.find((e) => e.type === 'orders');
        return topology && orders ? { topology, orders } : undefined;
      });
    }
    const first = clients[0].events;
    expect(first.find((e) => e.type === 'topology')?.data).toMatchObject({ status: 'ok', data: { vhost: '/', queues: expect.any(Array), exchanges: expect.any(Array) } });
    expect(first.find((e) => e.type === 'orders')?.data).toMatchObject({ status: 'unreachable', error: `orders: GET http://127.0.0.1:${down}/orders?limit=50 failed (ECONNREFUSED)` });
    expect(first.some((e) => e.type === 'processes')).toBe(false); // no control API configured (compose): no such source

    await eventually('a few more polls', async () => ((await health()).sources.topology.requests >= 5 ? true : undefined));
    const h = await health();
    expect(h.sources.topology.subscribers).toBe(3);
    // one upstream poll per interval for all three browsers, not one each
    expect(h.sources.topology.requests).toBeLessThanOrEqual(Math.ceil((Date.now() - started) / POLL_MS) + 2);
    // unchanged states are not sent again: each browser heard of the unreachable orders once
    for (const c of clients) expect(c.events.filter((e) => e.type === 'orders')).toHaveLength(1);

    clients.forEach((c) => c.close());
    await eventually('the browsers to be gone', async () => ((await health()).sources.topology.subscribers === 0 ? true : undefined));
    const after = (await health()).sources.topology.requests;
    await new Promise((r) => setTimeout(r, POLL_MS * 4)); // polls would be counted here if it still polled
    expect((await health()).sources.topology.requests - after).toBeLessThanOrEqual(1);
  });
});

describe('readConsoleConfig', () => {
  it('defaults to the demo ports, and names a bad setting', () => {
    expect(readConsoleConfig({})).toMatchObject({ port: 8080, pollMs: 1000, managementUrl: 'http://guest:guest@127.0.0.1:15672', ordersUrl: 'http://127.0.0.1:3001', mailUrl: 'http://127.0.0.1:8025', controlUrl: undefined });
    expect(readConsoleConfig({ ORDERS_PORT: '4001', DEMO_CONTROL_URL: 'http://127.0.0.1:8090/' })).toMatchObject({ ordersUrl: 'http://127.0.0.1:4001', controlUrl: 'http://127.0.0.1:8090' });
    expect(() => readConsoleConfig({ CONSOLE_PORT: 'eighty' })).toThrow("CONSOLE_PORT must be a whole number from 0 to 65535, got 'eighty'");
    expect(() => readConsoleConfig({ CONSOLE_POLL_MS: '5' })).toThrow("CONSOLE_POLL_MS must be a whole number from 100 to 60000, got '5'");
    expect(() => readConsoleConfig({ AMQP_MANAGEMENT_URL: 'ftp://broker' })).toThrow("AMQP_MANAGEMENT_URL must be an http(s) URL, got 'ftp://broker'");
    expect(() => readConsoleConfig({ ORDERS_URL: 'not a url' })).toThrow("ORDERS_URL must be an http(s) URL, got 'not a url'");
  });
});
