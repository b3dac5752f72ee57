import * as amqp from 'amqplib';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBroker } from '../src/testing';
import { brokerLife } from './support/restarts';

/** Restarts (clean shutdowns) of a broker with a data directory: what is durable comes back, the rest does not. */
describe('durability across restarts', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'warren-durable-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  const withBroker = <T>(port: number, run: (conn: amqp.ChannelModel) => Promise<T>) => brokerLife(dataDir, port, run);

  async function publishConfirmed(
    ch: amqp.ConfirmChannel,
    exchange: string,
    key: string,
    body: string,
    options: amqp.Options.Publish = {},
  ) {
    await new Promise<void>((resolve, reject) =>
      ch.publish(exchange, key, Buffer.from(body), options, (e) => (e ? reject(e) : resolve())),
    );
  }

  async function drain(ch: amqp.Channel, queue: string): Promise<amqp.GetMessage[]> {
    const got: amqp.GetMessage[] = [];
    for (;;) {
      const m = await ch.get(queue, { noAck: true });
      if (!m) return got;
      got.push(m);
    }
  }

  it('keeps durable definitions and persistent messages; drops transient ones', async () => {
    const { port } = await withBroker(0, async (conn) => {
      const ch = await conn.createConfirmChannel();
      await ch.assertExchange('orders', 'topic', { durable: true, arguments: { 'alternate-exchange': 'ae' } });
      await ch.assertExchange('scratch', 'fanout', { durable: false });
      await ch.assertQueue('work', { durable: true, arguments: { 'x-max-length': 1000 } });
      await ch.assertQueue('temp', { durable: false });
      await ch.assertQueue('mine', { durable: true, exclusive: true });
      await ch.bindQueue('work', 'orders', 'order.*');
      for (let i = 0; i < 5; i++)
        await publishConfirmed(ch, 'orders', 'order.placed', `p${i}`, { persistent: true, messageId: `m${i}` });
      await publishConfirmed(ch, 'orders', 'order.placed', 'transient', { persistent: false });
      await publishConfirmed(ch, '', 'temp', 'gone', { persistent: true });
    });

    await withBroker(port, async (conn) => {
      const ch = await conn.createChannel();
      const errors: unknown[] = [];
      // definitions came back, arguments included (redeclaring with different ones would be a 406)
      await ch.checkExchange('orders');
      expect((await ch.assertQueue('work', { durable: true, arguments: { 'x-max-length': 1000 } })).messageCount).toBe(
        5,
      );
      const got = await drain(ch, 'work');
      expect(got.map((m) => m.content.toString())).toEqual(['p0', 'p1', 'p2', 'p3', 'p4']);
      expect(got.map((m) => m.properties.messageId)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
      expect(got.every((m) => !m.fields.redelivered)).toBe(true);
      // the binding came back too
      ch.publish('orders', 'order.shipped', Buffer.from('after'));
      await expect(drain(ch, 'work')).resolves.toHaveLength(1);
      for (const [kind, name] of [
        ['exchange', 'scratch'],
        ['queue', 'temp'],
        ['queue', 'mine'],
      ]) {
        const probe = await conn.createChannel();
        probe.on('error', (e) => errors.push(e));
        await expect(kind === 'exchange' ? probe.checkExchange(name) : probe.checkQueue(name)).rejects.toMatchObject({
          code: 404,
        });
      }
    });
  });

  it('brings back unacknowledged messages redelivered, acknowledged ones not at all, in order', async () => {
    const { port } = await withBroker(0, async (conn) => {
      const ch = await conn.createConfirmChannel();
      await ch.assertQueue('jobs', { durable: true });
      for (let i = 0; i < 10; i++) await publishConfirmed(ch, '', 'jobs', `j${i}`, { persistent: true });
      const consumer = await conn.createChannel();
      await consumer.prefetch(4);
      const seen: amqp.ConsumeMessage[] = [];
      await new Promise<void>((resolve) => {
        void consumer.consume('jobs', (m) => {
          if (!m) return;
          seen.push(m);
          if (seen.length === 4) resolve();
        });
      });
      consumer.ack(seen[0]);
      consumer.ack(seen[2]);
      // a round trip: the acks were processed, and the two freed prefetch slots took j4 and j5
      await consumer.checkQueue('jobs');
    });

    await withBroker(port, async (conn) => {
      const ch = await conn.createChannel();
      const got = await drain(ch, 'jobs');
      expect(got.map((m) => [m.content.toString(), m.fields.redelivered])).toEqual([
        ['j1', true],
        ['j3', true],
        ['j4', true],
        ['j5', true],
        ['j6', false],
        ['j7', false],
        ['j8', false],
        ['j9', false],
      ]);
    });
  });

  it('keeps priorities, TTLs and dead-letter settings working after a restart', async () => {
    const { port } = await withBroker(0, async (conn) => {
      const ch = await conn.createConfirmChannel();
      await ch.assertExchange('dlx', 'fanout', { durable: true });
      await ch.assertQueue('dead', { durable: true });
      await ch.bindQueue('dead', 'dlx', '');
      await ch.assertQueue('prio', { durable: true, arguments: { 'x-max-priority': 5 } });
      await ch.assertQueue('short', { durable: true, arguments: { 'x-dead-letter-exchange': 'dlx' } });
      for (const p of [1, 5, 3]) await publishConfirmed(ch, '', 'prio', `p${p}`, { persistent: true, priority: p });
      await publishConfirmed(ch, '', 'short', 'expires', { persistent: true, expiration: '300' });
    });

    await withBroker(port, async (conn) => {
      const ch = await conn.createChannel();
      expect((await drain(ch, 'prio')).map((m) => m.content.toString())).toEqual(['p5', 'p3', 'p1']);
      const deadline = Date.now() + 5000;
      let dead: amqp.GetMessage | false = false;
      while (!dead && Date.now() < deadline) dead = await ch.get('dead', { noAck: true });
      expect(dead && dead.content.toString()).toBe('expires');
      expect(dead && (dead.properties.headers?.['x-death'] as { reason: string }[])[0].reason).toBe('expired');
    });
  });

  it('reclaims segments once every message in them is acknowledged', async () => {
    const { readdirSync } = await import('node:fs');
    await withBroker(0, async (conn) => {
      const ch = await conn.createConfirmChannel();
      await ch.assertQueue('big', { durable: true });
      const body = Buffer.alloc(100_000);
      for (let i = 0; i < 200; i++) ch.sendToQueue('big', body, { persistent: true }); // ~20 MB: three segments
      await ch.waitForConfirms();
      const files = () => readdirSync(join(dataDir, 'queues')).flatMap((d) => readdirSync(join(dataDir, 'queues', d)));
      expect(files().filter((f) => f.startsWith('msgs.')).length).toBeGreaterThanOrEqual(3);
      await drain(ch, 'big');
      await ch.checkQueue('big');
      // the segment being written stays; the full ones went
      expect(files().filter((f) => f.startsWith('msgs.'))).toHaveLength(1);
    });
  });
});

describe('compaction', () => {
  it('moves the few live messages out of a sparse segment, deletes it, and keeps them across restarts', async () => {
    const { readdirSync } = await import('node:fs');
    const dataDir = mkdtempSync(join(tmpdir(), 'warren-compact-'));
    const segments = () =>
      readdirSync(join(dataDir, 'queues'))
        .flatMap((d) => readdirSync(join(dataDir, 'queues', d)))
        .filter((f) => f.startsWith('msgs.'));
    try {
      let broker = await startBroker({ dataDir });
      // noDelay: ack-then-get would otherwise wait on Nagle and the server's delayed ACK at every step
      let conn = await amqp.connect(broker.url, { noDelay: true });
      const ch = await conn.createConfirmChannel();
      await ch.assertQueue('sparse', { durable: true });
      const body = Buffer.alloc(50_000);
      for (let i = 0; i < 400; i++) ch.sendToQueue('sparse', body, { persistent: true, messageId: `m${i}` }); // ~20 MB
      await ch.waitForConfirms();
      expect(segments().length).toBeGreaterThanOrEqual(3);
      // take everything; keep m0 unacknowledged, ack the rest: the first segment is left with one live record
      const consumer = await conn.createChannel();
      const held: amqp.GetMessage[] = [];
      for (let i = 0; i < 400; i++) {
        const m = await consumer.get('sparse');
        if (!m) throw new Error(`queue ran dry at ${i}`);
        if (m.properties.messageId === 'm0') held.push(m);
        else consumer.ack(m);
      }
      await consumer.checkQueue('sparse');
      // poll until the compaction (scheduled after the acks) has deleted the sparse segments
      for (let i = 0; i < 100 && segments().length > 1; i++) await consumer.checkQueue('sparse');
      expect(segments()).toHaveLength(1);
      await conn.close(); // m0 goes back to the queue, redelivered
      await broker.close();
      broker = await startBroker({ dataDir });
      conn = await amqp.connect(broker.url);
      const after = await conn.createChannel();
      const m = await after.get('sparse', { noAck: true });
      expect(m && [m.properties.messageId, m.fields.redelivered, m.content.length]).toEqual(['m0', true, 50_000]);
      expect(await after.get('sparse', { noAck: true })).toBe(false);
      await conn.close();
      await broker.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 30_000);
});
