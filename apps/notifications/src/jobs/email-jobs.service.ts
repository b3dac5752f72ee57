import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { topologyNames } from '@warren/service-kit';
import { Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { createTransport, type Transporter } from 'nodemailer';
import { MoreThan, Repository } from 'typeorm';
import { readEmailSettings, type EmailSettings } from '../email/email-settings';
import { emailMessageId } from '../email/message-id';
import { render, type EmailRequest } from '../email/templates';
import { SentEmail } from '../notifications/sent-email.entity';
import { EmailTelemetry } from './email-telemetry';
import { jobTelemetry } from './job-telemetry';
import { REDIS } from '@warren/service-kit';

export interface EmailJob extends EmailRequest {
  /** `<event>/<order id>`: the BullMQ job id and the sent record's key. */
  key: string;
}

export interface FailedEmail {
  id: string;
  key: string;
  template: string;
  to: string;
  attemptsMade: number;
  failedReason: string;
  failedAt: string | null;
}

const DIGEST = 'daily-digest';

/**
 * The email queue (BullMQ on Redis). Events become jobs whose id is their idempotency key, so a redelivered
 * event adds nothing while its job is kept (a week); the sent record guards the send itself after that. The
 * worker is rate limited, retries with exponential backoff, and keeps jobs that ran out of attempts as failed,
 * to be listed and retried.
 */
@Injectable()
export class EmailJobsService implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  readonly queue: Queue<EmailJob>;
  private worker?: Worker<EmailJob>;
  private workerConnection?: Redis;
  private readonly transport: Transporter;
  private readonly settings: EmailSettings;
  private readonly logger = new Logger('EmailJobs');
  /** BullMQ's spans, shared by the queue and the worker (job-telemetry.ts). */
  private readonly bullTelemetry = jobTelemetry();
  /** Set in onModuleInit, before the worker starts (onApplicationBootstrap). */
  private telemetry!: EmailTelemetry;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @InjectRepository(SentEmail) private readonly sent: Repository<SentEmail>,
  ) {
    this.settings = readEmailSettings();
    this.queue = new Queue<EmailJob>(topologyNames().queue('notifications.email'), {
      connection: redis,
      telemetry: this.bullTelemetry,
    });
    // pooled SMTP connections: one connection per email (connect, greeting, EHLO, QUIT each time) capped the sending
    // rate at about 56 emails/s whatever the limit was set to
    this.transport = createTransport({
      url: this.settings.smtpUrl,
      pool: true,
      maxConnections: workersFor(this.settings.ratePerSecond),
    });
  }

  /**
   * The metrics' meter is taken once every provider exists: the process's meter provider is registered by then (by
   * instrument.ts, or by service-kit when an app is created in-process); a meter taken earlier would stay a no-op.
   */
  onModuleInit(): void {
    this.telemetry = new EmailTelemetry(this.settings.smtpUrl, this.queue);
  }

  async onApplicationBootstrap(): Promise<void> {
    const { ratePerSecond } = this.settings;
    // BullMQ's limiter counts whole jobs per window: below 1/s, stretch the window instead
    const limiter =
      ratePerSecond >= 1
        ? { max: Math.floor(ratePerSecond), duration: 1000 }
        : { max: 1, duration: Math.round(1000 / ratePerSecond) };
    // a worker blocks its connection waiting for jobs: it gets one of its own
    this.workerConnection = this.redis.duplicate();
    this.worker = new Worker<EmailJob>(this.queue.name, (job) => this.process(job), {
      connection: this.workerConnection,
      concurrency: workersFor(ratePerSecond),
      limiter,
      telemetry: this.bullTelemetry,
    });
    this.worker.on('failed', (job, err) => {
      if (job && job.attemptsMade >= (job.opts.attempts ?? 1))
        this.logger.error(`email ${job.id} failed for good after ${job.attemptsMade} attempts: ${err.message}`);
      else
        this.logger.warn(
          `email ${job?.id} failed (attempt ${job?.attemptsMade}): ${err.message}; retrying with backoff`,
        );
    });
    await this.queue.upsertJobScheduler(
      DIGEST,
      { pattern: this.settings.digestCron },
      { name: DIGEST, data: { key: DIGEST, template: 'daily-digest', to: this.settings.digestTo, data: {} } },
    );
  }

  async onModuleDestroy(): Promise<void> {
    await this.worker?.close();
    await this.workerConnection?.quit().catch(() => this.workerConnection?.disconnect());
    await this.queue.close();
    this.transport.close();
  }

  /** Queues an email once per key: while a job with this key is kept, adding it again does nothing. */
  async enqueue(email: EmailJob): Promise<void> {
    await this.queue.add(email.template, email, {
      jobId: email.key,
      attempts: this.settings.attempts,
      backoff: { type: 'exponential', delay: this.settings.backoffMs },
      removeOnComplete: { age: 7 * 24 * 3600 },
      removeOnFail: false,
    });
  }

  /** Puts a digest in the queue now (the scheduler does it daily). */
  async digestNow(): Promise<string> {
    const key = `${DIGEST}/manual-${Date.now()}`;
    await this.queue.add(
      DIGEST,
      { key, template: 'daily-digest', to: this.settings.digestTo, data: {} },
      {
        jobId: key,
        attempts: this.settings.attempts,
        backoff: { type: 'exponential', delay: this.settings.backoffMs },
      },
    );
    return key;
  }

  async failed(limit = 100): Promise<FailedEmail[]> {
    const jobs = await this.queue.getFailed(0, limit - 1);
    return jobs.map((j) => ({
      id: String(j.id),
      key: j.data.key,
      template: j.data.template,
      to: j.data.to,
      attemptsMade: j.attemptsMade,
      failedReason: j.failedReason,
      failedAt: j.finishedOn ? new Date(j.finishedOn).toISOString() : null,
    }));
  }

  /** Retries failed jobs (all, or one by id); returns how many were put back. Unknown or not-failed ids → 0. */
  async retryFailed(id?: string): Promise<number> {
    const jobs = id
      ? [await this.queue.getJob(id)].filter((j): j is Job<EmailJob> => j !== undefined)
      : await this.queue.getFailed();
    let retried = 0;
    for (const job of jobs) {
      if ((await job.getState()) !== 'failed') continue;
      await job.retry('failed');
      retried++;
    }
    return retried;
  }

  private async process(job: Job<EmailJob>): Promise<{ sent: boolean; smtpMessageId?: string }> {
    // the scheduler's digest job carries the bare name: one digest per day
    const key = job.data.key === DIGEST ? `${DIGEST}/${new Date().toISOString().slice(0, 10)}` : job.data.key;
    if (await this.sent.existsBy({ key })) return { sent: false }; // sent before: a second run must not send again
    const data = job.data.template === 'daily-digest' ? await this.digestData() : job.data.data;
    const { subject, text, html } = render({ ...job.data, data });
    const orderId = typeof job.data.data.orderId === 'string' ? job.data.data.orderId : undefined;
    const info = await this.telemetry.send(job.data.template, orderId, () =>
      this.transport.sendMail({
        from: this.settings.from,
        to: job.data.to,
        subject,
        text,
        html,
        messageId: emailMessageId(key, this.settings.from),
        headers: { 'X-Warren-Key': key },
      }),
    );
    await this.sent
      .insert({
        key,
        to: job.data.to,
        subject,
        template: job.data.template,
        smtpMessageId: info.messageId ?? null,
        sentAt: new Date().toISOString(),
      })
      .catch((err: Error) =>
        this.logger.warn(`email ${key} was sent but its record could not be written: ${err.message}`),
      );
    // inside the job's span: the line carries the trace id of the order event that queued the email
    this.logger.log(`email ${key} sent to ${job.data.to}`);
    return { sent: true, smtpMessageId: info.messageId };
  }

  private async digestData(): Promise<{ total: number; byTemplate: Record<string, number> }> {
    const since = new Date(Date.now() - 24 * 3600 * 1000).toISOString();
    const rows = await this.sent.find({ where: { sentAt: MoreThan(since) }, select: { template: true } });
    const byTemplate: Record<string, number> = {};
    for (const r of rows) byTemplate[r.template] = (byTemplate[r.template] ?? 0) + 1;
    return { total: rows.length, byTemplate };
  }
}

/**
 * Jobs handled at once (and SMTP connections): enough for the limit to be the bottleneck, at about 20 ms per
 * email (the SMTP exchange, the sent-email row, BullMQ's bookkeeping) — 5 up to 100/s, then one more per 20/s.
 */
export function workersFor(ratePerSecond: number): number {
  return Math.min(50, Math.max(5, Math.ceil(ratePerSecond / 20)));
}
