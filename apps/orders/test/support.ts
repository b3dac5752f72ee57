import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  CapturePayment,
  CommitStock,
  PaymentCaptured,
  PaymentDeclined,
  PaymentRefunded,
  RefundPayment,
  ReleaseStock,
  ReserveStock,
  StockRejected,
  StockReleased,
  StockReserved,
} from '@warren/contracts';
import { Messaging, type IncomingMessage } from '@warren/messaging';
import { deleteTopology, MessagingHarness } from '@warren/messaging/testing';
import { startOrders } from '../src/bootstrap';
import type { StartedService } from '@warren/service-kit';
import { createTestDatabase } from '../../../tools/testing/service-env';

export interface TestBroker {
  name: 'bundled' | 'rabbitmq';
  url: string;
}
export interface TestDatabaseKind {
  name: 'sqlite' | 'postgres';
  url?: string;
}

/** The environment as jest started, before a suite pointed DATABASE_URL at its own database. */
const SERVER_DATABASE_URL = process.env.DATABASE_URL;

/** Bundled broker always, RabbitMQ when RABBITMQ_URL is set; SQLite always, Postgres when DATABASE_URL is set. */
export function testMatrix(): Array<{ label: string; broker: TestBroker; db: TestDatabaseKind }> {
  const bundled = process.env.WARREN_TEST_BROKER_URL;
  if (!bundled)
    throw new Error('WARREN_TEST_BROKER_URL is not set: run the tests through jest -c apps/orders/jest.config.js');
  const brokers: TestBroker[] = [{ name: 'bundled', url: bundled }];
  if (process.env.RABBITMQ_URL) brokers.push({ name: 'rabbitmq', url: process.env.RABBITMQ_URL });
  const dbs: TestDatabaseKind[] = [{ name: 'sqlite' }];
  if (SERVER_DATABASE_URL) dbs.push({ name: 'postgres', url: SERVER_DATABASE_URL });
  return brokers.flatMap((broker) => dbs.map((db) => ({ label: `${broker.name} + ${db.name}`, broker, db })));
}

import { eventually } from '../../../tools/testing/eventually';

export { eventually };

/**
 * Inventory and payments, faked: a Messaging of the test's own in the suite's namespace consumes their
 * command queues and answers with the contract events.
 *   inventory: SKU-003 has 2 available, SKU-999 never answers, everything else is plentiful at 1000 cents a unit.
 *   payments:  customerEmail decline@… is declined, silent@… never answered, anything else captured.
 * An observer queue records the order.* events orders publishes.
 */
export class FakeServices {
  readonly commands: IncomingMessage<any>[] = [];
  readonly orderEvents: IncomingMessage<any>[] = [];
  readonly messaging: Messaging;

  constructor(
    url: string,
    readonly names: { eventsExchange: string; commandsExchange: string; queue: (n: string) => string },
  ) {
    this.messaging = new Messaging({
      url,
      serviceName: 'fakes',
      eventsExchange: names.eventsExchange,
      commandsExchange: names.commandsExchange,
      retry: { maxAttempts: 2, initialDelayMs: 50, multiplier: 1, maxDelayMs: 50 },
    });
  }

  async start(): Promise<void> {
    const { commandsExchange } = this.names;
    const onCommands = (m: IncomingMessage<any>) => {
      this.commands.push(m);
      return this.answer(m);
    };
    await this.messaging.consume({
      queue: this.names.queue('fake-inventory.commands'),
      bindings: [ReserveStock, ReleaseStock, CommitStock].map((c) => ({ exchange: commandsExchange, pattern: c.type })),
      handlers: [{ pattern: 'inventory.*', handle: onCommands }],
    });
    await this.messaging.consume({
      queue: this.names.queue('fake-payments.commands'),
      bindings: [CapturePayment, RefundPayment].map((c) => ({ exchange: commandsExchange, pattern: c.type })),
      handlers: [{ pattern: 'payments.*', handle: onCommands }],
    });
    await this.messaging.consume({
      queue: this.names.queue('fake-observer.order-events'),
      bindings: [{ pattern: 'order.#' }],
      handlers: [{ pattern: 'order.#', handle: (m: IncomingMessage<any>) => void this.orderEvents.push(m) }],
    });
    await this.messaging.start();
  }

  queues(): string[] {
    return ['fake-inventory.commands', 'fake-payments.commands', 'fake-observer.order-events'].map(this.names.queue);
  }

  /** Commands of one type received for one order. */
  received(type: string, orderId: string): IncomingMessage<any>[] {
    return this.commands.filter((m) => m.type === type && m.payload.orderId === orderId);
  }

  events(type: string, orderId: string): IncomingMessage<any>[] {
    return this.orderEvents.filter((m) => m.type === type && m.payload.orderId === orderId);
  }

  private async answer(m: IncomingMessage<any>): Promise<void> {
    const p = m.payload;
    switch (m.type) {
      case ReserveStock.type: {
        const items = p.items as Array<{ sku: string; quantity: number }>;
        if (items.some((i) => i.sku === 'SKU-999')) return;
        const unavailable = items
          .filter((i) => i.sku === 'SKU-003' && i.quantity > 2)
          .map((i) => ({ sku: i.sku, requested: i.quantity, available: 2 }));
        if (unavailable.length)
          return void (await this.messaging.emit(StockRejected, {
            orderId: p.orderId,
            reason: 'insufficient stock',
            unavailable,
          }));
        const priced = items.map((i) => ({ ...i, unitPrice: 1000 }));
        await this.messaging.emit(StockReserved, {
          orderId: p.orderId,
          items: priced,
          total: priced.reduce((s, i) => s + i.quantity * i.unitPrice, 0),
        });
        return;
      }
      case ReleaseStock.type:
        await this.messaging.emit(StockReleased, { orderId: p.orderId });
        return;
      case CapturePayment.type:
        if (p.customerEmail.startsWith('silent')) return;
        if (p.customerEmail.startsWith('decline'))
          return void (await this.messaging.emit(PaymentDeclined, { orderId: p.orderId, reason: 'card declined' }));
        await this.messaging.emit(PaymentCaptured, { orderId: p.orderId, paymentId: randomUUID(), amount: p.amount });
        return;
      case RefundPayment.type:
        await this.messaging.emit(PaymentRefunded, { orderId: p.orderId, paymentId: randomUUID(), amount: 0 });
        return;
    }
  }

  close(): Promise<void> {
    return this.messaging.close();
  }
}

/** One orders app with its own namespace, data directory (or Postgres database), and faked neighbours. */
export class OrdersUnderTest {
  orders!: StartedService;
  fakes!: FakeServices;
  /** Records what the orders app's own Messaging did (acks, retries) from its start. */
  harness!: MessagingHarness;
  private dataDir = '';
  private pgDatabase?: Awaited<ReturnType<typeof createTestDatabase>>;
  readonly namespace = `test-orders-${randomBytes(4).toString('hex')}`;

  constructor(
    readonly broker: TestBroker,
    readonly db: TestDatabaseKind,
    readonly saga: { stepTimeoutMs: number; sweepIntervalMs: number },
  ) {}

  get url(): string {
    return this.orders.url;
  }

  async start(): Promise<void> {
    const ns = this.namespace;
    this.dataDir = mkdtempSync(path.join(tmpdir(), 'warren-orders-'));
    if (this.db.name === 'postgres') this.pgDatabase = await createTestDatabase(this.db.url!, 'orders');
    Object.assign(process.env, {
      PORT: '0',
      WARREN_NAMESPACE: ns,
      WARREN_DATA_DIR: this.dataDir,
      AMQP_URL: this.broker.url,
      DATABASE_URL: this.pgDatabase?.url ?? '',
      SAGA_STEP_TIMEOUT_MS: String(this.saga.stepTimeoutMs),
      SAGA_SWEEP_INTERVAL_MS: String(this.saga.sweepIntervalMs),
    });
    this.fakes = new FakeServices(this.broker.url, {
      eventsExchange: `${ns}.warren.events`,
      commandsExchange: `${ns}.warren.commands`,
      queue: (n) => `${ns}.${n}`,
    });
    await this.fakes.start();
    this.orders = await startOrders({ logger: false });
    this.harness = new MessagingHarness(this.orders.app.get(Messaging));
  }

  async stop(): Promise<void> {
    await this.orders?.close();
    await this.fakes?.close();
    const ns = this.namespace;
    await deleteTopology(this.broker.url, {
      queues: [`${ns}.orders.saga`, ...(this.fakes?.queues() ?? [])],
      exchanges: [`${ns}.warren.events`, `${ns}.warren.commands`],
    });
    await this.pgDatabase?.drop();
    if (this.dataDir) rmSync(this.dataDir, { recursive: true, force: true });
  }

  // HTTP helpers
  async post(body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
    const res = await fetch(`${this.url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  }

  async get(pathAndQuery: string): Promise<{ status: number; body: any }> {
    const res = await fetch(`${this.url}${pathAndQuery}`);
    const text = await res.text();
    return { status: res.status, body: text.startsWith('{') || text.startsWith('[') ? JSON.parse(text) : text };
  }

  /** Places an order and returns its id (asserting the 201). */
  async place(customerEmail: string, items: Array<{ sku: string; quantity: number }>): Promise<string> {
    const res = await this.post({ customerEmail, items });
    if (res.status !== 201) throw new Error(`POST /orders answered ${res.status}: ${JSON.stringify(res.body)}`);
    return res.body.id as string;
  }

  /** Waits until the order's public status is `status`; returns the order. */
  settled(id: string, status: 'CONFIRMED' | 'CANCELLED', timeoutMs = 10_000): Promise<any> {
    return eventually(
      `order ${id} to be ${status}`,
      async () => {
        const { body } = await this.get(`/orders/${id}`);
        return body.status === status ? body : undefined;
      },
      timeoutMs,
    );
  }
}
