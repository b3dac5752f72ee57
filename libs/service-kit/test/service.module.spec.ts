import { Controller, Module } from '@nestjs/common';
import { EventPattern } from '@nestjs/microservices';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { connect } from 'amqplib';
import { ServiceModule, startService, topologyNames, type StartedService } from '../src';
import { eventually } from '../../../tools/testing/eventually';
import { deleteTopology } from '@warren/messaging/testing';

@Module({ imports: [ServiceModule.forRoot({ name: 'kit-db', defaultPort: 0, queue: 'kit-db.events' })] })
class WithDatabase {}

@Module({
  imports: [ServiceModule.forRoot({ name: 'kit-nodb', defaultPort: 0, queue: 'kit-nodb.events', database: false })],
})
class WithoutDatabase {}

@Controller()
class KitEvents {
  @EventPattern('kit.happened')
  happened(): void {}
}

@Module({
  imports: [ServiceModule.forRoot({ name: 'kit-quorum', defaultPort: 0, queue: 'kit-quorum.events', database: false })],
  controllers: [KitEvents],
})
class WithConsumer {}

describe('ServiceModule', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'warren-kit-'));
  const saved = { ...process.env };
  const started: StartedService[] = [];

  beforeAll(() => {
    process.env.AMQP_URL = process.env.WARREN_TEST_BROKER_URL;
    process.env.WARREN_DATA_DIR = dataDir;
    process.env.WARREN_NAMESPACE = `test.kit.${randomBytes(4).toString('hex')}`;
    process.env.PORT = '0';
    delete process.env.DATABASE_URL;
  });
  afterAll(async () => {
    await Promise.all(started.map((s) => s.close()));
    process.env = saved;
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('gives a service its SQLite database with the messaging tables migrated, and a green /health', async () => {
    const svc = await startService(WithDatabase, { name: 'kit-db', defaultPort: 0, logger: false });
    started.push(svc);
    expect(existsSync(path.join(dataDir, 'kit-db.sqlite'))).toBe(true);
    const res = await fetch(`${svc.url}/health`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; info: Record<string, unknown> };
    expect(body.status).toBe('ok');
    expect(Object.keys(body.info).sort()).toEqual(['broker', 'database']);
  });

  it('prunes inbox rows older than the retention at start (and hourly), keeping recent ones', async () => {
    const first = await startService(WithDatabase, { name: 'kit-db', defaultPort: 0, logger: false });
    const ds = first.app.get(DataSource);
    const old = Date.now() - 8 * 24 * 3_600_000;
    await ds.query('INSERT INTO messaging_inbox (consumer, message_id, processed_at) VALUES (?, ?, ?), (?, ?, ?)', [
      'c',
      'old',
      old,
      'c',
      'recent',
      Date.now(),
    ]);
    await first.close();
    const second = await startService(WithDatabase, { name: 'kit-db', defaultPort: 0, logger: false });
    started.push(second);
    const rows = await eventually('the old row to be pruned', async () => {
      const r: Array<{ message_id: string }> = await second.app
        .get(DataSource)
        .query('SELECT message_id FROM messaging_inbox ORDER BY message_id');
      return r.length === 1 ? r : undefined;
    });
    expect(rows.map((r) => r.message_id)).toEqual(['recent']);
  });

  it('runs without a database when told, checking only the broker', async () => {
    const svc = await startService(WithoutDatabase, { name: 'kit-nodb', defaultPort: 0, logger: false });
    started.push(svc);
    const body = (await (await fetch(`${svc.url}/health`)).json()) as { info: Record<string, unknown> };
    expect(Object.keys(body.info)).toEqual(['broker']);
    expect(existsSync(path.join(dataDir, 'kit-nodb.sqlite'))).toBe(false);
  });
});

// MESSAGING_QUEUE_TYPE reaches every service through ServiceModule (no per-app setting): the work queue a service
// consumes from is a quorum queue when it says so, on each broker the tests have
const brokers = [
  { name: 'bundled', url: () => process.env.WARREN_TEST_BROKER_URL! },
  ...(process.env.RABBITMQ_URL ? [{ name: 'rabbitmq', url: () => process.env.RABBITMQ_URL! }] : []),
];
describe.each(brokers)('ServiceModule with MESSAGING_QUEUE_TYPE=quorum ($name)', ({ url }) => {
  const saved = { ...process.env };
  let svc: StartedService | undefined;
  let queue = '';

  beforeAll(() => {
    process.env.AMQP_URL = url();
    process.env.MESSAGING_QUEUE_TYPE = 'quorum';
    process.env.WARREN_NAMESPACE = `test.kit.${randomBytes(4).toString('hex')}`;
    process.env.PORT = '0';
    queue = topologyNames().queue('kit-quorum.events');
  });
  afterAll(async () => {
    await svc?.close();
    await deleteTopology(url(), { queues: [queue] });
    process.env = saved;
  });

  it("declares the service's work queue as a quorum queue", async () => {
    svc = await startService(WithConsumer, { name: 'kit-quorum', defaultPort: 0, logger: false });
    // a broker takes a redeclaration only with the same arguments: the quorum ones (with the delivery limit and
    // the parking path to the DLQ) pass, the same with a classic type does not
    const quorum = {
      'x-queue-type': 'quorum',
      'x-delivery-limit': 10,
      'x-dead-letter-exchange': '',
      'x-dead-letter-routing-key': `${queue}.dlq`,
      'x-dead-letter-strategy': 'at-least-once',
      'x-overflow': 'reject-publish',
    };
    const conn = await connect(url());
    try {
      const ch = await conn.createChannel();
      expect((await ch.assertQueue(queue, { durable: true, arguments: quorum })).consumerCount).toBe(1);
      const closed = new Promise<Error>((resolve) => ch.once('error', resolve));
      await expect(
        ch.assertQueue(queue, { durable: true, arguments: { ...quorum, 'x-queue-type': 'classic' } }),
      ).rejects.toThrow(/406/);
      expect((await closed).message).toMatch(
        /inequivalent arg 'x-queue-type'.*received 'classic' but current is 'quorum'/,
      );
    } finally {
      await conn.close();
    }
  });
});
