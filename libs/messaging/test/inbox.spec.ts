import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { Messaging, NonRetryableError, type IncomingMessage, type MessageHandler } from '../src';
import { MessagingHarness } from '../src/testing';
import { InboxBusyError, InboxRecord, RedisInbox, TypeOrmInbox } from '../src/inbox';
import { cleanup, eventually, testBrokers, uniqueName } from './support/brokers';
import { SideEffect, TestDatabase, testDatabases } from './support/databases';
import { startTestRedis, type TestRedis } from '../../../tools/testing/redis';

// Short retry delays: the tests wait for retries through the real delay queues.
const FAST_RETRY = { maxAttempts: 10, initialDelayMs: 20, multiplier: 2, maxDelayMs: 200 };

describe.each(testBrokers())('inbox on $name', ({ url }) => {
  const events = uniqueName('events');
  const commands = uniqueName('commands');
  const queues: string[] = [];
  let instances: Messaging[] = [];

  /** A service instance with one consumer on `queue`, bound to the routing key `queue`. */
  async function instance(
    queue: string,
    handle: MessageHandler['handle'],
  ): Promise<{ messaging: Messaging; harness: MessagingHarness }> {
    const messaging = new Messaging({
      url,
      serviceName: 'inbox-test',
      eventsExchange: events,
      commandsExchange: commands,
      retry: FAST_RETRY,
      prefetch: 10,
    });
    instances.push(messaging);
    const harness = new MessagingHarness(messaging);
    await messaging.consume({ queue, bindings: [{ pattern: queue }], handlers: [{ pattern: queue, handle }] });
    await messaging.start();
    return { messaging, harness };
  }

  function newQueue(purpose: string): string {
    const q = uniqueName(purpose);
    queues.push(q);
    return q;
  }

  const publish = (m: Messaging, queue: string, messageId: string, payload: unknown = {}) =>
    m.publish({ exchange: events, routingKey: queue, payload, messageId });

  afterEach(async () => {
    await Promise.all(instances.map((m) => m.close()));
    instances = [];
  });
  afterAll(() => cleanup(url, { queues, exchanges: [events, commands] }));

  describe.each(testDatabases())('TypeOrmInbox on $name', (kind) => {
    let database: TestDatabase;
    let ds: DataSource;
    const effects = (source: DataSource, messageId: string) => source.getRepository(SideEffect).countBy({ messageId });

    beforeAll(async () => {
      database = await TestDatabase.create(kind);
      ds = await database.open();
    });
    afterAll(() => database?.drop());

    it('applies a message delivered twice once', async () => {
      const queue = newQueue('inbox-twice');
      const inbox = new TypeOrmInbox(ds);
      const duplicates: boolean[] = [];
      const { messaging, harness } = await instance(queue, async (m) => {
        const outcome = await inbox.handle(m, queue, (manager) =>
          manager.insert(SideEffect, { messageId: m.messageId }),
        );
        duplicates.push(outcome.duplicate);
      });
      const id = randomUUID();
      await publish(messaging, queue, id);
      await publish(messaging, queue, id);
      await harness.waitForCount('acked', 2, { queue });
      expect(duplicates.sort()).toEqual([false, true]);
      expect(await effects(ds, id)).toBe(1);
      expect(await inbox.has(queue, id)).toBe(true);
    });

    it('applies each message once when two instances consume its duplicates concurrently', async () => {
      const queue = newQueue('inbox-concurrent');
      // two instances of a service: two connections to the broker, two to the database
      const [dsA, dsB] = [
        await database.open({ sqliteBusyTimeoutMs: 5 }),
        await database.open({ sqliteBusyTimeoutMs: 5 }),
      ];
      const handler = (source: DataSource) =>
        new TypeOrmInbox(source).idempotent(queue, async (m, manager) => {
          await manager.insert(SideEffect, { messageId: m.messageId, note: 'concurrent' });
          await new Promise((r) => setImmediate(r)); // the handler does I/O: transactions overlap
        });
      const a = await instance(queue, handler(dsA));
      const b = await instance(queue, handler(dsB));
      const ids = Array.from({ length: 15 }, () => randomUUID());
      await Promise.all(ids.flatMap((id) => [publish(a.messaging, queue, id), publish(b.messaging, queue, id)]));
      await eventually(
        'all 30 deliveries acked',
        () =>
          a.harness.all('acked', { queue }).length + b.harness.all('acked', { queue }).length >= 30 ? true : undefined,
        20_000,
      );
      expect([...a.harness.all('dead-lettered'), ...b.harness.all('dead-lettered')]).toEqual([]);
      const counts = await Promise.all(ids.map((id) => effects(ds, id)));
      expect(counts).toEqual(ids.map(() => 1));
      expect(await ds.getRepository(InboxRecord).countBy({ consumer: queue })).toBe(ids.length);
    });

    it('lets one of two racing handle() calls run; the other waits and sees a duplicate (SQLite: fails retryably)', async () => {
      const dsA = await database.open({ sqliteBusyTimeoutMs: 5 });
      const dsB = await database.open({ sqliteBusyTimeoutMs: 5 });
      const message = { messageId: randomUUID() };
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let entered!: () => void;
      const inFirst = new Promise<void>((r) => (entered = r));
      const first = new TypeOrmInbox(dsA).handle(message, 'race', async (manager) => {
        await manager.insert(SideEffect, { messageId: message.messageId });
        entered();
        await gate;
        return 'first';
      });
      await inFirst;
      const secondInbox = new TypeOrmInbox(dsB);
      const runSecond = () =>
        secondInbox.handle(
          message,
          'race',
          async (manager) => (await manager.insert(SideEffect, { messageId: message.messageId }), 'second'),
        );
      if (kind.name === 'postgres') {
        // the second INSERT blocks on the first transaction's uncommitted key...
        const second = runSecond();
        await eventually("the second instance to wait on the first one's key", async () => {
          const [{ n }] = await dsA.query(
            `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
          );
          return n > 0 ? true : undefined;
        });
        release();
        // ...and, once the first commits, fails on it: a duplicate
        expect(await first).toEqual({ duplicate: false, result: 'first' });
        expect(await second).toEqual({ duplicate: true });
      } else {
        // SQLite: the second connection cannot take the write lock while the first transaction holds it;
        // the error is retryable, so the consumer sends the message through the retry queue
        const busy = await runSecond().catch((err: Error) => err);
        expect(busy).toBeInstanceOf(Error);
        expect((busy as Error).message).toMatch(/database is locked/);
        expect(busy).not.toBeInstanceOf(NonRetryableError);
        release();
        expect(await first).toEqual({ duplicate: false, result: 'first' });
        expect(await runSecond()).toEqual({ duplicate: true });
      }
      expect(await effects(ds, message.messageId)).toBe(1);
    });

    it("rolls back the handler's writes and the inbox row when it fails; the retry applies it once", async () => {
      const queue = newQueue('inbox-failing');
      const inbox = new TypeOrmInbox(ds);
      const seenAtStart: number[] = [];
      const { messaging, harness } = await instance(
        queue,
        inbox.idempotent(queue, async (m: IncomingMessage, manager) => {
          seenAtStart.push(await manager.countBy(SideEffect, { messageId: m.messageId }));
          await manager.insert(SideEffect, { messageId: m.messageId, note: `attempt ${m.attempt}` });
          if (m.attempt === 1) throw new Error('payment provider timed out');
        }),
      );
      const id = randomUUID();
      await publish(messaging, queue, id);
      await harness.retried({ queue, messageId: id });
      await harness.acked({ queue, messageId: id });
      expect(seenAtStart).toEqual([0, 0]);
      expect(await ds.getRepository(SideEffect).findBy({ messageId: id })).toEqual([
        expect.objectContaining({ note: 'attempt 2' }),
      ]);
      expect(await inbox.has(queue, id)).toBe(true);
    });

    it('prunes old inbox rows', async () => {
      const inbox = new TypeOrmInbox(ds);
      const id = randomUUID();
      await inbox.handle({ messageId: id }, 'prune-test', async () => undefined);
      expect(await inbox.prune(60_000)).toBe(0);
      expect(await inbox.prune(-60_000)).toBeGreaterThanOrEqual(1);
      expect(await inbox.has('prune-test', id)).toBe(false);
    });
  });

  describe('RedisInbox', () => {
    let redis: TestRedis;
    let clients: Redis[] = [];
    const prefix = uniqueName('inbox');
    const applied = new Map<string, number>();
    const apply = async (m: IncomingMessage) => void applied.set(m.messageId, (applied.get(m.messageId) ?? 0) + 1);
    const client = () => {
      const c = new Redis(redis.url);
      clients.push(c);
      return c;
    };

    beforeAll(async () => {
      redis = await startTestRedis();
    });
    afterAll(async () => {
      if (!redis) return;
      const c = client();
      const keys = await c.keys(`${prefix}:*`);
      if (keys.length) await c.del(...keys);
      await Promise.all(clients.map((x) => x.quit()));
      clients = [];
      await redis.stop();
    });

    it('applies a message delivered twice once', async () => {
      const queue = newQueue('redis-twice');
      const inbox = new RedisInbox(client(), { keyPrefix: prefix });
      const { messaging, harness } = await instance(queue, inbox.idempotent(queue, apply));
      const id = randomUUID();
      await publish(messaging, queue, id);
      await publish(messaging, queue, id);
      await harness.waitForCount('acked', 2, { queue });
      expect(applied.get(id)).toBe(1);
      expect(await clients[0].get(inbox.key(queue, id))).toBe('done');
    });

    it('applies each message once when two instances consume its duplicates concurrently', async () => {
      const queue = newQueue('redis-concurrent');
      const a = await instance(queue, new RedisInbox(client(), { keyPrefix: prefix }).idempotent(queue, apply));
      const b = await instance(queue, new RedisInbox(client(), { keyPrefix: prefix }).idempotent(queue, apply));
      const ids = Array.from({ length: 15 }, () => randomUUID());
      await Promise.all(ids.flatMap((id) => [publish(a.messaging, queue, id), publish(b.messaging, queue, id)]));
      await eventually(
        'all 30 deliveries acked',
        () =>
          a.harness.all('acked', { queue }).length + b.harness.all('acked', { queue }).length >= 30 ? true : undefined,
        20_000,
      );
      expect(ids.map((id) => applied.get(id))).toEqual(ids.map(() => 1));
    });

    it('lets go of its claim when the handler fails, so the retry applies it once', async () => {
      const queue = newQueue('redis-failing');
      const inbox = new RedisInbox(client(), { keyPrefix: prefix });
      const keyAtRetry: Array<string | null> = [];
      const { messaging, harness } = await instance(
        queue,
        inbox.idempotent(queue, async (m: IncomingMessage) => {
          if (m.attempt === 1) throw new Error('smtp server said 451');
          await apply(m);
        }),
      );
      const id = randomUUID();
      await publish(messaging, queue, id);
      await harness.retried({ queue, messageId: id });
      keyAtRetry.push(await clients[0].get(inbox.key(queue, id)));
      await harness.acked({ queue, messageId: id });
      expect(keyAtRetry).toEqual([null]);
      expect(applied.get(id)).toBe(1);
    });

    it('sends a message another instance holds the claim on back through the retry queue until the claim is free', async () => {
      const queue = newQueue('redis-lease');
      const inbox = new RedisInbox(client(), { keyPrefix: prefix });
      const id = randomUUID();
      // an instance that claimed the message and died: its claim expires after its lease
      await clients[0].set(inbox.key(queue, id), 'processing:crashed-instance', 'PX', 300);
      const { messaging, harness } = await instance(queue, inbox.idempotent(queue, apply));
      await publish(messaging, queue, id);
      const retried = await harness.retried({ queue, messageId: id });
      expect(retried.error).toBeInstanceOf(InboxBusyError);
      expect(retried.error.message).toMatch(/being handled by another instance/);
      await harness.acked({ queue, messageId: id }, 10_000);
      expect(applied.get(id)).toBe(1);
    });

    it('handle(): busy while claimed (the claim outlives its lease while the handler runs), then a duplicate, remembered for the TTL', async () => {
      const options = { keyPrefix: prefix, ttlMs: 60_000, leaseMs: 60 };
      const [a, b] = [new RedisInbox(client(), options), new RedisInbox(client(), options)];
      const message = { messageId: randomUUID() };
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let entered!: () => void;
      const inFirst = new Promise<void>((r) => (entered = r));
      const first = a.handle(message, 'lease-test', async () => (entered(), await gate, 'first'));
      await inFirst;
      // a slow handler: several leases pass, the holder keeps renewing its claim
      const claimedAt = Date.now();
      await eventually('three leases to pass', () => (Date.now() - claimedAt > 3 * options.leaseMs ? true : undefined));
      expect(await clients[0].get(a.key('lease-test', message.messageId))).toMatch(/^processing:/);
      const busy = await b.handle(message, 'lease-test', async () => 'second').catch((e: Error) => e);
      expect(busy).toBeInstanceOf(InboxBusyError);
      expect(busy).not.toBeInstanceOf(NonRetryableError);
      expect((busy as InboxBusyError).code).toBe('INBOX_BUSY');
      release();
      expect(await first).toEqual({ duplicate: false, result: 'first' });
      expect(await b.handle(message, 'lease-test', async () => 'second')).toEqual({ duplicate: true });
      const ttl = await clients[0].pttl(a.key('lease-test', message.messageId));
      expect(ttl).toBeGreaterThan(50_000);
      expect(ttl).toBeLessThanOrEqual(60_000);
      const failing = { messageId: randomUUID() };
      await expect(a.handle(failing, 'lease-test', async () => Promise.reject(new Error('nope')))).rejects.toThrow(
        'nope',
      );
      expect(await clients[0].exists(a.key('lease-test', failing.messageId))).toBe(0);
    });
  });
});
