import { Controller, Get, HttpCode, Inject, NotFoundException, Param, Post, Query, UseGuards } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { AdminGuard, wholeNumber, ZodParamsPipe, ZodQueryPipe } from '@warren/service-kit';
import { Repository } from 'typeorm';
import { z } from 'zod';
import { EmailJobsService } from '../jobs/email-jobs.service';
import { SentEmail } from './sent-email.entity';

const ListQuery = z.strictObject({ limit: wholeNumber(1, 500).default(50) });
/** A job id is its key (`order.placed/<order id>`, `daily-digest/manual-<ms>`): printable ASCII, no spaces. */
const JobParams = z.strictObject({
  id: z
    .string()
    .regex(
      /^[\x21-\x7e]{1,256}$/,
      "must be a failed email's id: 1 to 256 printable ASCII characters, e.g. order.placed/<order id>",
    ),
});

@Controller('notifications')
export class NotificationsController {
  constructor(
    @InjectRepository(SentEmail) private readonly sent: Repository<SentEmail>,
    @Inject(EmailJobsService) private readonly emails: EmailJobsService,
  ) {}

  /** What was sent, newest first. */
  @Get()
  list(@Query(new ZodQueryPipe(ListQuery)) q: z.output<typeof ListQuery>) {
    return this.sent.find({ order: { sentAt: 'DESC' }, take: q.limit });
  }

  /** Emails whose job ran out of attempts, with the last error. */
  @Get('failed')
  failed(@Query(new ZodQueryPipe(ListQuery)) q: z.output<typeof ListQuery>) {
    return this.emails.failed(q.limit);
  }

  /** Retries every failed email. Admin only, as the other routes that change something. */
  @Post('failed/retry')
  @UseGuards(AdminGuard)
  @HttpCode(200)
  async retryAll() {
    return { retried: await this.emails.retryFailed() };
  }

  /** Retries one failed email (its job id is its key, URL-encoded: order.placed%2F<order id>). */
  @Post('failed/:id/retry')
  @UseGuards(AdminGuard)
  @HttpCode(200)
  async retryOne(@Param(new ZodParamsPipe(JobParams)) { id }: z.output<typeof JobParams>) {
    const retried = await this.emails.retryFailed(id);
    if (retried === 0) throw new NotFoundException(`no failed email job '${id}'`);
    return { retried };
  }

  /** Sends the daily digest now (the job scheduler sends it every day at DIGEST_CRON). */
  @Post('digest')
  @UseGuards(AdminGuard)
  @HttpCode(202)
  async digest() {
    return { queued: await this.emails.digestNow() };
  }
}
