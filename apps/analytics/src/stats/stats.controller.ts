import { Controller, Get, Inject, Query, Sse, type MessageEvent } from '@nestjs/common';
import { z } from 'zod';
import { from, interval, map, startWith, switchMap, type Observable } from 'rxjs';
import { wholeNumber, ZodQueryPipe } from '@warren/service-kit';
import { MAX_WINDOW_MINUTES } from '../aggregation/keys';
import { StatsService } from './stats.service';

const StatsQuery = z.strictObject({ minutes: wholeNumber(1, MAX_WINDOW_MINUTES).default(60) });

@Controller('stats')
export class StatsController {
  constructor(@Inject(StatsService) private readonly stats: StatsService) {}

  /** Counters, unique visitors, top pages, sessions and active visitors, over the last `minutes` (default 60). */
  @Get()
  get(@Query(new ZodQueryPipe(StatsQuery)) query: z.output<typeof StatsQuery>) {
    return this.stats.snapshot(query.minutes);
  }

  /** Server-sent events: a snapshot at once, then one a second (an `EventSource` on /stats/stream). */
  @Sse('stream')
  stream(@Query(new ZodQueryPipe(StatsQuery)) query: z.output<typeof StatsQuery>): Observable<MessageEvent> {
    return interval(1000).pipe(
      startWith(0),
      switchMap(() => from(this.stats.snapshot(query.minutes))),
      map((data) => ({ data, type: 'stats' })),
    );
  }
}
