import { randomUUID } from 'node:crypto';
import { OrderCancelled, OrderConfirmed, OrderPlaced } from '@warren/contracts';
import type { Messaging, PayloadInput } from '@warren/messaging';
import type { MessagingHarness } from '@warren/messaging/testing';
import { startService, topologyNames, type StartedService } from '@warren/service-kit';
import { getRepositoryToken } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { AppModule, NOTIFICATIONS } from '../src/app.module';
import { emailMessageId } from '../src/email/message-id';
import { SentEmail } from '../src/notifications/sent-email.entity';
import type { EmailJobsService } from '../src/jobs/email-jobs.service';
import type { TestRedis } from '../../../tools/testing/redis';
import { eventually } from '../../../tools/testing/eventually';
import { startNotifications, type NotificationsUnderTest } from './support';
import type { TestSmtp } from './test-smtp';

const ADMIN_TOKEN = 'notifications-test-admin-token';
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const basicAuth = (password: string) => ({
  authorization: `Basic ${Buffer.from(`ops:${password}`).toString('base64')}`,
});

describe('notifications', () => {
  let app: NotificationsUnderTest;
  let redis: TestRedis;
  let smtp: TestSmtp;
  let svc: StartedService;
  let messaging: Messaging;
  let harness: MessagingHarness;
  let jobs: EmailJobsService;

  beforeAll(async () => {
    app = await startNotifications('notifications', {
      EMAIL_RATE_PER_SECOND: '5',
      EMAIL_ATTEMPTS: '4',
      EMAIL_BACKOFF_MS: '100',
      ADMIN_TOKEN,
    });
    ({ redis, smtp, svc, messaging, harness, jobs } = app);
  });
  afterAll(() => app?.stop());

  const placed = (orderId = randomUUID()): PayloadInput<typeof OrderPlaced> => ({
    orderId,
    customerEmail: 'ada@example.com',
    items: [{ sku: 'SKU-001', quantity: 2 }],
    placedAt: new Date().toISOString(),
  });
  // nothing waiting, running or waiting to retry (the digest scheduler's next run is always delayed: not counted)
  const drained = () =>
    eventually(
      'the email queue to drain',
      async () => {
        const pending = await jobs.queue.getJobs(['waiting', 'active', 'delayed', 'prioritized']);
        return pending.every((j) => j.repeatJobKey) ? true : undefined;
      },
      20_000,
    );

  it('sends one email per event, even when the event is delivered twice', async () => {
    const event = placed();
    const key = `order.placed/${event.orderId}`;
    const first = await messaging.emit(OrderPlaced, event);
    await messaging.emit(OrderPlaced, event, { messageId: first.messageId }); // a redelivery: same message id
    await messaging.emit(OrderPlaced, event); // a duplicate publish: a new message id, the same event
    await harness.waitForCount('acked', 3, { type: 'order.placed' });
    await eventually('the email', () => (smtp.withKey(key).length > 0 ? true : undefined));
    await drained();
    const [mail] = smtp.withKey(key);
    expect(smtp.withKey(key)).toHaveLength(1);
    expect(mail.mail.subject).toBe(`We received your order ${event.orderId.slice(0, 8)}`);
    expect(mail.mail.text).toContain('- 2 × SKU-001');
    expect(mail.mail.html).toContain(`<b>${event.orderId}</b>`);
    expect(mail.mail.to).toMatchObject({ text: 'ada@example.com' });
    // the job is gone from the queue's memory later; the sent record still guards the send
    await jobs.queue.remove(key);
    await messaging.emit(OrderPlaced, event);
    await harness.waitForCount('acked', 4, { type: 'order.placed' });
    await drained();
    expect(smtp.withKey(key)).toHaveLength(1);
    const listed = (await (await fetch(`${svc.url}/notifications`)).json()) as Array<{ key: string }>;
    expect(listed.filter((n) => n.key === key)).toHaveLength(1);
  });

  // Sending is at least once: killed after the SMTP server took the email and before the sent record, the job runs
  // again and sends again. The second copy must say it is the same email (one Message-ID, from the key), so a mail
  // store that drops a Message-ID it holds shows it once.
  it('sends an email again under the same Message-ID when its sent record was lost (a crash after SMTP took it)', async () => {
    const event = placed();
    const key = `order.placed/${event.orderId}`;
    await messaging.emit(OrderPlaced, event);
    await eventually('the email', () => (smtp.withKey(key).length > 0 ? true : undefined));
    await drained();
    // the crash's window, reproduced: no sent record, the job gone; the event comes again
    await svc.app.get<Repository<SentEmail>>(getRepositoryToken(SentEmail)).delete({ key });
    await jobs.queue.remove(key);
    await messaging.emit(OrderPlaced, event);
    await eventually('the email sent again', () => (smtp.withKey(key).length === 2 ? true : undefined));
    const ids = smtp.withKey(key).map((r) => r.mail.messageId);
    expect(ids).toEqual([
      emailMessageId(key, 'Warren Shop <shop@warren.local>'),
      emailMessageId(key, 'Warren Shop <shop@warren.local>'),
    ]);
    expect(ids[0]).toMatch(/^<[0-9a-f]{32}@warren\.local>$/);
    // another email's is another
    expect(emailMessageId(`order.confirmed/${event.orderId}`, 'shop@warren.local')).not.toBe(ids[0]);
  });

  it('retries with backoff while SMTP refuses, then delivers exactly once', async () => {
    smtp.failNext = 2;
    const orderId = randomUUID();
    await messaging.emit(OrderConfirmed, {
      orderId,
      customerEmail: 'ada@example.com',
      items: [{ sku: 'SKU-002', quantity: 1, unitPrice: 1999 }],
      total: 1999,
      confirmedAt: new Date().toISOString(),
    });
    const key = `order.confirmed/${orderId}`;
    await eventually('the email after retries', () => (smtp.withKey(key).length > 0 ? true : undefined), 15_000);
    await drained();
    expect(smtp.withKey(key)).toHaveLength(1);
    expect(smtp.withKey(key)[0].mail.text).toContain('Total: $19.99');
    const job = await jobs.queue.getJob(key);
    expect(job?.attemptsMade).toBe(3);
  });

  it('holds the rate limit under a burst (measured send times)', async () => {
    // start from a fresh limiter window (its key expires one window after the last email), so the windows are
    // aligned with the burst's first email
    const { Redis } = await import('ioredis');
    const probe = new Redis(redis.url);
    await eventually('the previous limiter window to end', async () =>
      (await probe.exists(jobs.queue.keys.limiter)) === 0 ? true : undefined,
    );
    probe.disconnect();
    const events = Array.from({ length: 12 }, () => placed());
    const startedAt = Date.now();
    await Promise.all(events.map((e) => messaging.emit(OrderPlaced, e)));
    const keys = new Set(events.map((e) => `order.placed/${e.orderId}`));
    const sends = await eventually(
      '12 emails',
      () => {
        const got = smtp.received.filter((r) => keys.has(r.key));
        return got.length === 12 ? got.map((r) => r.at).sort((a, b) => a - b) : undefined;
      },
      20_000,
    );
    // BullMQ's limiter admits 5 jobs per 1-second window from the first one: the (5n+1)-th email cannot go out
    // before n windows have passed (slack for the first batch's own SMTP round trips)
    const offsets = sends.map((t) => t - sends[0]);
    console.log(
      `rate limit 5/s: 12 emails in ${sends[11] - startedAt} ms after the burst; send offsets ${offsets.join(', ')} ms`,
    );
    offsets.forEach((offset, i) => expect(offset).toBeGreaterThanOrEqual(Math.floor(i / 5) * 1000 - 150));
    expect(offsets[11]).toBeLessThan(6000); // and it does not crawl either
  });

  it('keeps an email that ran out of attempts as failed; it can be listed and retried', async () => {
    smtp.failNext = 100;
    const orderId = randomUUID();
    await messaging.emit(OrderCancelled, {
      orderId,
      customerEmail: 'ada@example.com',
      reason: 'out of stock: SKU-003',
      cancelledAt: new Date().toISOString(),
    });
    const key = `order.cancelled/${orderId}`;
    const failed = await eventually(
      'the failed job',
      async () => {
        const res = await fetch(`${svc.url}/notifications/failed`);
        const list = (await res.json()) as Array<{
          id: string;
          key: string;
          attemptsMade: number;
          failedReason: string;
        }>;
        return list.find((f) => f.key === key);
      },
      15_000,
    );
    expect(failed).toMatchObject({ id: key, attemptsMade: 4 });
    expect(failed.failedReason).toMatch(/421/);
    smtp.failNext = 0;
    const res = await fetch(`${svc.url}/notifications/failed/${encodeURIComponent(key)}/retry`, {
      method: 'POST',
      headers: admin,
    });
    expect(res.status).toBe(200);
    await eventually('the retried email', () => (smtp.withKey(key).length === 1 ? true : undefined), 15_000);
    expect(smtp.withKey(key)[0].mail.text).toContain('out of stock: SKU-003');
    expect(
      (
        await fetch(`${svc.url}/notifications/failed/${encodeURIComponent(key)}/retry`, {
          method: 'POST',
          headers: admin,
        })
      ).status,
    ).toBe(404);
  });

  it('schedules a daily digest, and sends one on demand', async () => {
    const schedulers = await jobs.queue.getJobSchedulers();
    expect(schedulers.map((s) => [s.key, s.pattern])).toContainEqual(['daily-digest', '0 8 * * *']);
    expect((await fetch(`${svc.url}/notifications/digest`, { method: 'POST' })).status).toBe(401);
    const res = await fetch(`${svc.url}/notifications/digest`, { method: 'POST', headers: admin });
    expect(res.status).toBe(202);
    const { queued } = (await res.json()) as { queued: string };
    const [digest] = await eventually(
      'the digest',
      () => (smtp.withKey(queued).length ? smtp.withKey(queued) : undefined),
      10_000,
    );
    expect(digest.mail.to).toMatchObject({ text: 'ops@warren.local' });
    expect(digest.mail.subject).toMatch(/^Warren daily digest: \d+ emails sent$/);
    expect(digest.mail.text).toContain('order-placed: ');
  });

  it('serves Bull Board at /queues and reports database, broker and Redis in /health', async () => {
    const board = await fetch(`${svc.url}/queues`, { headers: basicAuth(ADMIN_TOKEN) });
    expect(board.status).toBe(200);
    expect(await board.text()).toMatch(/<html/i);
    const health = (await (await fetch(`${svc.url}/health`)).json()) as {
      status: string;
      info: Record<string, unknown>;
    };
    expect(health.status).toBe('ok');
    expect(Object.keys(health.info).sort()).toEqual(['broker', 'database', 'redis']);
    expect(topologyNames().queue('notifications.order-events')).toContain('notifications.order-events');
  });

  it.each([
    ['a limit that is not a number', '/notifications?limit=ten', 'limit'],
    ['a repeated limit', '/notifications/failed?limit=1&limit=2', 'limit'],
    ['an unknown parameter', '/notifications/failed?max=5', '(query)'],
  ])('answers 400 for %s', async (_what, route, issuePath) => {
    const res = await fetch(`${svc.url}${route}`);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      statusCode: 400,
      message: 'invalid query',
      issues: [expect.objectContaining({ path: issuePath })],
    });
  });

  it('answers 400 for a failed email id with a control character or a space', async () => {
    for (const id of ['order.placed%2Fa%00b', 'order%20placed']) {
      const res = await fetch(`${svc.url}/notifications/failed/${id}/retry`, { method: 'POST', headers: admin });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({
        message: 'invalid path parameters',
        issues: [{ path: 'id', message: expect.stringContaining("failed email's id") }],
      });
    }
  });

  describe('admin routes (ADMIN_TOKEN)', () => {
    const PAUSE = '(pause)'; // the queue's name is known once the app is up
    const routeOf = (p: string) =>
      p === PAUSE ? `/queues/api/queues/${encodeURIComponent(jobs.queue.name)}/pause` : p;
    const call = (method: string, p: string, headers: Record<string, string> = {}, url = svc.url) =>
      fetch(`${url}${routeOf(p)}`, { method, headers });

    it.each([
      ['a failed-email retry route', 'POST', '/notifications/failed/retry'],
      ["Bull Board's UI", 'GET', '/queues'],
      ["Bull Board's API (pause)", 'PUT', PAUSE],
    ])('%s answers 401 with a Basic challenge without the token or with a wrong one', async (_what, method, route) => {
      for (const headers of [{}, { authorization: 'Bearer wrong' }, basicAuth('wrong')]) {
        const res = await call(method, route, headers);
        expect(res.status).toBe(401);
        expect(res.headers.get('www-authenticate')).toBe('Basic realm="warren admin"');
      }
      expect(await jobs.queue.isPaused()).toBe(false);
    });

    it('lets the token in as Bearer or Basic: retries failed emails, pauses the queue from Bull Board', async () => {
      for (const headers of [admin, basicAuth(ADMIN_TOKEN)]) {
        const res = await call('POST', '/notifications/failed/retry', headers);
        expect(res.status).toBe(200);
        expect(await res.json()).toEqual({ retried: expect.any(Number) });
      }
      try {
        expect((await call('PUT', PAUSE, admin)).status).toBe(200);
        expect(await jobs.queue.isPaused()).toBe(true);
        await jobs.queue.resume();
        expect((await call('PUT', PAUSE, basicAuth(ADMIN_TOKEN))).status).toBe(200);
        expect(await jobs.queue.isPaused()).toBe(true);
      } finally {
        await jobs.queue.resume();
      }
    });

    it('turns them off (403, how to turn them on) when ADMIN_TOKEN is unset', async () => {
      delete process.env.ADMIN_TOKEN;
      const open = await startService(AppModule, { ...NOTIFICATIONS, logger: false }).finally(
        () => (process.env.ADMIN_TOKEN = ADMIN_TOKEN),
      );
      try {
        for (const [method, route] of [
          ['POST', '/notifications/failed/retry'],
          ['POST', '/notifications/failed/x/retry'],
          ['POST', '/notifications/digest'],
          ['GET', '/queues'],
          ['PUT', PAUSE],
        ]) {
          const res = await call(method, route, admin, open.url);
          expect([method, route, res.status]).toEqual([method, route, 403]);
          expect(await res.json()).toEqual({
            statusCode: 403,
            error: 'Forbidden',
            message: 'admin routes are off: set ADMIN_TOKEN to turn them on',
          });
        }
        expect(await jobs.queue.isPaused()).toBe(false);
      } finally {
        await open.close();
      }
    });
  });
});
