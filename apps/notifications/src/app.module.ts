import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ServiceModule } from '@warren/service-kit';
import { OrderEventsController } from './events/order-events.controller';
import { BullBoard } from './jobs/bull-board';
import { EmailJobsService } from './jobs/email-jobs.service';
import { CreateSentEmails1767312000000 } from './migrations/1767312000000-create-sent-emails';
import { NotificationsController } from './notifications/notifications.controller';
import { SentEmail } from './notifications/sent-email.entity';
import { RedisModule } from '@warren/service-kit';

export const NOTIFICATIONS = { name: 'notifications', defaultPort: 3004 } as const;

@Module({
  imports: [
    ServiceModule.forRoot({
      ...NOTIFICATIONS,
      queue: 'notifications.order-events',
      entities: [SentEmail],
      migrations: [CreateSentEmails1767312000000],
    }),
    TypeOrmModule.forFeature([SentEmail]),
    RedisModule.forRoot({ maxRetriesPerRequest: null }), // BullMQ's workers block on Redis
  ],
  controllers: [OrderEventsController, NotificationsController],
  providers: [EmailJobsService, BullBoard],
})
export class AppModule {}
