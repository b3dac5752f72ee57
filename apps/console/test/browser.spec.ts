// The console in a real browser: Debian's chromium driven by playwright-core, against the console server (its
// built web app) and a live broker. The topology appears, a queue's depth moves without a reload when messages
// arrive, and the browser logs no error. Saves a screenshot under tmp/screenshots/.
import 'reflect-metadata';
import { connect, type ChannelModel } from 'amqplib';
import { randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';
import { serveWeb } from '../src/server/console.module';
import { startBroker, type LiveBroker } from './support/broker';
import { launchBrowser, screenshot, type TestBrowser } from './support/chromium';
import { buildWebApp, WEB_DIR } from './support/web-app';
import { startConsole, type TestConsole } from './support/console';

jest.setTimeout(90_000);

describe('the console in a browser', () => {
  const ns = `console-ui-${randomBytes(3).toString('hex')}`;
  const queue = `${ns}.orders.saga`;
  let broker: LiveBroker;
  let conn: ChannelModel;
  let server: TestConsole;
  let browser: TestBrowser;
  let page: Page;

  beforeAll(async () => {
    await buildWebApp();
    broker = await startBroker();
    conn = await connect(broker.amqpUrl, { clientProperties: { connection_name: `${ns}-orders` } });
    const ch = await conn.createChannel();
    for (const q of [queue, `${queue}.retry.1`, `${queue}.dlq`]) await ch.assertQueue(q, { durable: false });
    await ch.assertExchange(`${ns}.events`, 'topic', { durable: false });
    await ch.bindQueue(queue, `${ns}.events`, 'order.#');
    for (let i = 0; i < 3; i++) ch.publish(`${ns}.events`, 'order.placed', Buffer.from('{}'));

    server = await startConsole(
      { CONSOLE_POLL_MS: '250', AMQP_MANAGEMENT_URL: broker.managementUrl, CONSOLE_WEB_DIR: WEB_DIR },
      (app, config) => serveWeb(app, config.webDir),
    );

    browser = await launchBrowser();
    page = await browser.page();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await conn?.close();
    await broker?.stop();
  });

  it('draws the topology and moves a queue depth live, without errors', async () => {
    await page.goto(`${server.base}/`);
    await page.getByRole('heading', { name: 'Warren Console' }).waitFor();
    const node = page.locator(`g.queue[data-name="${queue}"]`);
    await node.waitFor();
    await page.locator(`g.queue[data-name="${queue}"][data-ready="3"]`).waitFor();
    // the retry and dead-letter queues are drawn in their work queue's group
    expect(await page.locator(`g.queue.retry[data-name="${queue}.retry.1"]`).count()).toBe(1);
    expect(await page.locator(`g.queue.dead-letter[data-name="${queue}.dlq"]`).count()).toBe(1);
    expect(await page.locator('.topology g.group').count()).toBeGreaterThanOrEqual(1);

    const ch = await conn.createChannel();
    for (let i = 0; i < 2; i++) ch.publish(`${ns}.events`, 'order.placed', Buffer.from('{}'));
    await page.locator(`g.queue[data-name="${queue}"][data-ready="5"]`).waitFor();
    await expect(node.locator('text').nth(1).textContent()).resolves.toContain('ready 5');

    // sources it cannot reach are shown as such, not as a broken page (no services run in this test)
    await page.locator('li[data-source="orders"][data-status="unreachable"]').waitFor();
    await screenshot(page, 'console-topology');
    expect(browser.errors).toEqual([]);
  });
});
