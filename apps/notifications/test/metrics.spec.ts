// GET /metrics of an app created in-process (no test provider: service-kit's own meter provider and Prometheus
// exporter), read as Prometheus reads it: the email counters and the BullMQ gauge under their Prometheus names.
import { OrderPlaced } from '@warren/contracts';
import { randomUUID } from 'node:crypto';
import { eventually } from '../../../tools/testing/eventually';
import { parsePrometheusText, type PrometheusFamily } from '../../../tools/testing/prometheus';
import { startNotifications, type NotificationsUnderTest } from './support';

describe('notifications GET /metrics', () => {
  let app: NotificationsUnderTest;

  beforeAll(async () => {
    app = await startNotifications('notifications-metrics', { EMAIL_ATTEMPTS: '1', EMAIL_BACKOFF_MS: '50' });
  });
  afterAll(() => app?.stop());

  const scrape = async (): Promise<Map<string, PrometheusFamily>> => {
    const res = await fetch(`${app.svc.url}/metrics`);
    expect(res.status).toBe(200);
    return parsePrometheusText(await res.text());
  };
  const value = (families: Map<string, PrometheusFamily>, family: string, labels: Record<string, string>) =>
    families.get(family)?.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

  it('exposes emails sent and failed by template, and the queue by state', async () => {
    const sent = randomUUID();
    await app.messaging.emit(OrderPlaced, {
      orderId: sent,
      customerEmail: 'ada@example.com',
      items: [{ sku: 'SKU-001', quantity: 1 }],
      placedAt: new Date().toISOString(),
    });
    await eventually('the email', () => (app.smtp.withKey(`order.placed/${sent}`).length === 1 ? true : undefined));
    app.smtp.failNext = 1;
    const refused = randomUUID();
    await app.messaging.emit(OrderPlaced, {
      orderId: refused,
      customerEmail: 'bob@example.com',
      items: [{ sku: 'SKU-002', quantity: 1 }],
      placedAt: new Date().toISOString(),
    });
    const families = await eventually('the counts', async () => {
      const f = await scrape();
      return value(f, 'warren_emails_failed_total', { warren_email_template: 'order-placed' }) === 1 &&
        value(f, 'warren_bullmq_jobs', { warren_bullmq_state: 'failed' }) === 1
        ? f
        : undefined;
    });
    expect(families.get('warren_emails_sent_total')).toMatchObject({ type: 'counter' });
    expect(value(families, 'warren_emails_sent_total', { warren_email_template: 'order-placed' })).toBe(1);
    expect(families.get('warren_bullmq_jobs')).toMatchObject({ type: 'gauge' });
    const states = families
      .get('warren_bullmq_jobs')!
      .samples.map((s) => [s.labels.warren_bullmq_queue, s.labels.warren_bullmq_state]);
    expect(states.sort()).toEqual(
      ['active', 'delayed', 'failed', 'waiting'].map((state) => [app.jobs.queue.name, state]),
    );
  });
});
