// An order's trace in a real browser: Debian's chromium driven by playwright-core, against the console server
// (its built web app) with the real orders service behind it. An order is placed and selected; before any span
// the Trace panel says tracing is off; then a realistic trace of that order from four services is POSTed to the
// console's /v1/traces, as the services' exporters do, and the waterfall appears without a reload: a row per
// span, indented under its parent, durations as text, the failed SMTP attempt marked, a span's attributes
// opened from the keyboard; a span arriving later is added live. Saves tmp/screenshots/console-trace.png (the
// README's picture, docs/images/console-trace.png).
import 'reflect-metadata';
import path from 'node:path';
import type { Page } from 'playwright-core';
import type { Order } from '../src/contracts/orders';
import { serveWeb } from '../src/server/console.module';
import { launchBrowser, ROOT, type TestBrowser } from './support/chromium';
import { buildWebApp, WEB_DIR } from './support/web-app';
import { closedUrl, startConsole, type TestConsole } from './support/console';
import { orderTrace, postTraces } from './support/order-trace';
import { startOrdersProcess } from './support/orders-process';

jest.setTimeout(120_000);

describe("an order's trace as a waterfall, in a browser", () => {
  let orders: { url: string; stop(): Promise<void> } | undefined;
  let server: TestConsole;
  let browser: TestBrowser;
  let page: Page;
  let forwardUrl: string;

  beforeAll(async () => {
    const amqpUrl = process.env.WARREN_TEST_BROKER_URL;
    if (!amqpUrl) throw new Error('WARREN_TEST_BROKER_URL is not set: run through jest -c apps/console/jest.config.js');
    await buildWebApp();
    // orders alone, with a saga deadline far away: the order stays PENDING while the test looks at it
    orders = await startOrdersProcess(amqpUrl, { SAGA_STEP_TIMEOUT_MS: '600000' });
    // forwarding to a Jaeger that is not there: the page says so under the waterfall
    forwardUrl = `${await closedUrl()}/v1/traces`;
    server = await startConsole(
      {
        CONSOLE_POLL_MS: '250',
        ORDERS_URL: orders.url,
        CONSOLE_WEB_DIR: WEB_DIR,
        CONSOLE_OTLP_FORWARD_URL: forwardUrl,
      },
      (app, config) => serveWeb(app, config.webDir),
    );
    browser = await launchBrowser();
    page = await browser.page({ width: 1400, height: 1000 });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await orders?.stop();
  }, 60_000);

  it('says tracing is off, then draws the trace live: every service, indented, with durations, errors and attributes', async () => {
    const placed = await fetch(`${server.base}/api/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        customerEmail: 'grace@example.com',
        items: [
          { sku: 'SKU-001', quantity: 2 },
          { sku: 'SKU-004', quantity: 1 },
        ],
      }),
    });
    expect(placed.status).toBe(201);
    const order = (await placed.json()) as Order;

    await page.goto(`${server.base}/`);
    await page.getByRole('tab', { name: 'Orders' }).click();
    await page.locator(`li[data-order-id="${order.id}"] button`).click();
    const section = page.locator(`section.orders-trace[data-trace-for="${order.id}"]`);
    await section.locator('[data-trace-empty="off"]').waitFor();
    expect(await section.textContent()).toContain(`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=${server.base}/v1/traces`);
    // an exporter set to protobuf is refused, and the page says why
    expect(
      (await postTraces(server.base, Buffer.from([0x0a, 0x00]), { 'content-type': 'application/x-protobuf' })).status,
    ).toBe(415);
    await section
      .locator('[data-trace-refused]', {
        hasText:
          'It refused 1 request(s); the last: 415: a protobuf body: this console reads OTLP/HTTP JSON only: set OTEL_EXPORTER_OTLP_PROTOCOL=http/json',
      })
      .waitFor();

    const trace = orderTrace(order.id);
    for (const r of trace.requests) expect((await postTraces(server.base, r.body)).status).toBe(200);

    const figure = section.locator(`figure.trace[data-trace-id="${trace.traceId}"]`);
    await figure.waitFor();
    const rows = figure.locator('tbody tr[data-span-id]');
    // the four services' requests may come to the page as one refresh or several: wait for the last row
    await rows.nth(trace.spanCount - 1).waitFor();
    await expect(rows.count()).resolves.toBe(trace.spanCount);
    for (const service of ['orders', 'inventory', 'payments', 'notifications']) {
      expect(await figure.locator(`tbody tr[data-service="${service}"]`).count()).toBeGreaterThan(0);
      expect(await figure.locator(`.trace-legend li[data-service="${service}"]`).count()).toBe(1);
    }

    // indented by parent: the root at 0, the relay's send under the POST that wrote the row, inventory's consumer under that
    const row = (name: string) => figure.locator(`tr[data-span-id="${trace.ids[name]}"]`);
    const depth = async (name: string) => Number(await row(name).getAttribute('data-depth'));
    expect(await depth('POST /orders')).toBe(0);
    expect(await depth('send order.placed')).toBe(1);
    expect(await depth('process order-placed')).toBe(2);
    const x = async (name: string) => (await row(name).locator('button').boundingBox())!.x;
    expect(await x('process order-placed')).toBeGreaterThan(await x('send order.placed'));
    expect(await x('send order.placed')).toBeGreaterThan(await x('POST /orders'));
    // the rows in reading order: the first is the root, a child right under its parent
    expect(await rows.nth(0).getAttribute('data-span-id')).toBe(trace.ids['POST /orders']);

    // durations and starts as text
    expect(await row('POST /orders').locator('td[data-duration]').textContent()).toBe('19.4 ms');
    expect(await row('process capture').locator('td[data-duration]').textContent()).toBe('43.2 ms');
    expect(await row('process capture').locator('td[data-start]').textContent()).toBe('+53.0 ms');
    expect(await figure.locator('figcaption').textContent()).toContain(`${trace.spanCount} spans · 176 ms`);
    // the bar to scale: payments' consumer starts at 53/176 of the track
    const track = (await row('process capture').locator('.trace-track').boundingBox())!;
    const bar = (await row('process capture').locator('.trace-bar').boundingBox())!;
    expect((bar.x - track.x) / track.width).toBeCloseTo(53 / 176, 2);
    expect(bar.width / track.width).toBeCloseTo(43.2 / 176, 2);

    // the failed SMTP attempt is marked, in text
    const failed = row('smtp failed');
    expect(await failed.getAttribute('data-status')).toBe('error');
    expect(await failed.locator('.trace-error').textContent()).toBe('error: 421 4.3.0 try again later');
    expect(await figure.locator('tr[data-status="error"]').count()).toBe(1);

    // a span's attributes, opened from the keyboard
    const toggle = row('process capture').getByRole('button');
    await toggle.focus();
    await page.keyboard.press('Enter');
    expect(await toggle.getAttribute('aria-expanded')).toBe('true');
    const details = figure.locator(`[data-details-for="${trace.ids['process capture']}"]`);
    await details.waitFor();
    const text = await details.textContent();
    expect(text).toContain('messaging.destination.name');
    expect(text).toContain('payments.capture');
    expect(text).toContain(order.id);
    await page.keyboard.press('Enter');
    await details.waitFor({ state: 'detached' });
    // open one for the picture: the relay's send, with its link to the outbox write
    await row('send order.placed').getByRole('button').click();

    // a span that comes later (the exporter's next batch: a second SMTP send under the job) is added without a reload
    const late = structuredClone(trace.requests[3].body) as {
      resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<Record<string, unknown>> }> }>;
    };
    const scopes = late.resourceSpans[0].scopeSpans;
    const sent = scopes.flatMap((s) => s.spans).find((s) => s.spanId === trace.ids['smtp send'])!;
    const lateSpanId = 'feedfacecafe0001';
    const at = (ms: number) => String(BigInt(sent.startTimeUnixNano as string) + BigInt(ms * 1_000_000));
    late.resourceSpans[0].scopeSpans = [
      { ...scopes[0], spans: [{ ...sent, spanId: lateSpanId, startTimeUnixNano: at(26), endTimeUnixNano: at(36) }] },
    ];
    expect((await postTraces(server.base, late)).status).toBe(200);
    await figure.locator(`tr[data-span-id="${lateSpanId}"][data-depth="${await depth('smtp send')}"]`).waitFor();
    await expect(rows.count()).resolves.toBe(trace.spanCount + 1);

    // each accepted request was passed on, and failed: counted on the page with the reason
    await section.locator('.trace-forward[data-forward-failed="5"]').waitFor();
    expect(await section.locator('.trace-forward').textContent()).toBe(
      `Passed on to ${forwardUrl}: 0 sent, 5 failed · last problem: ${forwardUrl}: ECONNREFUSED`,
    );

    await page.mouse.move(0, 0); // no hover underline in the picture
    await figure.scrollIntoViewIfNeeded();
    await figure.screenshot({ path: path.join(ROOT, 'tmp/screenshots/console-trace.png') });
    expect(browser.errors).toEqual([]);
  });
});
