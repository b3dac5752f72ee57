import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { Click, PageView } from '@warren/contracts';
import { RedisInbox } from '@warren/messaging';
import { MessagingContext } from '@warren/messaging/nest';
import type { Redis } from 'ioredis';
import { KEY_PREFIX, REDIS } from '../redis/redis.module';
import { AggregatorService } from './aggregator.service';
import { keys } from './keys';

/**
 * Consumes the clickstream (`clickstream.page_view`, `clickstream.click` on warren.events) from the
 * `analytics.clickstream` queue. Redelivered events are counted once: the Redis inbox remembers message ids.
 */
@Controller()
export class ClickstreamController {
  private readonly inbox: RedisInbox;

  constructor(
    @Inject(AggregatorService) private readonly aggregator: AggregatorService,
    @Inject(REDIS) redis: Redis,
    @Inject(KEY_PREFIX) prefix: string,
  ) {
    this.inbox = new RedisInbox(redis, { keyPrefix: keys(prefix).inbox, ttlMs: 24 * 60 * 60 * 1000 });
  }

  @EventPattern(PageView.type, { contract: PageView })
  async pageView(@Payload() event: PageView, @Ctx() ctx: MessagingContext): Promise<void> {
    await this.inbox.handle(ctx.getMessage(), 'analytics.aggregate', () => this.aggregator.add(event));
  }

  @EventPattern(Click.type, { contract: Click })
  async click(@Payload() event: Click, @Ctx() ctx: MessagingContext): Promise<void> {
    await this.inbox.handle(ctx.getMessage(), 'analytics.aggregate', () => this.aggregator.add(event));
  }
}
