// The console's orders API (POST /api/orders, GET /api/orders/:id): input refused before any call upstream,
// an orders service that is not there as a 502 naming it, and the real orders service (a process, as the e2e
// suites run it) placing an order and answering it with its saga history.
import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { eventually } from '../../../tools/testing/eventually';
import type { Order } from '../src/contracts/orders';
import { startConsole } from './support/console';
import { startOrdersProcess } from './support/orders-process';

async function call(method: string, url: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const good = { customerEmail: 'ada@example.com', items: [{ sku: 'SKU-001', quantity: 2 }] };

describe('the console orders API with the orders service down', () => {
  let app: INestApplication;
  let base: string;

  beforeAll(async () => {
    ({ app, base } = await startConsole()); // every upstream, the orders service too, at a closed port
  });
  afterAll(() => app?.close());

  it('answers POST /api/orders and GET /api/orders/:id with a 502 that names the orders service', async () => {
    for (const res of [
      await call('POST', `${base}/api/orders`, good),
      await call('GET', `${base}/api/orders/${randomUUID()}`),
    ]) {
      expect(res.status).toBe(502);
      expect(res.body).toMatchObject({
        statusCode: 502,
        error: 'Bad Gateway',
        message: expect.stringMatching(
          /^the orders service: (POST|GET) http:\/\/127\.0\.0\.1:\d+\/orders.* failed \(ECONNREFUSED\)$/,
        ),
      });
    }
  });

  // with the upstream down, a body that got past validation would be a 502: a 400 means it never left
  it.each([
    [
      'a bad email and a malformed SKU',
      { customerEmail: 'nope', items: [{ sku: 'apple', quantity: 1 }] },
      ['customerEmail', 'items.0.sku'],
    ],
    ['no items', { customerEmail: 'a@example.com', items: [] }, ['items']],
    [
      '51 items',
      {
        customerEmail: 'a@example.com',
        items: Array.from({ length: 51 }, (_, i) => ({ sku: `SKU-${100 + i}`, quantity: 1 })),
      },
      ['items'],
    ],
    [
      'quantities 0 and 1.5 and 1001',
      {
        customerEmail: 'a@example.com',
        items: [
          { sku: 'SKU-001', quantity: 0 },
          { sku: 'SKU-002', quantity: 1.5 },
          { sku: 'SKU-003', quantity: 1001 },
        ],
      },
      ['items.0.quantity', 'items.1.quantity', 'items.2.quantity'],
    ],
    [
      'a SKU twice',
      {
        customerEmail: 'a@example.com',
        items: [
          { sku: 'SKU-001', quantity: 1 },
          { sku: 'SKU-001', quantity: 2 },
        ],
      },
      ['items.1.sku'],
    ],
    ['an unknown field', { ...good, coupon: 'FREE' }, ['(body)']],
    ['no body at all', undefined, ['(body)']],
    ['a list instead of an object', '["ada"]', ['(body)']],
  ])('refuses %s with a 400 listing every problem, without calling the orders service', async (_what, body, paths) => {
    const res = await call('POST', `${base}/api/orders`, body);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ statusCode: 400, message: 'invalid request body' });
    expect(res.body.issues.map((i: { path: string }) => i.path)).toEqual(paths);
    for (const issue of res.body.issues) expect(issue.message).toEqual(expect.any(String));
  });

  it.each(['not-a-uuid', '123', 'SKU-001'])(
    'answers GET /api/orders/%s with a 400 of its own (not a UUID)',
    async (id) => {
      const res = await call('GET', `${base}/api/orders/${id}`);
      expect(res).toEqual({
        status: 400,
        body: {
          statusCode: 400,
          error: 'Bad Request',
          message: 'invalid path parameters',
          issues: [{ path: 'id', message: 'must be an order id (a UUID)' }],
        },
      });
    },
  );
});

describe('the console orders API with the real orders service', () => {
  let orders: { url: string; stop(): Promise<void> } | undefined;
  let app: INestApplication;
  let base: string;

  beforeAll(async () => {
    const amqpUrl = process.env.WARREN_TEST_BROKER_URL;
    if (!amqpUrl) throw new Error('WARREN_TEST_BROKER_URL is not set: run through jest -c apps/console/jest.config.js');
    // orders alone: nobody answers reserve-stock, so the saga's deadline (short here) cancels the order
    orders = await startOrdersProcess(amqpUrl, { SAGA_STEP_TIMEOUT_MS: '1000', SAGA_SWEEP_INTERVAL_MS: '100' });
    ({ app, base } = await startConsole({ ORDERS_URL: orders.url }));
  }, 120_000);
  afterAll(async () => {
    await app?.close();
    await orders?.stop();
  }, 60_000);

  it('places an order and reads it back with its saga history, a 404 for an unknown id passing through', async () => {
    const placed = await call('POST', `${base}/api/orders`, good);
    expect(placed).toMatchObject({
      status: 201,
      body: { status: 'PENDING', customerEmail: good.customerEmail, items: good.items },
    });
    const id = (placed.body as Order).id;
    expect(placed.body.history).toEqual([
      expect.objectContaining({
        step: 'PLACED',
        via: 'http',
        sent: [
          expect.objectContaining({ type: 'order.placed' }),
          expect.objectContaining({ type: 'inventory.reserve-stock' }),
        ],
      }),
    ]);

    const cancelled = await eventually('the order timed out', async () => {
      const res = await call('GET', `${base}/api/orders/${id}`);
      return res.status === 200 && res.body.status === 'CANCELLED' ? (res.body as Order) : undefined;
    });
    expect(cancelled.reason).toBe('timed out waiting for stock reservation');
    expect(cancelled.history?.map((h) => h.step)).toEqual(['PLACED', 'CANCELLED']);
    expect(cancelled.history?.[1]).toMatchObject({
      via: 'deadline',
      sent: [{ type: 'inventory.release-stock' }, { type: 'order.cancelled' }],
    });

    const unknown = await call('GET', `${base}/api/orders/${randomUUID()}`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.message).toMatch(/^the orders service: GET .* answered 404: no order /);
  });
});
