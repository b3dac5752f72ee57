// The email pipeline's telemetry, on the real app with Redis, the bundled broker and a real SMTP server:
// warren.emails.sent matches what SMTP received, warren.emails.failed counts refused attempts, warren.bullmq.jobs
// reports the queue by state, and each SMTP send is a span under its BullMQ job, in the trace the job was added in.
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { OrderConfirmed, OrderPlaced } from '@warren/contracts';
import type { Messaging } from '@warren/messaging';
import type { MessagingHarness } from '@warren/messaging/testing';
import { randomUUID } from 'node:crypto';
import { eventually } from '../../../tools/testing/eventually';
import { installTestTelemetry, parentId, spanId, traceId } from '../../../tools/testing/otel';
import type { EmailJobsService } from '../src/jobs/email-jobs.service';
import { startNotifications, type NotificationsUnderTest } from './support';
import type { TestSmtp } from './test-smtp';

// before the app exists: the jobs service takes its meter when the app initialises its modules
const otel = installTestTelemetry();

describe('notifications telemetry', () => {
  let app: NotificationsUnderTest;
  let smtp: TestSmtp;
  let messaging: Messaging;
  let harness: MessagingHarness;
  let jobs: EmailJobsService;

  beforeAll(async () => {
    app = await startNotifications('notifications-otel', {
      EMAIL_RATE_PER_SECOND: '50',
      EMAIL_ATTEMPTS: '2',
      EMAIL_BACKOFF_MS: '50',
    });
    ({ smtp, messaging, harness, jobs } = app);
  });
  afterAll(async () => {
    await app?.stop();
    await otel.shutdown();
  });

  const placed = (orderId = randomUUID()) => ({
    orderId,
    customerEmail: 'ada@example.com',
    items: [{ sku: 'SKU-001', quantity: 1 }],
    placedAt: new Date().toISOString(),
  });
  const jobsGauge = async () =>
    Object.fromEntries(
      (await otel.points('warren.bullmq.jobs'))
        .filter((p) => p.attributes['warren.bullmq.queue'] === jobs.queue.name)
        .map((p) => [p.attributes['warren.bullmq.state'], p.value]),
    );

  it('counts the emails SMTP accepted and the attempts it refused, by template; reports the queue by state', async () => {
    const sentBefore = await otel.total('warren.emails.sent', { 'warren.email.template': 'order-placed' });
    const events = [placed(), placed(), placed()];
    for (const e of events) await messaging.emit(OrderPlaced, e);
    await messaging.emit(OrderPlaced, events[0]); // a duplicate event: no second email, no second count
    await harness.waitForCount('acked', 4, { type: OrderPlaced.type });
    const keys = events.map((e) => `order.placed/${e.orderId}`);
    await eventually('three emails', () => (keys.every((k) => smtp.withKey(k).length === 1) ? true : undefined));
    await eventually('the sent count', async () =>
      (await otel.total('warren.emails.sent', { 'warren.email.template': 'order-placed' })) - sentBefore === 3
        ? true
        : undefined,
    );
    expect(smtp.received.filter((r) => r.key.startsWith('order.placed/'))).toHaveLength(3);

    // SMTP refuses both attempts of one email: two failed attempts, the job kept as failed, nothing sent
    const confirmedSent = await otel.total('warren.emails.sent', { 'warren.email.template': 'order-confirmed' });
    smtp.failNext = 2;
    const orderId = randomUUID();
    await messaging.emit(OrderConfirmed, {
      orderId,
      customerEmail: 'ada@example.com',
      items: [{ sku: 'SKU-002', quantity: 1, unitPrice: 100 }],
      total: 100,
      confirmedAt: new Date().toISOString(),
    });
    const key = `order.confirmed/${orderId}`;
    await eventually(
      'the job to fail for good',
      async () =>
        (await jobs.queue.getJob(key))?.failedReason && (await jobs.queue.getJob(key))?.attemptsMade === 2
          ? true
          : undefined,
      10_000,
    );
    expect(await otel.total('warren.emails.failed', { 'warren.email.template': 'order-confirmed' })).toBe(2);
    expect(await otel.total('warren.emails.failed', { 'warren.email.template': 'order-placed' })).toBe(0);
    expect(await otel.total('warren.emails.sent', { 'warren.email.template': 'order-confirmed' })).toBe(confirmedSent);
    expect(smtp.withKey(key)).toHaveLength(0);

    // the gauge: every state, read from Redis (the failed job is there; the digest's next run is delayed)
    const gauge = await eventually('the gauge to show the failed job', async () => {
      const g = await jobsGauge();
      return g.failed === 1 ? g : undefined;
    });
    expect(Object.keys(gauge).sort()).toEqual(['active', 'delayed', 'failed', 'waiting']);
    expect(gauge.delayed).toBeGreaterThanOrEqual(1);
    expect(await otel.metric('warren.bullmq.jobs')).toMatchObject({ descriptor: { unit: '{job}' } });

    // the failed send is a span in error
    const failedSends = otel.spansNamed('smtp send').filter((s) => s.attributes['warren.order.id'] === orderId);
    expect(failedSends).toHaveLength(2);
    for (const s of failedSends)
      expect([s.status.code, s.attributes['error.type']]).toEqual([SpanStatusCode.ERROR, '421']);
  });

  it('sends inside the job span, which continues the trace the job was added in', async () => {
    const orderId = randomUUID();
    const key = `order.placed/${orderId}`;
    // the job is queued inside a span, as the handler of an order event queues it inside the event's span
    const tracer = trace.getTracer('notifications-test');
    const parent = await tracer.startActiveSpan('handle order.placed', async (span) => {
      await jobs.enqueue({ key, template: 'order-placed', to: 'ada@example.com', data: placed(orderId) });
      span.end();
      return span;
    });
    await eventually('the email', () => (smtp.withKey(key).length === 1 ? true : undefined));
    const send = await eventually('the smtp span', () =>
      otel.spansNamed('smtp send').find((s) => s.attributes['warren.order.id'] === orderId),
    );
    expect(send.kind).toBe(SpanKind.CLIENT);
    expect(send.status.code).not.toBe(SpanStatusCode.ERROR);
    expect(send.attributes).toMatchObject({
      'server.address': '127.0.0.1',
      'server.port': smtp.port,
      'warren.email.template': 'order-placed',
    });

    // the job's span ends once the job is marked completed, after the send
    const { spans, processSpan, addSpan } = await eventually('the job span', () => {
      const all = otel.spans();
      const byId = new Map(all.map((s) => [spanId(s), s]));
      const job = byId.get(parentId(send)!);
      const added = job && byId.get(parentId(job)!);
      return added ? { spans: all, processSpan: job, addSpan: added } : undefined;
    });
    expect([processSpan.name, processSpan.kind, processSpan.instrumentationScope.name]).toEqual([
      `process ${jobs.queue.name}`,
      SpanKind.CONSUMER,
      'bullmq',
    ]);
    expect([addSpan.name, addSpan.kind]).toEqual([`add ${jobs.queue.name}.order-placed`, SpanKind.PRODUCER]);
    expect(parentId(addSpan)).toBe(parent.spanContext().spanId);
    for (const s of [send, processSpan, addSpan]) expect(traceId(s)).toBe(parent.spanContext().traceId);
    // the worker fetched jobs and checked for stalled ones all along: none of that is a span
    expect(
      spans.filter((s) => /^(getNextJob|extendLocks|moveStalledJobsToWait|startStalledCheckTimer) /.test(s.name)),
    ).toEqual([]);
  });

  it('puts the job an order event queued under that event, and the send under the job', async () => {
    const orderId = randomUUID();
    const event = await messaging.emit(OrderPlaced, placed(orderId));
    const send = await eventually('the smtp span', () =>
      otel.spansNamed('smtp send').find((s) => s.attributes['warren.order.id'] === orderId),
    );
    // the job's span ends once the job is marked completed, after the send
    const job = await eventually('the job added under the event', () =>
      otel.spansNamed(`add ${jobs.queue.name}.order-placed`).find((a) => otel.isDescendant(send, a)),
    );
    // the span the handler ran in (the messaging library's consumer span) is the job's parent
    const handled = otel.spans().find((s) => s.spanContext().spanId === parentId(job!));
    expect(handled).toMatchObject({
      kind: SpanKind.CONSUMER,
      name: `process ${process.env.WARREN_NAMESPACE}.notifications.order-events`,
    });
    // all of it in the trace the event was published in
    for (const s of [send, job!, handled!]) expect(traceId(s)).toBe(event.traceparent.split('-')[1]);
  });
});
