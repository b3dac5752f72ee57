import * as amqp from 'amqplib';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunningBroker, startBroker } from '../src/testing';

const NO_LIMIT = { memoryHighWatermark: Number.MAX_SAFE_INTEGER, diskFreeLimit: 0 };

/** Resource alarms block publishers (connection.blocked) and release them when they clear. */
describe('resource alarms', () => {
  let broker: RunningBroker;
  let dataDir: string;

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'warren-alarms-'));
    broker = await startBroker({ dataDir, limits: NO_LIMIT, alarmCheckIntervalMs: 50 });
  });
  afterEach(async () => {
    await broker.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const event = (conn: amqp.ChannelModel, name: string) => new Promise<unknown>((resolve) => conn.once(name, resolve));

  it.each([
    ['memory', { memoryHighWatermark: 1 }, 'low on memory'],
    ['disk', { diskFreeLimit: Number.MAX_SAFE_INTEGER }, 'low on disk space'],
  ])('a %s alarm blocks publishers until it clears, and loses nothing', async (_kind, limits, reason) => {
    const publisher = await amqp.connect(broker.url);
    const consumer = await amqp.connect(broker.url);
    try {
      const ch = await publisher.createConfirmChannel();
      await ch.assertQueue('alarmed', { durable: true });
      await new Promise<void>((resolve, reject) =>
        ch.sendToQueue('alarmed', Buffer.from('before'), {}, (e) => (e ? reject(e) : resolve())),
      );

      const blocked = event(publisher, 'blocked');
      broker.broker.setLimits(limits);
      expect(await blocked).toBe(reason);

      let confirmed = false;
      const confirm = new Promise<void>((resolve, reject) =>
        ch.sendToQueue('alarmed', Buffer.from('during'), {}, (e) => {
          confirmed = true;
          return e ? reject(e) : resolve();
        }),
      );
      // Consumers are not blocked: the message published before the alarm can still be taken.
      const cch = await consumer.createChannel();
      const first = await cch.get('alarmed', { noAck: true });
      expect(first && first.content.toString()).toBe('before');
      expect(confirmed).toBe(false); // the publisher's socket is not being read

      const unblocked = event(publisher, 'unblocked');
      broker.broker.setLimits(NO_LIMIT);
      await unblocked;
      await confirm;
      const second = await cch.get('alarmed', { noAck: true });
      expect(second && second.content.toString()).toBe('during');
    } finally {
      await publisher.close();
      await consumer.close();
    }
  });

  it('does not block connections that only consume', async () => {
    const conn = await amqp.connect(broker.url);
    try {
      let blocked = false;
      conn.on('blocked', () => (blocked = true));
      const ch = await conn.createChannel();
      broker.broker.setLimits({ memoryHighWatermark: 1 });
      await ch.assertQueue('', { exclusive: true }); // still served
      expect(blocked).toBe(false);
    } finally {
      broker.broker.setLimits(NO_LIMIT);
      await conn.close();
    }
  });
});
