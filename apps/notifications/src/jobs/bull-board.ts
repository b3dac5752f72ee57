import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { adminMiddleware } from '@warren/service-kit';
import { EmailJobsService } from './email-jobs.service';

/**
 * Bull Board, the queue UI, at /queues: waiting, active, delayed, completed and failed email jobs. Its API
 * pauses, empties and obliterates queues, so the UI and the API are admin only (ADMIN_TOKEN; a browser gets a
 * login prompt: any user name, the token as the password).
 */
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
    this.host.httpAdapter.getInstance().use('/queues', adminMiddleware(), server.getRouter());
  }
}
