import { Global, Inject, Injectable, Module, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { HealthIndicatorService, TerminusModule } from '@nestjs/terminus';
import { HEALTH_CHECKS, topologyNames, type HealthChecks } from '@warren/service-kit';
import { Redis } from 'ioredis';

/** The ioredis client, from REDIS_URL (default redis://localhost:6379). */
export const REDIS = Symbol('REDIS');

/** Prefix of every key analytics writes: `analytics:` plus the namespace tests set, so suites never share keys. */
export const KEY_PREFIX = Symbol('KEY_PREFIX');

/** Adds Redis to GET /health (a PING within a second), and closes the client on shutdown. */
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
      useFactory: () => new Redis(process.env.REDIS_URL ?? 'redis://localhost:6379', { maxRetriesPerRequest: 3 }),
    },
    { provide: KEY_PREFIX, useFactory: () => `analytics:${topologyNames().queue('')}` },
    RedisLifecycle,
  ],
  exports: [REDIS, KEY_PREFIX],
})
export class RedisModule {}
