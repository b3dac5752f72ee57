// The platform's promises, checked from public interfaces only (the services' HTTP APIs, the SMTP capture's
// Mailpit API, the broker over AMQP) after a run under load: every accepted order reached a final state and was
// charged and stocked accordingly, every customer got each email once, every accepted click was counted once,
// and no message is left in a queue or parked in a DLQ. The scale-out suite checks them after a broker node
// was stopped mid-run; each violation names the order, SKU or queue it concerns.
import { connect } from 'amqplib';
import { deadLetterQueueName } from '@warren/messaging';
import { mails, type Mail } from './observe';
import { eventually, http, SERVICE_QUEUES, type Stack } from './stack';

export interface PlacedOrder {
  id: string;
  customerEmail: string;
  items: Array<{ sku: string; quantity: number }>;
}

interface OrderView {
  id: string;
  status: 'PENDING' | 'CONFIRMED' | 'CANCELLED';
  total: number;
  items: Array<{ sku: string; quantity: number }>;
}

interface LedgerEntry {
  kind: 'capture' | 'refund' | string;
  amount: number;
}

export interface StockRow {
  sku: string;
  available: number;
  reserved: number;
}

/** Every order's final view, once none is PENDING (bounded); the error names the ones still pending. */
export async function finalOrders(
  stack: Stack,
  placed: PlacedOrder[],
  timeoutMs = 120_000,
): Promise<Map<string, OrderView>> {
  const views = new Map<string, OrderView>();
  let pending: string[] = [];
  await eventually(
    `${placed.length} orders to reach a final state`,
    async () => {
      pending = [];
      for (const o of placed) {
        if (views.has(o.id)) continue;
        const res = await http('GET', `${stack.url('orders')}/orders/${o.id}`).catch(() => undefined);
        const view = res?.status === 200 ? (res.body as OrderView) : undefined;
        if (view && view.status !== 'PENDING') views.set(o.id, view);
        else pending.push(o.id);
      }
      return pending.length === 0 ? true : undefined;
    },
    timeoutMs,
    500,
  ).catch((err: Error) => {
    throw new Error(
      `${err.message}: still pending ${pending.slice(0, 10).join(', ')}${pending.length > 10 ? ` and ${pending.length - 10} more` : ''}`,
    );
  });
  return views;
}

/** A confirmed order has one capture for its total and no refund; a cancelled one has no net charge. */
export async function paymentViolations(stack: Stack, orders: Map<string, OrderView>): Promise<string[]> {
  const violations: string[] = [];
  for (const order of orders.values()) {
    const ledger = (await http('GET', `${stack.url('payments')}/payments?orderId=${order.id}`)).body as LedgerEntry[];
    const captures = ledger.filter((e) => e.kind === 'capture');
    const refunds = ledger.filter((e) => e.kind === 'refund');
    const net = captures.reduce((n, e) => n + e.amount, 0) - refunds.reduce((n, e) => n + e.amount, 0);
    if (
      order.status === 'CONFIRMED' &&
      (captures.length !== 1 || captures[0].amount !== order.total || refunds.length !== 0)
    ) {
      violations.push(
        `order ${order.id} CONFIRMED for ${order.total} but its ledger holds ${captures.length} capture(s) and ${refunds.length} refund(s): ${JSON.stringify(ledger)}`,
      );
    }
    if (order.status === 'CANCELLED' && (net !== 0 || captures.length > 1 || refunds.length > 1)) {
      violations.push(
        `order ${order.id} CANCELLED but its ledger nets ${net} over ${captures.length} capture(s) and ${refunds.length} refund(s)`,
      );
    }
  }
  return violations;
}

/** Per SKU: what was available before, less what confirmed orders took, is what is available now; nothing stays reserved. */
export async function stockViolations(
  stack: Stack,
  before: StockRow[],
  orders: Map<string, OrderView>,
): Promise<string[]> {
  const taken = new Map<string, number>();
  for (const o of orders.values())
    if (o.status === 'CONFIRMED') for (const i of o.items) taken.set(i.sku, (taken.get(i.sku) ?? 0) + i.quantity);
  const now = new Map(
    ((await http('GET', `${stack.url('inventory')}/stock`)).body as StockRow[]).map((s) => [s.sku, s]),
  );
  const violations: string[] = [];
  for (const b of before) {
    const n = now.get(b.sku);
    const expected = b.available - (taken.get(b.sku) ?? 0);
    if (!n) violations.push(`SKU ${b.sku} is gone from /stock`);
    else if (n.available !== expected || n.reserved !== b.reserved) {
      violations.push(
        `SKU ${b.sku}: available ${n.available}, reserved ${n.reserved}; expected available ${expected} (${b.available} before, ${taken.get(b.sku) ?? 0} confirmed) and reserved ${b.reserved}`,
      );
    }
  }
  return violations;
}

/** The subjects each order's history calls for: the "received" email, then "confirmed" or "cancelled". */
const SUBJECTS = {
  placed: /^We received your order /,
  CONFIRMED: /^Your order \S+ is confirmed$/,
  CANCELLED: /^Your order \S+ was cancelled$/,
};

/**
 * Every customer (one address per order) got exactly its two emails, once each: waits until each has them
 * (bounded), then reads the capture once more, so a late duplicate still counts.
 *
 * "Once" is per email, told by its Message-ID. Sending is at least once: a notifications process killed after the
 * SMTP server took an email and before its sent record was written sends it again, under the same Message-ID
 * (apps/notifications/src/email/message-id.ts), and a mail store that drops a Message-ID it holds shows it once. Such
 * copies are not violations; `redelivered` (when given) collects a line for each. Two emails of one kind with two
 * Message-IDs are.
 */
export async function emailViolations(
  stack: Stack,
  placed: PlacedOrder[],
  orders: Map<string, OrderView>,
  timeoutMs = 90_000,
  redelivered?: string[],
): Promise<string[]> {
  const byAddress = (all: Mail[]) => {
    const m = new Map<string, Mail[]>();
    for (const mail of all) for (const to of mail.To) m.set(to.Address, [...(m.get(to.Address) ?? []), mail]);
    return m;
  };
  await eventually(
    `two emails for each of ${placed.length} orders`,
    async () => {
      const got = byAddress(await mails(stack));
      return placed.every((o) => (got.get(o.customerEmail)?.length ?? 0) >= 2) ? true : undefined;
    },
    timeoutMs,
    500,
  ).catch(() => undefined); // the check below names what is missing
  const got = byAddress(await mails(stack));
  const violations: string[] = [];
  for (const o of placed) {
    const status = orders.get(o.id)?.status;
    const distinct = new Map<string, Mail>();
    for (const m of got.get(o.customerEmail) ?? []) {
      if (!m.MessageID || !distinct.has(m.MessageID)) distinct.set(m.MessageID || m.ID, m);
      else redelivered?.push(`order ${o.id}: "${m.Subject}" sent again under its Message-ID <${m.MessageID}>`);
    }
    const subjects = [...distinct.values()].map((m) => m.Subject);
    const expected = [SUBJECTS.placed, status === 'CONFIRMED' ? SUBJECTS.CONFIRMED : SUBJECTS.CANCELLED];
    const ok = subjects.length === 2 && expected.every((re) => subjects.filter((s) => re.test(s)).length === 1);
    if (!ok)
      violations.push(
        `order ${o.id} (${status}) to ${o.customerEmail}: emails ${JSON.stringify(subjects)}, expected one "received" and one "${status === 'CONFIRMED' ? 'confirmed' : 'cancelled'}"`,
      );
  }
  return violations;
}

export interface ClickCounts {
  pageViews: number;
  clicks: number;
}

/** What GET /stats counts over the last hour (longer than any run). */
export async function clickCounts(stack: Stack): Promise<ClickCounts> {
  const res = await http('GET', `${stack.url('analytics')}/stats?minutes=60`);
  if (res.status !== 200) throw new Error(`GET /stats answered ${res.status}: ${JSON.stringify(res.body)}`);
  return { pageViews: res.body.counters.pageViews, clicks: res.body.counters.clicks };
}

/**
 * /stats counts exactly the accepted page views and clicks on top of what it counted before the run (waits for
 * them, bounded, then reads once more so an excess shows).
 */
export async function clickViolations(
  stack: Stack,
  before: ClickCounts,
  accepted: ClickCounts,
  timeoutMs = 60_000,
): Promise<string[]> {
  const expected = { pageViews: before.pageViews + accepted.pageViews, clicks: before.clicks + accepted.clicks };
  await eventually(
    'the stats to count every accepted event',
    async () => {
      const now = await clickCounts(stack);
      return now.pageViews >= expected.pageViews && now.clicks >= expected.clicks ? true : undefined;
    },
    timeoutMs,
    250,
  ).catch(() => undefined);
  const now = await clickCounts(stack);
  return now.pageViews === expected.pageViews && now.clicks === expected.clicks
    ? []
    : [
        `/stats counts ${now.pageViews - before.pageViews} page views and ${now.clicks - before.clicks} clicks more than before the run; ${accepted.pageViews} and ${accepted.clicks} were accepted`,
      ];
}

/** No message waits in any of the stack's queues, and none is parked in a DLQ. */
export async function queueViolations(amqpUrl: string, namespace: string, timeoutMs = 30_000): Promise<string[]> {
  const queues = SERVICE_QUEUES.map((q) => `${namespace}.${q}`);
  const deadLetterQueues = new Set(queues.map(deadLetterQueueName));
  let left: string[] = [];
  let parked = false;
  await eventually(
    'every queue to drain',
    async () => {
      left = [];
      parked = false;
      const conn = await connect(amqpUrl);
      try {
        for (const name of queues.flatMap((q) => [q, deadLetterQueueName(q)])) {
          const ch = await conn.createChannel();
          ch.on('error', () => undefined);
          // a queue that does not exist (a service that declares no RPC queue) holds nothing
          const ok = await ch.checkQueue(name).catch(() => undefined);
          if (ok && ok.messageCount > 0) {
            left.push(`${name} holds ${ok.messageCount} message(s)`);
            parked ||= deadLetterQueues.has(name);
          }
          await ch.close().catch(() => undefined);
        }
      } finally {
        await conn.close().catch(() => undefined);
      }
      // a DLQ never drains by itself: one parked message is a violation at once
      return left.length === 0 || parked ? true : undefined;
    },
    timeoutMs,
    500,
  ).catch(() => undefined);
  return left;
}
