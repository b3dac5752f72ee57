import {
  Global,
  Inject,
  Injectable,
  Module,
  type DynamicModule,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { HealthIndicatorService, TerminusModule } from '@nestjs/terminus';
import { Redis } from 'ioredis';
import { HEALTH_CHECKS, type HealthChecks } from './service.module';

/** The service's ioredis client, from REDIS_URL (default redis://localhost:6379). */
export const REDIS = Symbol('REDIS');

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
      const pong = await Promise.race([
        this.redis.ping().catch((e: Error) => e.message),
        new Promise<string>((r) => setTimeout(() => r('no answer within 1 s'), 1000).unref()),
      ]);
      return pong === 'PONG' ? indicator.up() : indicator.down({ error: pong });
    });
  }

  async onModuleDestroy(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

/** For services that use Redis (next to ServiceModule, whose /health it joins). */
@Global()
@Module({})
export class RedisModule {
  /** maxRetriesPerRequest: null for BullMQ, whose workers block on Redis and must wait out a restart. */
  static forRoot(options: { maxRetriesPerRequest: number | null }): DynamicModule {
    return {
      module: RedisModule,
      imports: [TerminusModule],
      providers: [
        {
          provide: REDIS,
          useFactory: () =>
            new Redis(process.env.REDIS_URL ?? 'redis://localhost:6379', {
              maxRetriesPerRequest: options.maxRetriesPerRequest,
            }),
        },
        RedisLifecycle,
      ],
      exports: [REDIS],
    };
  }
}
