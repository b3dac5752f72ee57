// The console as a newcomer uses it: `npm run demo` (tools/testing/demo.ts), the console's URL in Debian's
// chromium, and the flows the README promises (an order's trace, from the services' own exports, among them), on
// the bundled broker and on RabbitMQ (RABBITMQ_URL and
// RABBITMQ_MANAGEMENT_URL set: the demo runs against it under a namespace of its own). Each flow goes through
// the page only; the platform's own APIs are read to check what the page claims. Any browser error fails it.
// Screenshots land in tmp/screenshots/ (the README's pictures come from there).
import type { Page } from 'playwright-core';
import { startDemo, type RunningDemo } from '../../../tools/testing/demo';
import { eventually } from '../../../tools/testing/eventually';
import { launchBrowser, screenshot, type TestBrowser } from './support/chromium';

jest.setTimeout(240_000);

const targets = [
  { name: 'bundled', broker: undefined as undefined | { amqpUrl: string; managementUrl: string } },
  ...(process.env.RABBITMQ_URL && process.env.RABBITMQ_MANAGEMENT_URL
    ? [
        {
          name: 'rabbitmq',
          broker: { amqpUrl: process.env.RABBITMQ_URL, managementUrl: process.env.RABBITMQ_MANAGEMENT_URL },
        },
      ]
    : []),
];

interface Order {
  id: string;
  status: string;
  history?: Array<{ step: string }>;
}

describe.each(targets)('the console against the running demo ($name broker)', ({ name, broker }) => {
  let demo: RunningDemo;
  let browser: TestBrowser;
  let page: Page;
  const shot = async (what: string) => {
    await page.evaluate('window.scrollTo(0, 0)'); // a click on the side panel may have scrolled the view away
    await screenshot(page, name === 'bundled' ? `console-${what}` : `console-${what}-${name}`);
  };
  const tab = (label: string) => page.getByRole('tab', { name: label }).click();
  const order = async (id: string): Promise<Order> =>
    (await fetch(`${demo.url('ORDERS_PORT')}/orders/${id}`)).json() as Promise<Order>;

  beforeAll(async () => {
    demo = await startDemo({ broker });
    browser = await launchBrowser();
    page = await browser.page();
    await page.goto(demo.url('CONSOLE_PORT'));
    await page.getByRole('heading', { name: 'Warren Console' }).waitFor();
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await demo?.stop();
  });

  it('places an order from the form and shows its saga, step by step, until it is confirmed', async () => {
    await tab('Orders');
    const form = page.locator('form[data-form="place-order"]');
    await form.getByLabel('Customer email').fill('ada@example.com');
    // the SKU is a choice from the live stock once inventory has answered (a text field until then)
    await form.locator('select[name="sku"]').waitFor();
    await form.getByLabel('SKU').selectOption('SKU-001');
    await form.getByLabel('Quantity').fill('1');
    await form.getByRole('button', { name: 'Place order' }).click();
    const placed = page.locator('[data-placed-order]');
    await placed.waitFor();
    const id = (await placed.getAttribute('data-placed-order'))!;
    // the new order is selected: its timeline grows step by step until the saga ends
    const detail = page.locator(`article[data-order-detail="${id}"]`);
    await page.locator(`article[data-order-detail="${id}"][data-status="CONFIRMED"]`).waitFor({ timeout: 30_000 });
    for (const step of ['PLACED', 'STOCK_RESERVED', 'CONFIRMED'])
      await detail.locator(`li[data-step="${step}"]`).waitFor();
    // each step after PLACED names the message that drove it
    await detail
      .locator('li[data-step="STOCK_RESERVED"] [data-driven-by] [data-message-type][data-message-id]')
      .first()
      .waitFor();
    await page.locator(`li[data-order-id="${id}"][data-status="CONFIRMED"]`).waitFor();
    expect((await order(id)).status).toBe('CONFIRMED');
    await shot('orders');
  });

  it("shows the order's trace, exported by the services to the console, as a waterfall across orders, inventory, payments and notifications", async () => {
    const id = (await page.locator('[data-placed-order]').getAttribute('data-placed-order'))!;
    const figure = page.locator(`section.orders-trace[data-trace-for="${id}"] figure.trace`);
    // the spans come in each service's next batch (every second in the demo); the emails' after their job ran
    for (const service of ['orders', 'inventory', 'payments', 'notifications'])
      await figure.locator(`tbody tr[data-service="${service}"]`).first().waitFor({ timeout: 30_000 });
    await figure
      .locator('tbody tr[data-service="notifications"] th', { hasText: 'smtp send' })
      .first()
      .waitFor({ timeout: 30_000 });
    // one root, the POST that placed the order; everything else indented under it
    expect(await figure.locator('tbody tr[data-depth="0"]').count()).toBe(1);
    expect(await figure.locator('tbody tr[data-depth="0"] th').textContent()).toMatch(/POST/);
    const { traces } = (await (await fetch(`${demo.url('CONSOLE_PORT')}/api/traces?orderId=${id}`)).json()) as {
      traces: Array<{ traceId: string; services: string[] }>;
    };
    expect(traces).toHaveLength(1);
    expect(await figure.getAttribute('data-trace-id')).toBe(traces[0].traceId);
    expect([...traces[0].services].sort()).toEqual(
      expect.arrayContaining(['inventory', 'notifications', 'orders', 'payments']),
    );
  });

  it('shows commands waiting in a queue while payments is stopped, and draining when it continues', async () => {
    await tab('Topology');
    const queue = page.locator(`g.queue[data-name="${demo.namespace}.payments.commands"]`);
    await queue.waitFor();
    const processes = page.locator('[data-control="processes"]');
    await processes.locator('[data-process="payments"]').getByRole('button', { name: 'Stop (SIGSTOP)' }).click();
    await processes.locator('[data-process="payments"][data-paused="true"]').waitFor();
    const placed: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${demo.url('ORDERS_PORT')}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ customerEmail: `depth-${i}@example.com`, items: [{ sku: 'SKU-002', quantity: 1 }] }),
      });
      placed.push(((await res.json()) as Order).id);
    }
    // the commands wait in the queue: ready, or unacked when the broker already pushed them to the frozen
    // consumer (RabbitMQ keeps a SIGSTOPped client's connection until its heartbeat times out)
    const commands = `g.queue[data-name="${demo.namespace}.payments.commands"]`;
    await page.locator(`${commands}:is(:not([data-ready="0"]), :not([data-unacked="0"]))`).waitFor({ timeout: 30_000 });
    await shot('topology');
    await processes.locator('[data-process="payments"]').getByRole('button', { name: 'Continue' }).click();
    await processes.locator('[data-process="payments"][data-paused="false"]').waitFor();
    await page.locator(`${commands}[data-ready="0"][data-unacked="0"]`).waitFor({ timeout: 30_000 });
    await eventually(
      'the three orders to be confirmed',
      async () => ((await Promise.all(placed.map(order))).every((o) => o.status === 'CONFIRMED') ? true : undefined),
      30_000,
      250,
    );
  });

  it('kills payments from the controls: an order waits, and completes once the supervisor has restarted it', async () => {
    const processes = page.locator('[data-control="processes"]');
    const before = Number(await processes.locator('[data-process="payments"]').getAttribute('data-restarts'));
    await processes.locator('[data-process="payments"]').getByRole('button', { name: 'Kill -9' }).click();
    const res = await fetch(`${demo.url('ORDERS_PORT')}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ customerEmail: 'killed@example.com', items: [{ sku: 'SKU-003', quantity: 1 }] }),
    });
    const placed = (await res.json()) as Order;
    await processes
      .locator(`[data-process="payments"][data-state="running"][data-restarts="${before + 1}"]`)
      .waitFor({ timeout: 30_000 });
    await eventually(
      'the order to be confirmed after the restart',
      async () => ((await order(placed.id)).status === 'CONFIRMED' ? true : undefined),
      60_000,
      250,
    );
    await tab('Orders');
    await page.locator(`[data-order-id="${placed.id}"][data-status="CONFIRMED"]`).waitFor();
  });

  it('parks a poison message with its guided scenario, then replays it from the dead-letter view', async () => {
    await page.getByRole('button', { name: 'Poison message → DLQ → replay' }).click();
    await page.locator('[data-scenario-run][data-state="passed"]').waitFor({ timeout: 90_000 });
    // the scenario replayed it once and it was parked again (it is still poison); replay it once more by hand
    await tab('Dead letters');
    const dlq = page.locator(`[data-dlq="${demo.namespace}.notifications.order-events.dlq"]`);
    const parked = dlq.locator('[data-parked-id^="console-scenario-poison-"][data-replay-count="1"]');
    await parked.waitFor();
    const id = (await parked.getAttribute('data-parked-id'))!;
    await shot('dead-letters');
    await parked.getByRole('button', { name: 'Replay', exact: true }).click();
    await dlq.locator(`[data-parked-id="${id}"][data-replay-count="2"]`).waitFor({ timeout: 30_000 });
  });

  it('fits a phone width, and the browser logged no error', async () => {
    const phone = await browser.page({ width: 390, height: 844 });
    await phone.goto(demo.url('CONSOLE_PORT'));
    await phone.getByRole('heading', { name: 'Warren Console' }).waitFor();
    const overflow = await phone.evaluate(
      'document.documentElement.scrollWidth - document.documentElement.clientWidth',
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await phone.close();
    expect(browser.errors).toEqual([]);
  });
});
