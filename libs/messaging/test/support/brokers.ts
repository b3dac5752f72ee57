import { randomBytes } from 'node:crypto';
import { connect } from 'amqplib';

export interface TestBroker {
  name: 'bundled' | 'rabbitmq';
  url: string;
}

/** The brokers every pattern is proven on: the bundled one always, RabbitMQ when RABBITMQ_URL is set. */
export function testBrokers(): TestBroker[] {
  const bundled = process.env.WARREN_TEST_BROKER_URL;
  if (!bundled) throw new Error('WARREN_TEST_BROKER_URL is not set: run the tests through jest -c libs/messaging/jest.config.js');
  const list: TestBroker[] = [{ name: 'bundled', url: bundled }];
  if (process.env.RABBITMQ_URL) list.push({ name: 'rabbitmq', url: process.env.RABBITMQ_URL });
  return list;
}

/** A name no other test (or earlier run) uses: every test declares its own exchanges and queues. */
export function uniqueName(prefix: string): string {
  return `test.${prefix}.${randomBytes(4).toString('hex')}`;
}

/** Deletes what a test declared (queues with their retry and DLQ companions, exchanges). */
export async function cleanup(url: string, what: { queues?: string[]; exchanges?: string[]; retryLevels?: number }): Promise<void> {
  const conn = await connect(url);
  try {
    for (const q of what.queues ?? []) {
      for (const name of [q, `${q}.dlq`, ...Array.from({ length: what.retryLevels ?? 10 }, (_, i) => `${q}.retry.${i + 1}`)]) {
        const ch = await conn.createChannel();
        ch.on('error', () => undefined);
        await ch.deleteQueue(name).catch(() => undefined);
        await ch.close().catch(() => undefined);
      }
    }
    for (const e of what.exchanges ?? []) {
      const ch = await conn.createChannel();
      ch.on('error', () => undefined);
      await ch.deleteExchange(e).catch(() => undefined);
      await ch.close().catch(() => undefined);
    }
  } finally {
    await conn.close();
  }
}

/** Polls until `check` returns a value other than undefined, or fails after `timeoutMs` naming `what`. */
export async function eventually<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
