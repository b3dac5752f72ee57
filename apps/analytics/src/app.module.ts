import { Module } from '@nestjs/common';
import { ServiceModule } from '@warren/service-kit';
import { AggregatorService } from './aggregation/aggregator.service';
import { ClickstreamConsumer } from './aggregation/clickstream.controller';
import { CollectController } from './collect/collect.controller';
import { RedisModule } from './redis/redis.module';
import { StatsController } from './stats/stats.controller';
import { StatsService } from './stats/stats.service';

export const ANALYTICS = { name: 'analytics', defaultPort: 3005 } as const;

@Module({
  imports: [ServiceModule.forRoot({ ...ANALYTICS, queue: 'analytics.clickstream', database: false }), RedisModule],
  controllers: [CollectController, StatsController],
  providers: [AggregatorService, ClickstreamConsumer, StatsService],
})
export class AppModule {}
