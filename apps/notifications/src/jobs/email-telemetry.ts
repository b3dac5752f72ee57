import { metrics, SpanKind, SpanStatusCode, trace, type Attributes, type Counter } from '@opentelemetry/api';
import type { Queue } from 'bullmq';

/** The job states `warren.bullmq.jobs` reports, as BullMQ names them. */
export const REPORTED_JOB_STATES = ['waiting', 'active', 'failed', 'delayed'] as const;

/** How long a read of the queue's counts serves scrapes: Prometheus and a console polling at once cost Redis one read. */
const COUNTS_TTL_MS = 1_000;

/**
 * The email pipeline's metrics and its SMTP span. Meters are taken when the app creates the jobs service,
 * after the process registered its meter provider (a meter taken earlier would stay a no-op).
 *   warren.emails.sent / warren.emails.failed {warren.email.template}: SMTP sends that succeeded, and send
 *     attempts SMTP refused or that could not reach it (an email retried until it goes out counts once in each
 *     per failed attempt, then once in sent).
 *   warren.bullmq.jobs {warren.bullmq.queue, warren.bullmq.state}: the email queue's jobs per state, read from
 *     Redis when a reader collects (at most once a second).
 */
export class EmailTelemetry {
  private readonly tracer = trace.getTracer('@warren/notifications');
  private readonly sent: Counter;
  private readonly failed: Counter;
  private readonly server: Attributes;
  private counts?: { at: number; values: Promise<Record<string, number>> };

  constructor(
    smtpUrl: string,
    private readonly queue: Queue,
  ) {
    const meter = metrics.getMeter('@warren/notifications');
    this.sent = meter.createCounter('warren.emails.sent', { description: 'Emails SMTP accepted, by template' });
    this.failed = meter.createCounter('warren.emails.failed', {
      description: 'Email send attempts that failed (SMTP refused or unreachable), by template',
    });
    meter
      .createObservableGauge('warren.bullmq.jobs', {
        unit: '{job}',
        description: 'BullMQ jobs in the email queue, by state (waiting, active, failed, delayed)',
      })
      .addCallback(async (result) => {
        const counts = await this.jobCounts().catch(() => undefined); // Redis away: no value rather than a wrong one
        if (!counts) return;
        for (const state of REPORTED_JOB_STATES)
          result.observe(counts[state] ?? 0, { 'warren.bullmq.queue': this.queue.name, 'warren.bullmq.state': state });
      });
    this.server = serverAttributes(smtpUrl);
  }

  /**
   * Runs one SMTP send in a CLIENT span `smtp send` (under the job's span) and counts it as sent or failed.
   * `orderId` names the order on the span when the email is about one.
   */
  send<T>(template: string, orderId: string | undefined, fn: () => Promise<T>): Promise<T> {
    const attributes: Attributes = {
      ...this.server,
      'warren.email.template': template,
      ...(orderId ? { 'warren.order.id': orderId } : {}),
    };
    return this.tracer.startActiveSpan('smtp send', { kind: SpanKind.CLIENT, attributes }, async (span) => {
      try {
        const result = await fn();
        this.sent.add(1, { 'warren.email.template': template });
        return result;
      } catch (err) {
        const error = err as Error & { responseCode?: number; code?: string };
        this.failed.add(1, { 'warren.email.template': template });
        span.recordException(error);
        span.setAttribute('error.type', error.responseCode ? String(error.responseCode) : (error.code ?? error.name));
        span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
        throw err;
      } finally {
        span.end();
      }
    });
  }

  private jobCounts(): Promise<Record<string, number>> {
    const now = Date.now();
    if (!this.counts || now - this.counts.at >= COUNTS_TTL_MS) {
      const values = this.queue.getJobCounts(...REPORTED_JOB_STATES);
      this.counts = { at: now, values };
      // a failed read is not kept: the next collection tries again
      values.catch(() => {
        if (this.counts?.values === values) this.counts = undefined;
      });
    }
    return this.counts.values;
  }
}

/** server.address and server.port of the SMTP URL (nodemailer's default ports when the URL names none). */
function serverAttributes(smtpUrl: string): Attributes {
  try {
    const url = new URL(smtpUrl);
    return {
      'server.address': url.hostname,
      'server.port': url.port ? Number(url.port) : url.protocol === 'smtps:' ? 465 : 587,
    };
  } catch {
    return {};
  }
}
