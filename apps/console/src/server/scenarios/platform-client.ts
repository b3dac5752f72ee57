import type { ConsoleConfig } from '../config';
import { sendJson } from '../upstream';

/** An order as GET /orders/:id documents it (the fields the scenarios read). */
export interface PlacedOrder {
  id: string;
  status: 'PENDING' | 'CONFIRMED' | 'CANCELLED';
  reason?: string;
  customerEmail: string;
  total?: number;
  paymentId?: string;
  history: Array<{ step: string; at: string }>;
}

export interface StockLevel {
  sku: string;
  name: string;
  available: number;
  reserved: number;
}

export interface LedgerEntry {
  kind: 'capture' | 'refund';
  orderId: string;
  paymentId: string;
  amount: number;
  /** The payments instance that captured it (added for the competing-consumers scenario; older rows have none). */
  instance?: string;
}

export interface CapturedMail {
  ID: string;
  To: Array<{ Address: string }>;
  Subject: string;
  Created: string;
}

export interface Stats {
  counters: { pageViews: number; clicks: number };
  topPages: Array<{ url: string; views: number }>;
}

/**
 * The platform's public HTTP interfaces as the scenarios call them: every request gives up with the run (its
 * abort signal) or after 10 s, whichever comes first, and fails as sendJson does (one line naming the call).
 */
export class PlatformClient {
  constructor(
    private readonly config: ConsoleConfig,
    private readonly signal: AbortSignal,
  ) {}

  private send<T>(
    method: string,
    url: string,
    body?: unknown,
    headers?: Record<string, string>,
    timeoutMs = 10_000,
  ): Promise<T> {
    return sendJson<T>(method, url, {
      body,
      headers,
      signal: AbortSignal.any([this.signal, AbortSignal.timeout(timeoutMs)]),
    });
  }

  placeOrder(customerEmail: string, items: Array<{ sku: string; quantity: number }>): Promise<PlacedOrder> {
    return this.send('POST', `${this.config.ordersUrl}/orders`, { customerEmail, items });
  }

  order(id: string): Promise<PlacedOrder> {
    return this.send('GET', `${this.config.ordersUrl}/orders/${encodeURIComponent(id)}`);
  }

  stock(): Promise<StockLevel[]> {
    return this.send('GET', `${this.config.inventoryUrl}/stock`);
  }

  /** The SKU with the most units available (scenarios place real orders; they take what there is most of). */
  async roomiestSku(atLeast: number): Promise<StockLevel | undefined> {
    const best = (await this.stock()).sort((a, b) => b.available - a.available)[0];
    return best && best.available >= atLeast ? best : undefined;
  }

  /** Captures and refunds of one payments instance (its URL; the first instance by default). */
  ledger(baseUrl = this.config.paymentsUrl, limit = 1000): Promise<LedgerEntry[]> {
    return this.send('GET', `${baseUrl}/payments?limit=${limit}`);
  }

  async mails(limit = 500): Promise<CapturedMail[]> {
    const body = await this.send<{ messages: CapturedMail[] }>(
      'GET',
      `${this.config.mailUrl}/api/v1/messages?limit=${limit}`,
    );
    return body.messages ?? [];
  }

  async mailsTo(address: string): Promise<CapturedMail[]> {
    return (await this.mails()).filter((m) => m.To?.some((t) => t.Address === address));
  }

  /** Analytics' figures over the last `minutes` minutes. */
  stats(minutes = 60): Promise<Stats> {
    return this.send('GET', `${this.config.analyticsUrl}/stats?minutes=${minutes}`);
  }

  collect(events: unknown[]): Promise<{ accepted: number; rejected: unknown[] }> {
    return this.send('POST', `${this.config.analyticsUrl}/collect`, { events });
  }

  /** A service's messaging counters (its GET /health, details.broker.counters): consumed, retried, … */
  async counters(baseUrl: string): Promise<Record<string, number>> {
    const health = await this.send<{ details?: { broker?: { counters?: Record<string, number> } } }>(
      'GET',
      `${baseUrl}/health`,
    );
    return health.details?.broker?.counters ?? {};
  }

  /** A GET on the broker's management API, e.g. `/api/bindings`. */
  management<T>(path: string): Promise<T> {
    return this.send('GET', `${this.config.managementUrl}${path}`);
  }
}
