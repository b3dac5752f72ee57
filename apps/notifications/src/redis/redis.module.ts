import { Global, Inject, Injectable, Module, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { HealthIndicatorService, TerminusModule } from '@nestjs/terminus';
import { HEALTH_CHECKS, type HealthChecks } from '@warren/service-kit';
import { Redis } from 'ioredis';

/** The ioredis connection BullMQ uses, from REDIS_URL (default redis://localhost:6379). */
export const REDIS = Symbol('REDIS');

/** Adds Redis to GET /health and closes the connection on shutdown (after the queue and worker closed theirs). */
@Injectable()
class RedisLifecycle implements OnModuleInit, OnModuleDestroy {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(HEALTH_CHECKS) private readonly checks: HealthChecks,
    @Inject(HealthIndicatorService) private readonly indicators: HealthIndicatorService,
  ) {}

  onModuleInit(): void {
    this.checks.push(async () => {
      const indicator = this.indicators.check('redis');
      const pong = await Promise.race([this.redis.ping().catch((e: Error) => e.message), new Promise<string>((r) => setTimeout(() => r('no answer within 1 s'), 1000).unref())]);
      return pong === 'PONG' ? indicator.up() : indicator.down({ error: pong });
    });
  }

  async onModuleDestroy(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

@Global()
@Module({
  imports: [TerminusModule],
  providers: [
    {
      provide: REDIS,
      // BullMQ's workers block on Redis: they need maxRetriesPerRequest null to wait out a Redis restart
      useFactory: () => new Redis(process.env.REDIS_URL ?? 'redis://localhost:6379', { maxRetriesPerRequest: null }),
    },
    RedisLifecycle,
  ],
  exports: [REDIS],
})
export class RedisModule {}
