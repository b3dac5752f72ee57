// The batched aggregation (issue 16): many events per Redis round trip, with the inbox checked and marked in the
// same script that counts them. The aggregator alone against a real Redis first (batching, duplicates within and
// across batches, RedisInbox's old marks, sessions and counters per batch, a failed round trip), then the whole
// service with its Redis taken away behind a proxy: nothing acked, nothing lost, each event counted once after.
import { Redis } from 'ioredis';
import type { Click, PageView } from '@warren/contracts';
import { Messaging } from '@warren/messaging';
import { MessagingHarness } from '@warren/messaging/testing';
import { startService, topologyNames, type StartedService } from '@warren/service-kit';
import { AppModule, ANALYTICS } from '../src/app.module';
import {
  AggregatorService,
  INBOX_TTL_MS,
  MAX_BATCH,
  type ClickstreamEvent,
} from '../src/aggregation/aggregator.service';
import { CLICKSTREAM_QUEUE } from '../src/aggregation/clickstream.controller';
import { dayOf, keys, MINUTE_KEY_TTL_S, MINUTE_MS, minuteOf, SESSION_TIMEOUT_MS } from '../src/aggregation/keys';
import type { Stats } from '../src/stats/stats.service';
import { startTestRedis, type TestRedis } from '../../../tools/testing/redis';
import { eventually } from '../../../tools/testing/eventually';
import { TcpProxy } from '../../../tools/testing/tcp-proxy';
import { uniqueName } from '../../../tools/testing/topology';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => {
  await redis?.stop();
});

const now = Date.now();
const iso = (ms: number) => new Date(ms).toISOString();
const view = (visitorId: string, url: string, at = now): PageView =>
  ({ type: 'page_view', visitorId, url, at: iso(at) }) as PageView;
const click = (visitorId: string, url: string, at = now): Click =>
  ({ type: 'click', visitorId, url, element: 'buy', at: iso(at) }) as Click;

describe('AggregatorService (batched, behind the inbox)', () => {
  let client: Redis;
  let prefix: string;
  let k: ReturnType<typeof keys>;
  let aggregator: AggregatorService;
  let scriptCalls: number;

  beforeEach(async () => {
    client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    await client.ping(); // connected: a command sent while connecting goes through sendCommand twice (the offline queue)
    prefix = `analytics:${uniqueName('test.aggregation')}.`;
    k = keys(prefix);
    aggregator = new AggregatorService(client, prefix);
    scriptCalls = 0;
    const send = client.sendCommand.bind(client);
    jest.spyOn(client, 'sendCommand').mockImplementation((command, stream) => {
      if (/^evalsha$/i.test(command.name)) scriptCalls++; // one per batch (a NOSCRIPT fallback adds an EVAL)
      return send(command, stream);
    });
  });
  afterEach(async () => {
    const found = await client.keys(`${prefix}*`);
    if (found.length > 0) await client.del(...found);
    client.disconnect();
  });

  const pageViews = async (at = now) => Number((await client.hget(k.minute(minuteOf(at)), 'page_view')) ?? 0);
  const clicks = async (at = now) => Number((await client.hget(k.minute(minuteOf(at)), 'click')) ?? 0);
  const sessions = async () => Number((await client.get(k.sessions)) ?? 0);

  it('sends the events of one turn of the event loop as one Redis round trip, and a full batch at once', async () => {
    const one = Array.from({ length: 300 }, (_, i) =>
      aggregator.add(`m-${i}`, view(`v${i}`, 'https://shop.example/a')),
    );
    expect(await Promise.all(one)).toEqual(Array(300).fill('applied'));
    expect(scriptCalls).toBe(1);
    const many = Array.from({ length: 2 * MAX_BATCH + 10 }, (_, i) =>
      aggregator.add(`n-${i}`, click(`v${i}`, 'https://shop.example/a')),
    );
    expect(new Set(await Promise.all(many))).toEqual(new Set(['applied']));
    expect(scriptCalls).toBe(1 + 3); // two full batches sent at once, and the 10 left over on the next turn
    expect(await pageViews()).toBe(300);
    expect(await clicks()).toBe(2 * MAX_BATCH + 10);
  });

  it('counts a message delivered twice in one batch, or again in a later batch, once', async () => {
    const event = view('dup', 'https://shop.example/dup');
    const same = await Promise.all([
      aggregator.add('dup-1', event),
      aggregator.add('dup-1', event),
      aggregator.add('other', view('dup2', 'https://shop.example/dup')),
    ]);
    expect(same).toEqual(['applied', 'duplicate', 'applied']);
    expect(scriptCalls).toBe(1);
    expect(await aggregator.add('dup-1', event)).toBe('duplicate');
    expect(await Promise.all([aggregator.add('other', event), aggregator.add('dup-1', event)])).toEqual([
      'duplicate',
      'duplicate',
    ]);
    expect(await pageViews()).toBe(2);
    expect(Number(await client.zscore(k.pages(minuteOf(now)), 'https://shop.example/dup'))).toBe(2);
    expect(await sessions()).toBe(2);
    // marked done for the inbox's time, under the key RedisInbox used
    expect(await client.get(aggregator.inboxKey('dup-1'))).toBe('done');
    expect(aggregator.inboxKey('dup-1')).toBe(`${k.inbox}:analytics.aggregate:dup-1`);
    const ttl = await client.pttl(aggregator.inboxKey('dup-1'));
    expect(ttl).toBeGreaterThan(INBOX_TTL_MS - 60_000);
    expect(ttl).toBeLessThanOrEqual(INBOX_TTL_MS);
  });

  it("takes RedisInbox's done marks as duplicates and its live claims as busy, counting neither", async () => {
    await client.set(aggregator.inboxKey('old-done'), 'done');
    await client.set(aggregator.inboxKey('old-claim'), 'processing:6c1c1f0e', 'PX', 30_000);
    const outcomes = await Promise.all([
      aggregator.add('old-done', view('o1', 'https://shop.example/o')),
      aggregator.add('old-claim', view('o2', 'https://shop.example/o')),
      aggregator.add('new', view('o3', 'https://shop.example/o')),
    ]);
    expect(outcomes).toEqual(['duplicate', 'busy', 'applied']);
    expect(await pageViews()).toBe(1);
    // the claim is left to its holder: it completes or lets go, and the retry then finds done or counts it
    expect(await client.get(aggregator.inboxKey('old-claim'))).toBe('processing:6c1c1f0e');
  });

  it('keeps the session rule per event within a batch: away over the timeout starts one, an older event neither starts one nor moves last seen back', async () => {
    const t0 = now - 50 * MINUTE_MS;
    await client.zadd(k.lastSeen, t0 - 10 * MINUTE_MS, 'known'); // seen 10 minutes before: the same session
    const outcomes = await Promise.all([
      aggregator.add('s1', view('new', 'https://shop.example/s', t0)), // new visitor: a session
      aggregator.add('s2', view('new', 'https://shop.example/s', t0 + SESSION_TIMEOUT_MS + MINUTE_MS)), // away 31 minutes: another
      aggregator.add('s3', click('new', 'https://shop.example/s', t0 + 5 * MINUTE_MS)), // older than the last one seen: nothing
      aggregator.add('s4', view('known', 'https://shop.example/s', t0)), // back within the timeout: none
    ]);
    expect(outcomes).toEqual(['applied', 'applied', 'applied', 'applied']);
    expect(scriptCalls).toBe(1);
    expect(await sessions()).toBe(2);
    expect(Number(await client.zscore(k.lastSeen, 'new'))).toBe(t0 + SESSION_TIMEOUT_MS + MINUTE_MS);
    expect(Number(await client.zscore(k.lastSeen, 'known'))).toBe(t0);
  });

  it('sums a batch per minute and per page, with the unique visitors and expiries of one event at a time', async () => {
    const earlier = now - 3 * MINUTE_MS;
    const events: ClickstreamEvent[] = [
      view('u1', 'https://shop.example/x', earlier),
      view('u2', 'https://shop.example/x', earlier),
      view('u1', 'https://shop.example/y', now),
      click('u3', 'https://shop.example/y', now),
      click('u3', 'https://shop.example/y', earlier),
    ];
    expect(await Promise.all(events.map((e, i) => aggregator.add(`sum-${i}`, e)))).toEqual(Array(5).fill('applied'));
    expect(await client.hgetall(k.minute(minuteOf(earlier)))).toEqual({ page_view: '2', click: '1' });
    expect(await client.hgetall(k.minute(minuteOf(now)))).toEqual({ page_view: '1', click: '1' });
    expect(await client.zrange(k.pages(minuteOf(earlier)), 0, -1, 'WITHSCORES')).toEqual([
      'https://shop.example/x',
      '2',
    ]);
    expect(await client.zrange(k.pages(minuteOf(now)), 0, -1, 'WITHSCORES')).toEqual(['https://shop.example/y', '1']);
    expect(await client.pfcount(k.allVisitors)).toBe(3);
    expect(await client.pfcount(k.day(dayOf(now)), k.day(dayOf(earlier)))).toBe(3);
    // the minute keys live two hours from their newest event; the day's HLL two days
    const ttl = await client.ttl(k.minute(minuteOf(earlier)));
    expect(
      Math.abs(ttl - (Math.floor(earlier / 1000) + MINUTE_KEY_TTL_S - Math.floor(Date.now() / 1000))),
    ).toBeLessThanOrEqual(2);
    expect(await client.ttl(k.day(dayOf(now)))).toBeGreaterThan(2 * 24 * 3600 - 60);
  });

  it('fails every event of a batch whose round trip fails and writes none of it; after recovery each is counted once', async () => {
    const proxy = await TcpProxy.start(redis.url);
    const viaProxy = new Redis(proxy.url, { maxRetriesPerRequest: 1, retryStrategy: () => 50 });
    const flaky = new AggregatorService(viaProxy, prefix);
    try {
      await viaProxy.ping();
      await proxy.cut();
      const events = [
        view('f1', 'https://shop.example/f'),
        click('f2', 'https://shop.example/f'),
        view('f3', 'https://shop.example/f'),
      ];
      const failed = await Promise.allSettled(events.map((e, i) => flaky.add(`fail-${i}`, e)));
      expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
      // nothing of the batch is in Redis: no inbox mark (the retry will count it), no count
      expect(await client.exists(...events.map((_, i) => aggregator.inboxKey(`fail-${i}`)))).toBe(0);
      expect(await pageViews()).toBe(0);
      expect(await clicks()).toBe(0);
      expect(await sessions()).toBe(0);
      await proxy.restore();
      // the retries, and a redelivery of one of them on top, once Redis answers again
      await eventually('the client to reconnect', async () => ((await viaProxy.ping()) === 'PONG' ? true : undefined));
      const retried = await Promise.all([
        ...events.map((e, i) => flaky.add(`fail-${i}`, e)),
        flaky.add('fail-0', events[0]),
      ]);
      expect(retried).toEqual(['applied', 'applied', 'applied', 'duplicate']);
      expect(await flaky.add('fail-1', events[1])).toBe('duplicate');
      expect(await pageViews()).toBe(2);
      expect(await clicks()).toBe(1);
      expect(await sessions()).toBe(3);
    } finally {
      viaProxy.disconnect();
      await proxy.close();
    }
  });
});

describe('analytics with Redis away (issue 16)', () => {
  const saved = { ...process.env };
  let proxy: TcpProxy;
  let svc: StartedService;
  let harness: MessagingHarness;
  let queue: string;

  beforeAll(async () => {
    proxy = await TcpProxy.start(redis.url);
    Object.assign(process.env, {
      AMQP_URL: process.env.WARREN_TEST_BROKER_URL,
      REDIS_URL: proxy.url,
      WARREN_NAMESPACE: uniqueName('test.analytics-redis'),
      PORT: '0',
    });
    svc = await startService(AppModule, { ...ANALYTICS, logger: false });
    harness = new MessagingHarness(svc.app.get(Messaging));
    queue = topologyNames().queue(CLICKSTREAM_QUEUE);
  });
  afterAll(async () => {
    await proxy?.restore();
    await svc?.close();
    await proxy?.close();
    process.env = saved;
  });

  const post = async (events: unknown[]) =>
    (
      await fetch(`${svc.url}/collect`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ events }),
      })
    ).json() as Promise<{ accepted: number }>;
  const stats = async (): Promise<Stats> => (await fetch(`${svc.url}/stats?minutes=5`)).json() as Promise<Stats>;
  const total = (s: Stats) => s.counters.pageViews + s.counters.clicks;

  it('acks nothing while Redis is away, retries every event, and counts each exactly once when it is back', async () => {
    const before = total(await stats());
    await proxy.cut();
    const events = Array.from({ length: 5 }, (_, i) => ({
      type: i % 2 ? 'click' : 'page_view',
      visitorId: `away-${i}`,
      url: 'https://shop.example/away',
    }));
    expect((await post(events)).accepted).toBe(5);
    const ids = harness
      .all('published', (m) => m.exchange === topologyNames().eventsExchange)
      .slice(-5)
      .map((m) => m.messageId);
    expect(ids).toHaveLength(5);
    await eventually(
      'every event to fail its first attempt',
      () => (ids.every((id) => harness.all('retried', { queue, messageId: id }).length > 0) ? true : undefined),
      15_000,
    );
    expect(ids.filter((id) => harness.all('acked', { queue, messageId: id }).length > 0)).toEqual([]);
    await proxy.restore();
    await eventually(
      'the retries to be counted',
      async () => (total(await stats()) - before >= 5 ? true : undefined),
      20_000,
    );
    await eventually(
      'every event acked',
      () => (ids.every((id) => harness.all('acked', { queue, messageId: id }).length > 0) ? true : undefined),
      20_000,
    );
    expect(total(await stats()) - before).toBe(5);
    expect(harness.all('dead-lettered', { queue })).toEqual([]);
  }, 45_000);

  it("retries an event an older instance's RedisInbox claim holds, and counts it once the claim is gone", async () => {
    const direct = new Redis(redis.url);
    try {
      const key = svc.app.get(AggregatorService).inboxKey('claimed-click');
      await direct.set(key, 'processing:older-instance', 'PX', 30_000);
      const before = total(await stats());
      const messaging = svc.app.get(Messaging);
      await messaging.publish({
        exchange: topologyNames().eventsExchange,
        routingKey: 'clickstream.click',
        type: 'clickstream.click',
        payload: { type: 'click', visitorId: 'claimed', url: 'https://shop.example/claimed', at: iso(Date.now()) },
        messageId: 'claimed-click',
      });
      const retried = await harness.waitFor('retried', { queue, messageId: 'claimed-click' });
      expect((retried.error as Error & { code?: string }).code).toBe('INBOX_BUSY');
      expect(harness.all('acked', { queue, messageId: 'claimed-click' })).toEqual([]);
      await direct.del(key); // the older instance failed and let go
      await harness.waitFor('acked', { queue, messageId: 'claimed-click' }, 15_000);
      expect(total(await stats()) - before).toBe(1);
    } finally {
      direct.disconnect();
    }
  }, 30_000);

  it('still sends an event that breaks its contract to the DLQ (the consumer checks the payload)', async () => {
    const messaging = svc.app.get(Messaging);
    await messaging.publish({
      exchange: topologyNames().eventsExchange,
      routingKey: 'clickstream.click',
      type: 'clickstream.click',
      payload: { type: 'click', visitorId: 'bad', url: 'javascript:alert(1)', at: iso(now) },
      messageId: 'bad-click',
    });
    const parked = await harness.waitFor('dead-lettered', { queue, messageId: 'bad-click' });
    expect(parked.reason).toBe('invalid');
  });

  it('publishes each accepted event as its own message, each with a trace of its own', async () => {
    const from = harness.all('published').length;
    expect(
      await post([0, 1, 2].map((i) => ({ type: 'page_view', visitorId: `t${i}`, url: 'https://shop.example/t' }))),
    ).toMatchObject({ accepted: 3 });
    const published = harness.all('published').slice(from);
    expect(published.map((m) => m.type)).toEqual([
      'clickstream.page_view',
      'clickstream.page_view',
      'clickstream.page_view',
    ]);
    const traces = published.map((m) => /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(m.traceparent)?.[1]);
    expect(traces.every((t) => t !== undefined && !/^0+$/.test(t))).toBe(true);
    expect(new Set(traces).size).toBe(3);
    expect(new Set(published.map((m) => m.messageId)).size).toBe(3);
  });
});
