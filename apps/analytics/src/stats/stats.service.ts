import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { ACTIVE_WINDOW_MS, dayOf, keys, MINUTE_MS, minuteOf, SESSION_TIMEOUT_MS } from '../aggregation/keys';
import { KEY_PREFIX, REDIS } from '../redis/redis.module';

export interface Stats {
  /** The window the counters and top pages cover: the last `minutes` minutes up to `until`. */
  window: { minutes: number; until: string };
  counters: {
    pageViews: number;
    clicks: number;
    perMinute: Array<{ minute: string; pageViews: number; clicks: number }>;
  };
  uniqueVisitors: { today: number; allTime: number };
  topPages: Array<{ url: string; views: number }>;
  sessions: { total: number; active: number };
  /** Visitors seen in the last five minutes. */
  activeVisitors: number;
}

/** Reads the aggregates (see aggregation/keys.ts for the layout); every answer is a handful of Redis calls. */
@Injectable()
export class StatsService {
  private readonly k: ReturnType<typeof keys>;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(KEY_PREFIX) prefix: string,
  ) {
    this.k = keys(prefix);
  }

  async snapshot(minutes = 60, now = Date.now()): Promise<Stats> {
    const last = minuteOf(now);
    const window = Array.from({ length: minutes }, (_, i) => last - minutes + 1 + i);
    const read = this.redis.pipeline();
    for (const m of window) read.hgetall(this.k.minute(m));
    read.pfcount(this.k.day(dayOf(now)));
    read.pfcount(this.k.allVisitors);
    read.get(this.k.sessions);
    read.zcount(this.k.lastSeen, now - SESSION_TIMEOUT_MS, '+inf');
    read.zcount(this.k.lastSeen, now - ACTIVE_WINDOW_MS, '+inf');
    read.call('ZUNION', window.length, ...window.map((m) => this.k.pages(m)), 'WITHSCORES');
    // visitors idle for a day can no longer be active or continue a session: keep the set small
    read.zremrangebyscore(this.k.lastSeen, '-inf', now - 24 * 60 * MINUTE_MS);
    const results = await read.exec();
    if (!results) throw new Error('reading the stats from Redis failed');
    const failed = results.find(([err]) => err);
    if (failed) throw failed[0] as Error;
    const values = results.map(([, v]) => v);
    const perMinute = window.map((m, i) => {
      const h = (values[i] ?? {}) as Record<string, string>;
      return {
        minute: new Date(m * MINUTE_MS).toISOString(),
        pageViews: Number(h.page_view ?? 0),
        clicks: Number(h.click ?? 0),
      };
    });
    const [today, allTime, sessionsTotal, activeSessions, activeVisitors, union] = values.slice(window.length) as [
      number,
      number,
      string | null,
      number,
      number,
      string[],
    ];
    const topPages: Stats['topPages'] = [];
    for (let i = 0; i < union.length; i += 2) topPages.push({ url: union[i], views: Number(union[i + 1]) });
    topPages.sort((a, b) => b.views - a.views || a.url.localeCompare(b.url));
    return {
      window: { minutes, until: new Date(now).toISOString() },
      counters: {
        pageViews: perMinute.reduce((n, m) => n + m.pageViews, 0),
        clicks: perMinute.reduce((n, m) => n + m.clicks, 0),
        perMinute,
      },
      uniqueVisitors: { today, allTime },
      topPages: topPages.slice(0, 10),
      sessions: { total: Number(sessionsTotal ?? 0), active: activeSessions },
      activeVisitors,
    };
  }
}
