import { Inject, Injectable } from '@nestjs/common';
import type { Click, PageView } from '@warren/contracts';
import type { Redis } from 'ioredis';
import { KEY_PREFIX, REDIS } from '../redis/redis.module';
import { dayOf, keys, MINUTE_KEY_TTL_S, minuteOf, SESSION_TIMEOUT_MS } from './keys';

/**
 * Starts a session when a visitor has been away longer than the timeout (or is new), and records when the
 * visitor was last seen; in one script, so two events of one visitor handled at once cannot both start one.
 * An event older than the last one seen (they can arrive out of order) neither starts a session nor moves
 * "last seen" back.
 */
const TOUCH_SESSION = `
local prev = redis.call('ZSCORE', KEYS[1], ARGV[1])
local at = tonumber(ARGV[2])
local started = 0
if (not prev) or (at - tonumber(prev) > tonumber(ARGV[3])) then
  redis.call('INCR', KEYS[2])
  started = 1
end
if (not prev) or at > tonumber(prev) then redis.call('ZADD', KEYS[1], at, ARGV[1]) end
return started`;

type ClickstreamEvent = PageView | Click;

@Injectable()
export class AggregatorService {
  private readonly k: ReturnType<typeof keys>;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(KEY_PREFIX) prefix: string,
  ) {
    this.k = keys(prefix);
  }

  /** Folds one event into the aggregates. Not idempotent by itself: the consumer runs it behind the inbox. */
  async add(event: ClickstreamEvent): Promise<void> {
    const at = Date.parse(event.at);
    const minute = minuteOf(at);
    const expireAt = Math.floor(at / 1000) + MINUTE_KEY_TTL_S;
    const tx = this.redis.multi();
    tx.hincrby(this.k.minute(minute), event.type, 1).expireat(this.k.minute(minute), expireAt);
    if (event.type === 'page_view') tx.zincrby(this.k.pages(minute), 1, event.url).expireat(this.k.pages(minute), expireAt);
    const day = this.k.day(dayOf(at));
    tx.pfadd(day, event.visitorId).expire(day, 2 * 24 * 60 * 60);
    tx.pfadd(this.k.allVisitors, event.visitorId);
    tx.eval(TOUCH_SESSION, 2, this.k.lastSeen, this.k.sessions, event.visitorId, String(at), String(SESSION_TIMEOUT_MS));
    const results = await tx.exec();
    const failed = results?.find(([err]) => err);
    if (!results || failed) throw new Error(`aggregating into Redis failed: ${failed?.[0]?.message ?? 'transaction aborted'}`);
  }
}
