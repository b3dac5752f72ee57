import { Controller, Get, Inject, Query, Sse, type MessageEvent } from '@nestjs/common';
import { z } from 'zod';
import { from, interval, map, startWith, switchMap, type Observable } from 'rxjs';
import { ZodBodyPipe } from '@warren/service-kit';
import { MAX_WINDOW_MINUTES } from '../aggregation/keys';
import { StatsService } from './stats.service';

const StatsQuery = z.object({ minutes: z.coerce.number().int().min(1).max(MAX_WINDOW_MINUTES).default(60) });

@Controller('stats')
export class StatsController {
  constructor(@Inject(StatsService) private readonly stats: StatsService) {}

  /** Counters, unique visitors, top pages, sessions and active visitors, over the last `minutes` (default 60). */
  @Get()
  get(@Query(new ZodBodyPipe(StatsQuery)) query: z.output<typeof StatsQuery>) {
    return this.stats.snapshot(query.minutes);
  }

  /** Server-sent events: a snapshot at once, then one a second (an `EventSource` on /stats/stream). */
  @Sse('stream')
  stream(@Query(new ZodBodyPipe(StatsQuery)) query: z.output<typeof StatsQuery>): Observable<MessageEvent> {
    return interval(1000).pipe(
      startWith(0),
      switchMap(() => from(this.stats.snapshot(query.minutes))),
      map((data) => ({ data, type: 'stats' })),
    );
  }
}
