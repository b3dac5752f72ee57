import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { IsNull, Not, type DataSource } from 'typeorm';
import { z } from 'zod';
import { defineMessage, Headers, Messaging, MessageValidationError, type IncomingMessage } from '../src';
import { MessagingHarness } from '../src/testing';
import { runInTransaction, TypeOrmInbox } from '../src/inbox';
import {
  Outbox,
  OutboxRecord,
  OutboxRelay,
  OutboxWriteError,
  type OutboxMessage,
  type OutboxRelayOptions,
} from '../src/outbox';
import { cleanup, eventually, testBrokers, uniqueName } from './support/brokers';
import { bundledChild, repositoryRoot as root } from './support/child-bundle';
import { SideEffect, TestDatabase, testDatabases } from './support/databases';
import { TcpProxy } from '../../../tools/testing/tcp-proxy';

// the crash test runs the library in a process it can SIGKILL
const childBundle = bundledChild('libs/messaging/test/fixtures/outbox-crash-child.ts');

/** Fast polling and backoff, so the tests wait on milliseconds, not on production defaults. */
const FAST_RELAY: OutboxRelayOptions = {
  pollIntervalMs: 50,
  batchSize: 10,
  leaseMs: 1_000,
  backoff: { initialDelayMs: 30, maxDelayMs: 300 },
};

describe.each(testBrokers())('outbox on $name', ({ url }) => {
  describe.each(testDatabases())('with $name', (kind) => {
    const events = uniqueName('events');
    const commands = uniqueName('commands');
    const queues: string[] = [];
    let database: TestDatabase;
    let ds: DataSource;
    const relays: OutboxRelay[] = [];
    const instances: Messaging[] = [];
    const proxies: TcpProxy[] = [];
    const children: ChildProcess[] = [];

    beforeAll(async () => {
      database = await TestDatabase.create(kind);
      ds = await database.open();
    });
    afterEach(async () => {
      for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      await Promise.all(relays.splice(0).map((r) => r.stop(1_000)));
      await Promise.all(instances.splice(0).map((m) => m.close()));
      await Promise.all(proxies.splice(0).map((p) => p.close()));
    });
    afterAll(async () => {
      await database?.drop();
      await cleanup(url, { queues, exchanges: [events, commands] });
    });

    function newQueue(purpose: string): string {
      const q = uniqueName(purpose);
      queues.push(q);
      return q;
    }

    function newMessaging(service: string, brokerUrl = url): Messaging {
      const m = new Messaging({
        url: brokerUrl,
        serviceName: service,
        eventsExchange: events,
        commandsExchange: commands,
        publishTimeoutMs: 1_000,
        reconnect: { initialDelayMs: 50, maxDelayMs: 250 },
      });
      instances.push(m);
      return m;
    }

    /** A consumer that records what arrives, in arrival order, from the routing keys `patterns`. */
    async function sink(queue: string, patterns = [queue]) {
      const messaging = newMessaging('outbox-sink');
      const harness = new MessagingHarness(messaging);
      const received: IncomingMessage<{ seq: number; aggregateId?: string }>[] = [];
      await messaging.consume({
        queue,
        bindings: patterns.map((pattern) => ({ pattern })),
        handlers: [{ pattern: '#', handle: (m) => void received.push(m) }],
      });
      await messaging.start();
      return { messaging, harness, received };
    }

    async function startRelay(options: OutboxRelayOptions = {}, source = ds, brokerUrl = url) {
      const messaging = newMessaging('outbox-service', brokerUrl);
      const harness = new MessagingHarness(messaging);
      await messaging.start();
      const relay = new OutboxRelay(source, messaging, { ...FAST_RELAY, leaseName: uniqueName('lease'), ...options });
      relays.push(relay);
      relay.start();
      return { relay, messaging, harness };
    }

    /** One transaction writing `count` rows for `routingKey`, sequence numbers from `from`, over 3 aggregates. */
    function writeRows(
      routingKey: string,
      from: number,
      count: number,
      extra: Partial<OutboxMessage> = {},
    ): Promise<OutboxRecord[]> {
      return runInTransaction(ds, async (manager) => {
        const rows: OutboxRecord[] = [];
        for (let seq = from; seq < from + count; seq++) {
          const aggregateId = `agg-${seq % 3}`;
          rows.push(
            await Outbox.add(manager, {
              exchange: events,
              routingKey,
              payload: { seq, aggregateId },
              aggregateId,
              ...extra,
            }),
          );
        }
        return rows;
      });
    }

    const receivedAll = (received: IncomingMessage[], ids: string[]) => () => {
      const seen = new Set(received.map((m) => m.messageId));
      return ids.every((id) => seen.has(id)) ? true : undefined;
    };
    const pendingRows = () => ds.getRepository(OutboxRecord).count();

    /** Per aggregate, the sequence numbers in order of first arrival (a redelivered duplicate does not count twice). */
    function firstArrivals(
      received: IncomingMessage<{ seq: number; aggregateId?: string }>[],
    ): Record<string, number[]> {
      const seen = new Set<string>();
      const out: Record<string, number[]> = {};
      for (const m of received) {
        if (seen.has(m.messageId)) continue;
        seen.add(m.messageId);
        (out[m.payload.aggregateId ?? '-'] ??= []).push(m.payload.seq);
      }
      return out;
    }
    const sortedCopy = (o: Record<string, number[]>) =>
      Object.fromEntries(Object.entries(o).map(([k, v]) => [k, [...v].sort((a, b) => a - b)]));

    it('writes messages with the business change: committed ones are published as stamped, rolled-back ones never exist', async () => {
      const queue = newQueue('outbox-tx');
      const { received, harness } = await sink(queue);
      const { relay } = await startRelay();
      await expect(Outbox.add(ds.manager, { exchange: events, routingKey: queue, payload: {} })).rejects.toBeInstanceOf(
        OutboxWriteError,
      );
      // a delay is not stored: refused rather than dropped
      await expect(
        runInTransaction(ds, (manager) =>
          Outbox.add(manager, { exchange: events, routingKey: queue, payload: {}, delay: 1000 }),
        ),
      ).rejects.toThrow('the outbox does not store delay; publish such messages directly');
      const orderId = randomUUID();
      const committed = await runInTransaction(ds, async (manager) => {
        await manager.insert(SideEffect, { messageId: orderId, note: 'order placed' });
        return Outbox.add(manager, {
          exchange: events,
          routingKey: queue,
          type: 'order.placed',
          payload: { orderId },
          correlationId: 'checkout-7',
          aggregateId: orderId,
        });
      });
      let rolledBack: OutboxRecord | undefined;
      await expect(
        runInTransaction(ds, async (manager) => {
          await manager.insert(SideEffect, { messageId: `${orderId}-2`, note: 'order placed' });
          rolledBack = await Outbox.add(manager, {
            exchange: events,
            routingKey: queue,
            type: 'order.placed',
            payload: { orderId: `${orderId}-2` },
          });
          throw new Error('card declined');
        }),
      ).rejects.toThrow('card declined');
      await harness.acked({ queue, messageId: committed.messageId });
      expect(await relay.flush(5_000)).toBe(true);
      expect(received.map((m) => m.messageId)).toEqual([committed.messageId]);
      expect(await ds.getRepository(SideEffect).countBy({ messageId: `${orderId}-2` })).toBe(0);
      expect(await ds.getRepository(OutboxRecord).countBy({ messageId: rolledBack!.messageId })).toBe(0);
      // the ids and trace context fixed when the row was written, published unchanged
      const [m] = received;
      expect(m).toMatchObject({
        type: 'order.placed',
        correlationId: 'checkout-7',
        payload: { orderId },
        timestamp: Math.floor(committed.createdAt / 1000) * 1000,
      });
      expect(m.traceparent).toBe(JSON.parse(committed.headers)[Headers.traceparent]);
      expect(await pendingRows()).toBe(0);
    });

    it("adds a contract's message validated, and typed and routed by the contract; an invalid one stores nothing", async () => {
      const Placed = defineMessage('outbox-test.placed', z.object({ orderId: z.uuid(), total: z.number().int() }));
      const orderId = randomUUID();
      await expect(
        runInTransaction(ds, (manager) =>
          Outbox.addValidated(manager, Placed, { orderId, total: 12.5 }, { exchange: events, aggregateId: orderId }),
        ),
      ).rejects.toBeInstanceOf(MessageValidationError);
      expect(await ds.getRepository(OutboxRecord).countBy({ aggregateId: orderId })).toBe(0);
      const row = await runInTransaction(ds, (manager) =>
        Outbox.addValidated(manager, Placed, { orderId, total: 1250 }, { exchange: events, aggregateId: orderId }),
      );
      expect(row).toMatchObject({
        exchange: events,
        routingKey: 'outbox-test.placed',
        type: 'outbox-test.placed',
        payload: JSON.stringify({ orderId, total: 1250 }),
        aggregateId: orderId,
      });
      // no relay runs here: the row goes, so the next test starts with an empty outbox
      await ds.getRepository(OutboxRecord).delete({ aggregateId: orderId });
    });

    it('relays a commit after a quiet spell at once, and lets the commits that arrive meanwhile share the next round', async () => {
      const queue = newQueue('outbox-coalesce');
      const { received } = await sink(queue);
      const { relay } = await startRelay({ minRoundIntervalMs: 300, pollIntervalMs: 60_000 });
      const publishedAt = new Map<string, number>();
      relay.events.on('published', ({ messageId }) => publishedAt.set(messageId, performance.now()));
      // the quiet spell under test: longer than the interval since the relay's first round, at its start
      await new Promise((r) => setTimeout(r, 350));
      const firstWrite = performance.now();
      const [first] = await writeRows(queue, 0, 1);
      await eventually('the first row published', () => publishedAt.get(first.messageId));
      expect(publishedAt.get(first.messageId)! - firstWrite).toBeLessThan(250); // at once, not after the interval
      // ten commits of their own, each asking for a round, while the interval runs
      const rows: OutboxRecord[] = [];
      for (let i = 1; i <= 10; i++) rows.push(...(await writeRows(queue, i, 1)));
      await eventually(
        'all rows received',
        receivedAll(
          received,
          [first, ...rows].map((r) => r.messageId),
        ),
        5_000,
      );
      // the relay hears a publish confirmed after the broker has delivered it: wait for its word on every row
      const times = await eventually('every row published', () =>
        rows.every((r) => publishedAt.has(r.messageId)) ? rows.map((r) => publishedAt.get(r.messageId)!) : undefined,
      );
      expect(Math.min(...times) - firstWrite).toBeGreaterThanOrEqual(290);
      expect(Math.max(...times) - Math.min(...times)).toBeLessThan(150); // one round, not ten 300 ms apart
      expect(await relay.flush(5_000)).toBe(true);
      expect(await pendingRows()).toBe(0);
    });

    it('publishes in id order per aggregate; a failing row holds back its own aggregate only', async () => {
      const queue = newQueue('outbox-order');
      const late = `${queue}.late`;
      const { received, messaging } = await sink(queue);
      const { relay } = await startRelay();
      const failed = new Promise((r) => relay.events.once('failed', r));
      // interleaved: a1 (nobody listens on its routing key yet), b1, a2, b2, a3, b3, b4
      const rows = await runInTransaction(ds, async (manager) => {
        const add = (aggregateId: string, seq: number, routingKey = queue) =>
          Outbox.add(manager, { exchange: events, routingKey, payload: { seq, aggregateId }, aggregateId });
        return [
          await add('a', 1, late),
          await add('b', 1),
          await add('a', 2),
          await add('b', 2),
          await add('a', 3),
          await add('b', 3),
          await add('b', 4),
        ];
      });
      const bIds = rows.filter((r) => r.aggregateId === 'b').map((r) => r.messageId);
      await failed;
      await eventually('aggregate b published', receivedAll(received, bIds));
      expect(received.filter((m) => m.payload.aggregateId === 'a')).toEqual([]);
      const waiting = await ds.getRepository(OutboxRecord).find({ where: { aggregateId: 'a' }, order: { id: 'ASC' } });
      expect(waiting.map((r) => [r.attempts > 0, r.lastError !== null])).toEqual([
        [true, true],
        [false, false],
        [false, false],
      ]);
      expect(waiting[0].lastError).toMatch(/NO_ROUTE|no queue is bound/);
      // a consumer for the late routing key appears: a1 goes through, then a2 and a3 behind it
      await messaging.connection
        .model!.createChannel()
        .then(async (ch) => (await ch.bindQueue(queue, events, late), ch.close()));
      await eventually(
        'aggregate a published',
        receivedAll(
          received,
          rows.map((r) => r.messageId),
        ),
      );
      expect(firstArrivals(received)).toEqual({ a: [1, 2, 3], b: [1, 2, 3, 4] });
      expect(await eventually('outbox empty', async () => ((await pendingRows()) === 0 ? true : undefined))).toBe(true);
    });

    it('keeps writing through a broker outage; the rows wait and are all published, in order, when it returns', async () => {
      const queue = newQueue('outbox-outage');
      const { received } = await sink(queue);
      const proxy = await TcpProxy.start(url);
      proxies.push(proxy);
      const { relay, harness } = await startRelay({}, ds, proxy.url);
      const before = await writeRows(queue, 0, 6);
      await eventually(
        'rows before the outage published',
        receivedAll(
          received,
          before.map((r) => r.messageId),
        ),
      );
      await eventually('rows before the outage confirmed and deleted', async () =>
        (await pendingRows()) === 0 ? true : undefined,
      );
      await proxy.cut();
      await harness.waitFor('disconnected');
      const during: OutboxRecord[] = [];
      for (let from = 6; from < 30; from += 4) during.push(...(await writeRows(queue, from, 4)));
      expect(await relay.pending()).toBe(during.length);
      expect(received).toHaveLength(before.length);
      await proxy.restore();
      await eventually(
        'every row written during the outage published',
        receivedAll(
          received,
          during.map((r) => r.messageId),
        ),
        15_000,
      );
      await eventually('outbox empty', async () => ((await pendingRows()) === 0 ? true : undefined));
      const arrivals = firstArrivals(received);
      expect(arrivals).toEqual(sortedCopy(arrivals));
      expect(Object.values(arrivals).flat()).toHaveLength(30);
    });

    it('publishes every row after the publishing process is killed (SIGKILL) mid-stream: none stranded', async () => {
      const queue = newQueue('outbox-crash');
      const { received } = await sink(queue);
      const leaseName = uniqueName('lease');
      const child = spawn(process.execPath, [childBundle], {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env,
          OUTBOX_CHILD_CONFIG: JSON.stringify({
            connection: database.connection,
            amqpUrl: url,
            eventsExchange: events,
            commandsExchange: commands,
            routingKey: queue,
            leaseName,
            leaseMs: 1_000,
          }),
        },
      });
      children.push(child);
      const written: string[] = [];
      let stdout = '';
      let stderr = '';
      let leased = false;
      child.stdout!.on('data', (d) => {
        stdout += d;
        const lines = stdout.split('\n');
        stdout = lines.pop()!;
        for (const line of lines) {
          if (line === 'lease') leased = true;
          else if (line.startsWith('wrote ')) written.push(line.split(' ')[1]);
        }
      });
      child.stderr!.on('data', (d) => (stderr += d));
      const exited = new Promise<NodeJS.Signals | null>((r) => child.once('exit', (_code, signal) => r(signal)));
      // kill it while it writes and relays: some rows published, some not, some published but not marked
      await eventually(`the child to write and relay (stderr: ${stderr})`, () => {
        const fromChild = new Set(written);
        return leased && written.length >= 30 && received.filter((m) => fromChild.has(m.messageId)).length >= 5
          ? true
          : undefined;
      });
      child.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');
      expect(await pendingRows()).toBeGreaterThan(0);
      // a new instance of the service: its relay waits for the dead one's lease to expire, then takes over
      const { relay } = await startRelay({ leaseName });
      await eventually(
        'every row the killed process committed to be published',
        receivedAll(received, written),
        15_000,
      );
      await eventually('no row left behind', async () => ((await pendingRows()) === 0 ? true : undefined));
      expect(relay.isLeader).toBe(true);
      const arrivals = firstArrivals(received);
      expect(arrivals).toEqual(sortedCopy(arrivals));
    });

    it('deletes published rows at once by default, or after the retention window', async () => {
      const queue = newQueue('outbox-cleanup');
      const { received } = await sink(queue);
      const first = await startRelay();
      const [row] = await writeRows(queue, 0, 1);
      await eventually('published', receivedAll(received, [row.messageId]));
      await eventually('deleted at once', async () =>
        (await ds.getRepository(OutboxRecord).countBy({ messageId: row.messageId })) === 0 ? true : undefined,
      );
      await first.relay.stop();
      await startRelay({ retentionMs: 300, cleanupIntervalMs: 50 });
      const [kept] = await writeRows(queue, 1, 1);
      await eventually('published', receivedAll(received, [kept.messageId]));
      const marked = await eventually(
        'marked published and kept',
        async () =>
          (await ds.getRepository(OutboxRecord).findOneBy({ messageId: kept.messageId, publishedAt: Not(IsNull()) })) ??
          undefined,
      );
      expect(marked.publishedAt).toEqual(expect.any(Number));
      await eventually('deleted after the retention', async () =>
        (await ds.getRepository(OutboxRecord).countBy({ messageId: kept.messageId })) === 0 ? true : undefined,
      );
      expect(Date.now()).toBeGreaterThanOrEqual(marked.publishedAt! + 300);
    });

    it('lets only the lease holder publish; a standby takes over when it stops', async () => {
      const queue = newQueue('outbox-lease');
      const { received } = await sink(queue);
      const leaseName = uniqueName('lease');
      const standbySource = await database.open({ sqliteBusyTimeoutMs: 50 });
      // a long lease: the handover below comes from the holder releasing it, not from expiry
      const holder = await startRelay({ leaseName, leaseMs: 10_000 });
      await new Promise((r) =>
        holder.relay.isLeader ? r(undefined) : holder.relay.events.once('lease-acquired', () => r(undefined)),
      );
      const standby = await startRelay({ leaseName, leaseMs: 10_000 }, standbySource);
      const standbyPublished: string[] = [];
      standby.relay.events.on('published', (p) => standbyPublished.push(p.messageId));
      const rows = [...(await writeRows(queue, 0, 5)), ...(await writeRows(queue, 5, 5))];
      await eventually(
        'published by the holder',
        receivedAll(
          received,
          rows.map((r) => r.messageId),
        ),
      );
      expect(standbyPublished).toEqual([]);
      expect(standby.relay.isLeader).toBe(false);
      expect(await standbySource.query(`SELECT owner FROM messaging_outbox_lease WHERE name = '${leaseName}'`)).toEqual(
        [{ owner: holder.relay.owner }],
      );
      // the holder shuts down (releasing the lease); the standby takes over at its next poll
      await holder.relay.stop();
      const after = await writeRows(queue, 10, 3);
      await eventually(
        'published by the standby',
        receivedAll(
          received,
          after.map((r) => r.messageId),
        ),
      );
      // a consumer can get a message before its publisher gets the confirm: wait for the relay's own event
      await eventually('the standby to see its confirms', () =>
        standbyPublished.length >= after.length ? true : undefined,
      );
      expect(standbyPublished.sort()).toEqual(after.map((r) => r.messageId).sort());
    });

    it("combines with the inbox: a handler's outgoing message commits with its effects and carries its correlation and causation", async () => {
      const inQueue = newQueue('outbox-handler-in');
      const outQueue = newQueue('outbox-handler-out');
      const { received } = await sink(outQueue);
      const { messaging: service, harness } = await startRelay();
      const inbox = new TypeOrmInbox(ds);
      await service.consume({
        queue: inQueue,
        bindings: [{ pattern: inQueue }],
        handlers: [
          {
            pattern: inQueue,
            handle: inbox.idempotent(inQueue, async (m, manager) => {
              await manager.insert(SideEffect, { messageId: m.messageId, note: 'payment captured' });
              await Outbox.add(manager, {
                exchange: events,
                routingKey: outQueue,
                type: 'payment.captured',
                payload: { for: m.messageId },
                aggregateId: 'payments',
              });
            }),
          },
        ],
      });
      const sent = await service.publish({
        exchange: events,
        routingKey: inQueue,
        payload: {},
        correlationId: 'checkout-9',
      });
      await service.publish({
        exchange: events,
        routingKey: inQueue,
        payload: {},
        messageId: sent.messageId,
        correlationId: 'checkout-9',
      });
      await harness.waitForCount('acked', 2, { queue: inQueue });
      await eventually("the handler's message published", () => (received.length > 0 ? true : undefined));
      await eventually('outbox empty', async () => ((await pendingRows()) === 0 ? true : undefined));
      expect(received).toHaveLength(1);
      expect(received[0]).toMatchObject({
        type: 'payment.captured',
        correlationId: 'checkout-9',
        causationId: sent.messageId,
        payload: { for: sent.messageId },
      });
      expect(await ds.getRepository(SideEffect).countBy({ messageId: sent.messageId })).toBe(1);
    });
  });
});
