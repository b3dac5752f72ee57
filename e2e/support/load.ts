// Steady open-loop load over HTTP for the suites and runs that check the platform's promises afterwards
// (support/invariants.ts): orders at a fixed rate, a fifth of them asking for more than there is (inventory
// refuses them), and a batch of clicks with every second order. The scale-out suite and the chaos run use it.
import { randomUUID } from 'node:crypto';
import { exponentialDelay } from '@warren/messaging';
import type { ClickCounts, PlacedOrder } from './invariants';
import { http, type Stack } from './stack';

export interface LoadOptions {
  /**
   * Keep asking until an answer comes, for at most this long: each order carries an Idempotency-Key, so a POST
   * whose answer was lost (the orders instance killed after its commit) is asked again and answered with the same
   * order, and every order the platform accepted is known. Default 0: one attempt, a failure is an error.
   */
  retryForMs?: number;
}

export class Load {
  readonly placed: PlacedOrder[] = [];
  /** Requests that got no acceptable answer (one attempt, or every retry). */
  readonly errors: string[] = [];
  readonly accepted: ClickCounts = { pageViews: 0, clicks: 0 };
  /** Click batches whose fate is unknown: the request failed without an answer (it may have been collected). */
  uncertainClicks = 0;
  private readonly waiters: Array<{ n: number; resolve: () => void }> = [];
  private stopped = false;

  /** `label` keeps this run's customers apart from an earlier run's on the same stack (each order its own address). */
  constructor(
    private readonly stack: Stack,
    private readonly label: string,
    private readonly options: LoadOptions = {},
  ) {}

  placedAtLeast(n: number): Promise<void> {
    if (this.placed.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }

  /** Ends run() early: no new order starts; those under way finish. */
  stop(): void {
    this.stopped = true;
  }

  /** `count` orders (Infinity: until stop()), the i-th due at start + i / ratePerSecond, whatever the answers do. */
  async run(count: number, ratePerSecond: number): Promise<void> {
    const started = Date.now();
    const inFlight: Array<Promise<void>> = [];
    for (let i = 0; i < count && !this.stopped; i++) {
      const due = started + (i * 1000) / ratePerSecond;
      if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now())); // the load's pace, not a wait for an outcome
      if (this.stopped) break;
      inFlight.push(this.placeOne(i));
      if (i % 2 === 0) inFlight.push(this.clicks(i));
    }
    await Promise.all(inFlight);
  }

  private async placeOne(i: number): Promise<void> {
    // every fifth order asks for more grinders than there are: inventory refuses it
    const items =
      i % 5 === 4
        ? [{ sku: 'SKU-005', quantity: 1000 }]
        : [
            { sku: `SKU-00${1 + (i % 4)}`, quantity: 1 + (i % 2) },
            { sku: 'SKU-008', quantity: 1 },
          ];
    const customerEmail = `${this.label}-o${i}-${this.stack.namespace}@example.com`;
    const orders = this.stack.instances.orders;
    const key = randomUUID();
    const deadline = Date.now() + (this.options.retryForMs ?? 0);
    for (let attempt = 0; ; attempt++) {
      // the instances take turns, as behind a load balancer (a retry goes to the next one)
      const url = orders[(i + attempt) % orders.length].url;
      const res = await http('POST', `${url}/orders`, { customerEmail, items }, { 'idempotency-key': key }).catch(
        (err: Error) => ({ status: 0, body: err.message }),
      );
      if (res.status === 201 || res.status === 200) {
        this.placed.push({ id: res.body.id as string, customerEmail, items });
        break;
      }
      // no answer, or the service could not take it now (its broker or database away): ask again while allowed
      const transient = res.status === 0 || res.status >= 500;
      if (!transient || Date.now() >= deadline) {
        this.errors.push(`order ${i}: POST /orders answered ${res.status}: ${JSON.stringify(res.body)}`);
        break;
      }
      await new Promise((r) => setTimeout(r, exponentialDelay(attempt + 1, 100, 2_000))); // backoff between attempts
    }
    for (const w of this.waiters.filter((x) => this.placed.length + this.errors.length >= x.n)) {
      this.waiters.splice(this.waiters.indexOf(w), 1);
      w.resolve();
    }
  }

  private async clicks(i: number): Promise<void> {
    const visitor = randomUUID();
    const events = [
      { type: 'page_view', visitorId: visitor, url: `https://shop.example/p/${i % 7}` },
      { type: 'click', visitorId: visitor, url: `https://shop.example/p/${i % 7}`, element: '#buy' },
      { type: 'page_view', visitorId: visitor, url: 'https://shop.example/cart' },
    ];
    const analytics = this.stack.instances.analytics;
    const res = await http('POST', `${analytics[i % analytics.length].url}/collect`, { events }).catch(
      (err: Error) => ({ status: 0, body: err.message }),
    );
    // a 503 (no broker in reach) accepted nothing, and says so: only 202s count
    if (res.status === 202 && res.body.accepted === events.length) {
      this.accepted.pageViews += 2;
      this.accepted.clicks += 1;
    } else if (res.status === 0 && this.options.retryForMs) this.uncertainClicks++;
    else if (res.status !== 503)
      this.errors.push(`clicks ${i}: POST /collect answered ${res.status}: ${JSON.stringify(res.body)}`);
  }
}
