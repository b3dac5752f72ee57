import { Module } from '@nestjs/common';
import { ServiceModule } from '@warren/service-kit';
import { AggregatorService } from './aggregation/aggregator.service';
import { ClickstreamController } from './aggregation/clickstream.controller';
import { CollectController } from './collect/collect.controller';
import { RedisModule } from './redis/redis.module';
import { StatsController } from './stats/stats.controller';
import { StatsService } from './stats/stats.service';

export const ANALYTICS = { name: 'analytics', defaultPort: 3005 } as const;

@Module({
  imports: [ServiceModule.forRoot({ ...ANALYTICS, queue: 'analytics.clickstream', database: false, prefetch: 50 }), RedisModule],
  controllers: [CollectController, StatsController, ClickstreamController],
  providers: [AggregatorService, StatsService],
})
export class AppModule {}
