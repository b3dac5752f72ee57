import { Global, Module } from '@nestjs/common';
import { RedisModule as ServiceRedisModule, topologyNames } from '@warren/service-kit';

export { REDIS } from '@warren/service-kit';

/** Prefix of every key analytics writes: `analytics:` plus the namespace tests set, so suites never share keys. */
export const KEY_PREFIX = Symbol('KEY_PREFIX');

/** service-kit's Redis client (in /health, closed on shutdown) and analytics' key prefix. */
@Global()
@Module({
  imports: [ServiceRedisModule.forRoot({ maxRetriesPerRequest: 3 })],
  providers: [{ provide: KEY_PREFIX, useFactory: () => `analytics:${topologyNames().queue('')}` }],
  exports: [KEY_PREFIX],
})
export class RedisModule {}
