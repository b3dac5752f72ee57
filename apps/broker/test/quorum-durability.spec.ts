import * as amqp from 'amqplib';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brokerLife } from './support/restarts';

// Quorum queues across restarts of a broker with a data directory (clean shutdowns; SIGKILL is the crash
// harness's, crash-safety.spec.ts). As RabbitMQ's quorum queues, which log every message in their Raft log:
// transient messages come back as persistent ones do, and so do delivery counts; a message a consumer held when
// the broker stopped comes back with one more delivery counted (its channel went away).

describe('quorum queues across restarts', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'warren-quorum-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  const withBroker = <T>(port: number, run: (conn: amqp.ChannelModel) => Promise<T>) => brokerLife(dataDir, port, run);

  const seen = (m: amqp.GetMessage | false) =>
    m
      ? `${m.content.toString()} ${m.fields.redelivered ? 'redelivered' : 'new'} ${String(m.properties.headers?.['x-delivery-count'])} mode ${m.properties.deliveryMode}`
      : 'none';

  const ARGS = { 'x-queue-type': 'quorum', 'x-delivery-limit': 5 };

  it('keeps transient messages, delivery counts and the queue type', async () => {
    const { port } = await withBroker(0, async (conn) => {
      const ch = await conn.createConfirmChannel();
      await ch.assertQueue('qq', { durable: true, arguments: ARGS });
      ch.sendToQueue('qq', Buffer.from('transient'), { persistent: false });
      ch.sendToQueue('qq', Buffer.from('persistent'), { persistent: true });
      ch.sendToQueue('qq', Buffer.from('untouched'));
      await ch.waitForConfirms();
      // 'transient' comes back once (count 1); 'persistent' is taken and held when the broker stops
      const t = await ch.get('qq', { noAck: false });
      if (t) ch.nack(t, false, true);
      const held = await conn.createChannel();
      await ch.checkQueue('qq');
      expect(seen(await held.get('qq', { noAck: false }))).toBe('transient redelivered 1 mode 1');
      expect(seen(await held.get('qq', { noAck: false }))).toBe('persistent new 0 mode 2');
    });

    await withBroker(port, async (conn) => {
      const ch = await conn.createChannel();
      const errors: unknown[] = [];
      // the queue is a quorum queue still: declared as classic it is refused
      const probe = await conn.createChannel();
      probe.on('error', (e) => errors.push(e));
      await expect(probe.assertQueue('qq', { durable: true })).rejects.toMatchObject({ code: 406 });
      expect((await ch.assertQueue('qq', { durable: true, arguments: ARGS })).messageCount).toBe(3);
      const got = [];
      for (let m = await ch.get('qq', { noAck: true }); m; m = await ch.get('qq', { noAck: true })) got.push(seen(m));
      // recovered in log order; both that were out with a consumer count one delivery more
      expect(got).toEqual([
        'transient redelivered 2 mode 1',
        'persistent redelivered 1 mode 2',
        'untouched new 0 mode undefined',
      ]);
    });
  });

  it('dead-letters past the delivery limit with the deliveries counted before the restart', async () => {
    const args = {
      'x-queue-type': 'quorum',
      'x-delivery-limit': 1,
      'x-dead-letter-exchange': '',
      'x-dead-letter-routing-key': 'dead',
    };
    const { port } = await withBroker(0, async (conn) => {
      const ch = await conn.createConfirmChannel();
      await ch.assertQueue('dead', { durable: true });
      await ch.assertQueue('limited', { durable: true, arguments: args });
      ch.sendToQueue('limited', Buffer.from('m'));
      await ch.waitForConfirms();
      const m = await ch.get('limited', { noAck: false });
      if (m) ch.nack(m, false, true);
      await ch.checkQueue('limited');
    });

    await withBroker(port, async (conn) => {
      const ch = await conn.createChannel();
      const m = await ch.get('limited', { noAck: false });
      expect(seen(m)).toBe('m redelivered 1 mode undefined');
      if (m) ch.nack(m, false, true);
      const dead = await ch.get('dead', { noAck: true });
      expect(dead && (dead.properties.headers?.['x-death'] as { reason: string }[])[0].reason).toBe('delivery_limit');
      expect(await ch.get('limited')).toBe(false);
    });
  });

  it('dead-letters at start-up a message that was waiting for its dead-letter target (at-least-once)', async () => {
    const args = {
      'x-queue-type': 'quorum',
      'x-dead-letter-exchange': 'later',
      'x-dead-letter-strategy': 'at-least-once',
      'x-overflow': 'reject-publish',
    };
    const { port } = await withBroker(0, async (conn) => {
      const ch = await conn.createConfirmChannel();
      await ch.assertQueue('reliable', { durable: true, arguments: args });
      ch.sendToQueue('reliable', Buffer.from('m'));
      await ch.waitForConfirms();
      const m = await ch.get('reliable', { noAck: false });
      if (m) ch.reject(m, false); // no exchange 'later' yet: the message waits in its queue
      expect((await ch.checkQueue('reliable')).messageCount).toBe(0);
      // the dead-letter target appears; RabbitMQ's worker would try again only minutes later
      await ch.assertExchange('later', 'fanout', { durable: true });
      await ch.assertQueue('parked', { durable: true });
      await ch.bindQueue('parked', 'later', '');
      expect(await ch.get('parked')).toBe(false);
    });

    await withBroker(port, async (conn) => {
      const ch = await conn.createChannel();
      expect((await ch.checkQueue('reliable')).messageCount).toBe(0);
      const parked = await ch.get('parked', { noAck: true });
      expect(
        parked && [
          parked.content.toString(),
          (parked.properties.headers?.['x-death'] as { reason: string }[])[0].reason,
        ],
      ).toEqual(['m', 'rejected']);
    });

    // dead-lettered for good: a further restart brings nothing back
    await withBroker(port, async (conn) => {
      const ch = await conn.createChannel();
      expect((await ch.checkQueue('reliable')).messageCount).toBe(0);
      expect(await ch.get('parked')).toBe(false);
    });
  });
});
