import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { EmailJobsService } from './email-jobs.service';

/** Bull Board, the queue UI, at /queues: waiting, active, delayed, completed and failed email jobs. */
@Injectable()
export class BullBoard implements OnModuleInit {
  constructor(
    @Inject(HttpAdapterHost) private readonly host: HttpAdapterHost,
    @Inject(EmailJobsService) private readonly emails: EmailJobsService,
  ) {}

  onModuleInit(): void {
    const server = new ExpressAdapter();
    server.setBasePath('/queues');
    createBullBoard({ queues: [new BullMQAdapter(this.emails.queue)], serverAdapter: server });
    this.host.httpAdapter.getInstance().use('/queues', server.getRouter());
  }
}
