import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { OrderCancelled, OrderConfirmed, OrderPlaced } from '@warren/contracts';
import { EmailJobsService } from '../jobs/email-jobs.service';

/**
 * Turns order events (from the `notifications.order-events` queue) into email jobs. The handler only queues:
 * the slow part, SMTP, happens in the BullMQ worker, rate limited and retried on its own schedule.
 */
@Controller()
export class OrderEventsController {
  constructor(@Inject(EmailJobsService) private readonly emails: EmailJobsService) {}

  @EventPattern(OrderPlaced.type, { contract: OrderPlaced })
  placed(@Payload() e: OrderPlaced) {
    return this.emails.enqueue({
      key: `${OrderPlaced.type}/${e.orderId}`,
      template: 'order-placed',
      to: e.customerEmail,
      data: e,
    });
  }

  @EventPattern(OrderConfirmed.type, { contract: OrderConfirmed })
  confirmed(@Payload() e: OrderConfirmed) {
    return this.emails.enqueue({
      key: `${OrderConfirmed.type}/${e.orderId}`,
      template: 'order-confirmed',
      to: e.customerEmail,
      data: e,
    });
  }

  @EventPattern(OrderCancelled.type, { contract: OrderCancelled })
  cancelled(@Payload() e: OrderCancelled) {
    return this.emails.enqueue({
      key: `${OrderCancelled.type}/${e.orderId}`,
      template: 'order-cancelled',
      to: e.customerEmail,
      data: e,
    });
  }
}
