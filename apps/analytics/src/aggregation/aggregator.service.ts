import { Inject, Injectable } from '@nestjs/common';
import { metrics, type Counter } from '@opentelemetry/api';
import type { Click, PageView } from '@warren/contracts';
import { INSTRUMENTATION_NAME } from '@warren/messaging';
import type { Redis } from 'ioredis';
import { KEY_PREFIX, REDIS } from '../redis/redis.module';
import { dayOf, keys, MINUTE_KEY_TTL_S, minuteOf, SESSION_TIMEOUT_MS } from './keys';

export type ClickstreamEvent = PageView | Click;

/** What became of one event in a committed batch. */
export type Outcome = 'applied' | 'duplicate' | 'busy';

/** The inbox's consumer name: its keys are `<prefix>inbox:analytics.aggregate:<message id>`, as RedisInbox wrote them. */
export const INBOX_CONSUMER = 'analytics.aggregate';
/** How long a handled message id is remembered (redeliveries within it are skipped). */
export const INBOX_TTL_MS = 24 * 60 * 60 * 1000;
const DAY_KEY_TTL_S = 2 * 24 * 60 * 60;
/** The most events one Redis round trip carries; a fuller batch is sent at once instead of waiting for the tick. */
export const MAX_BATCH = 500;

/**
 * Folds a batch of events into the aggregates behind the inbox, in one script, so that "this message was
 * handled" and "its counts are in" are written together or not at all: a redelivery finds the inbox mark and
 * changes nothing, and a failure (Redis down, the script refused) leaves neither, so the retry counts it once.
 * A script runs alone in Redis, so two instances racing on one message cannot both count it either.
 *
 * KEYS: 1 lastseen, 2 sessions:total, 3 hll:all, then the n inbox keys, then the batch's minute hashes,
 *       pages sets and day HLLs (each named once; events point at them by position).
 * ARGV: 1 inbox TTL (ms), 2 session timeout (ms), 3 n, 4 day-key TTL (s), 5 number of those other keys (k),
 *       6 .. 5+k each key's EXPIREAT (s; 0 for a day key, which gets the day TTL instead), then 7 fields per
 *       event: type, visitor id, at (ms), url, minute hash's KEYS index, pages set's KEYS index (0: not a
 *       page view), day HLL's KEYS index.
 * Returns one status per event: 0 counted, 1 duplicate (already handled), 2 busy (an older instance holds a
 * RedisInbox claim on it: retried later, as RedisInbox does).
 *
 * Every read comes before any write, and Redis refuses a script for lack of memory before its first write, so
 * a batch is written whole. Sessions follow the single-event rule in the batch's order: a visitor away longer
 * than the timeout (or new) starts one; an event older than the last one seen neither starts one nor moves
 * "last seen" back. Counts of the batch are summed first, so each counter is one command, not one per event.
 */
const APPLY_BATCH = `
local n = tonumber(ARGV[3])
local k = tonumber(ARGV[5])
local base = 5 + k
local timeout = tonumber(ARGV[2])
local status = {}
local claimed = {}
for i = 1, n do
  local key = KEYS[3 + i]
  if claimed[key] then
    status[i] = 1
  else
    local v = redis.call('GET', key)
    if v == false then status[i] = 0; claimed[key] = true
    elseif v == 'done' then status[i] = 1
    else status[i] = 2 end
  end
end
local hashes, hashOrder = {}, {}
local pages, pagesOrder = {}, {}
local days, dayOrder = {}, {}
local all = {}
local last, visitorOrder, changed = {}, {}, {}
local started = 0
for i = 1, n do
  if status[i] == 0 then
    local o = base + (i - 1) * 7
    local kind, visitor, at, url = ARGV[o + 1], ARGV[o + 2], tonumber(ARGV[o + 3]), ARGV[o + 4]
    local h, p, d = tonumber(ARGV[o + 5]), tonumber(ARGV[o + 6]), tonumber(ARGV[o + 7])
    if not hashes[h] then hashes[h] = {}; hashOrder[#hashOrder + 1] = h end
    hashes[h][kind] = (hashes[h][kind] or 0) + 1
    if p > 0 then
      if not pages[p] then pages[p] = {}; pagesOrder[#pagesOrder + 1] = p end
      pages[p][url] = (pages[p][url] or 0) + 1
    end
    if not days[d] then days[d] = {}; dayOrder[#dayOrder + 1] = d end
    days[d][#days[d] + 1] = visitor
    all[#all + 1] = visitor
    local prev = last[visitor]
    if prev == nil then
      prev = redis.call('ZSCORE', KEYS[1], visitor)
      if prev then prev = tonumber(prev) end
      visitorOrder[#visitorOrder + 1] = visitor
    end
    if (not prev) or (at - prev > timeout) then started = started + 1 end
    if (not prev) or at > prev then last[visitor] = at; changed[visitor] = true else last[visitor] = prev end
  end
end
for i = 1, n do
  if status[i] == 0 then redis.call('SET', KEYS[3 + i], 'done', 'PX', ARGV[1]) end
end
for _, h in ipairs(hashOrder) do
  for field, count in pairs(hashes[h]) do redis.call('HINCRBY', KEYS[h], field, count) end
  redis.call('EXPIREAT', KEYS[h], ARGV[5 + h - 3 - n])
end
for _, p in ipairs(pagesOrder) do
  for url, count in pairs(pages[p]) do redis.call('ZINCRBY', KEYS[p], count, url) end
  redis.call('EXPIREAT', KEYS[p], ARGV[5 + p - 3 - n])
end
for _, d in ipairs(dayOrder) do
  redis.call('PFADD', KEYS[d], unpack(days[d]))
  redis.call('EXPIRE', KEYS[d], ARGV[4])
end
if #all > 0 then redis.call('PFADD', KEYS[3], unpack(all)) end
local zadd = {}
for _, visitor in ipairs(visitorOrder) do
  if changed[visitor] then zadd[#zadd + 1] = last[visitor]; zadd[#zadd + 1] = visitor end
end
if #zadd > 0 then redis.call('ZADD', KEYS[1], unpack(zadd)) end
if started > 0 then redis.call('INCRBY', KEYS[2], started) end
return status`;

type ApplyBatch = (numKeys: number, ...args: Array<string | number>) => Promise<number[]>;

interface Waiting {
  messageId: string;
  event: ClickstreamEvent;
  queue?: string;
  resolve(outcome: Outcome): void;
  reject(err: Error): void;
}

/**
 * Aggregates the click stream in Redis, many events per round trip. The consumer handles up to `prefetch`
 * messages at once; each handler joins the current batch and waits for it. The batch is sent when it is full
 * or on the next turn of the event loop (so it takes in every delivery of the socket read that started it),
 * and each handler settles when its batch is committed: its message is acked only once its counts are in Redis,
 * and if Redis fails, every handler of the batch fails and its message is retried.
 */
@Injectable()
export class AggregatorService {
  private readonly k: ReturnType<typeof keys>;
  private readonly applyBatch: ApplyBatch;
  private batch: Waiting[] = [];
  private scheduled = false;
  private lastDay = { minute: NaN, key: '' };
  /** The same instrument RedisInbox counts duplicates with, so the metric keeps its meaning. */
  private readonly duplicates: Counter = metrics
    .getMeter(INSTRUMENTATION_NAME)
    .createCounter('warren.inbox.duplicates', {
      unit: '{message}',
      description: 'Redelivered messages an inbox skipped (already handled)',
    });

  constructor(@Inject(REDIS) redis: Redis, @Inject(KEY_PREFIX) prefix: string) {
    this.k = keys(prefix);
    // defineCommand sends the script by its SHA (EVALSHA) and loads it again when Redis lost it
    if (!('analyticsApplyBatch' in redis)) redis.defineCommand('analyticsApplyBatch', { lua: APPLY_BATCH });
    const command = (redis as unknown as { analyticsApplyBatch: ApplyBatch }).analyticsApplyBatch;
    this.applyBatch = command.bind(redis);
  }

  /** The day HLL's key of an instant in `minute`; remembered per minute, as a batch's events share a handful. */
  private dayKey(minute: number, at: number): string {
    if (minute !== this.lastDay.minute) this.lastDay = { minute, key: this.k.day(dayOf(at)) };
    return this.lastDay.key;
  }

  /** The inbox key of a message (the layout RedisInbox used, so ids it marked done stay done). */
  inboxKey(messageId: string): string {
    return `${this.k.inbox}:${INBOX_CONSUMER}:${messageId}`;
  }

  /**
   * Counts the event of message `messageId` once: resolves 'applied' when this call counted it, 'duplicate' when
   * the message was handled before (nothing changes), 'busy' when an older instance's inbox claim holds it;
   * rejects when the batch could not be written (nothing of it was).
   */
  add(messageId: string, event: ClickstreamEvent, queue?: string): Promise<Outcome> {
    return new Promise<Outcome>((resolve, reject) => {
      this.batch.push({ messageId, event, queue, resolve, reject });
      if (this.batch.length >= MAX_BATCH) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.flush();
        });
      }
    });
  }

  /** Sends the batch gathered so far; the next add() starts a new one while this one is on its way. */
  private flush(): void {
    const batch = this.batch;
    if (batch.length === 0) return;
    this.batch = [];
    this.commit(batch).then(
      (outcomes) =>
        batch.forEach((w, i) => {
          if (outcomes[i] === 'duplicate')
            this.duplicates.add(1, {
              'messaging.destination.name': w.queue ?? INBOX_CONSUMER,
              'warren.message.type': `clickstream.${w.event.type}`,
            });
          w.resolve(outcomes[i]);
        }),
      (err: Error) => batch.forEach((w) => w.reject(err)),
    );
  }

  private async commit(batch: Waiting[]): Promise<Outcome[]> {
    const n = batch.length;
    const keyList: string[] = [this.k.lastSeen, this.k.sessions, this.k.allVisitors];
    for (const w of batch) keyList.push(this.inboxKey(w.messageId));
    // the batch's minute hashes, pages sets and day HLLs, each once, with what it expires at
    const extra = new Map<string, { index: number; expireAt: number }>();
    const extraKey = (key: string, expireAt: number): number => {
      let e = extra.get(key);
      if (!e) {
        e = { index: keyList.length + 1, expireAt };
        extra.set(key, e);
        keyList.push(key);
      } else if (expireAt > e.expireAt) e.expireAt = expireAt;
      return e.index;
    };
    const fields: Array<string | number> = [];
    for (const { event } of batch) {
      const at = Date.parse(event.at);
      const minute = minuteOf(at);
      const expireAt = Math.floor(at / 1000) + MINUTE_KEY_TTL_S;
      const hash = extraKey(this.k.minute(minute), expireAt);
      const pages = event.type === 'page_view' ? extraKey(this.k.pages(minute), expireAt) : 0;
      const day = extraKey(this.dayKey(minute, at), 0);
      fields.push(event.type, event.visitorId, at, event.type === 'page_view' ? event.url : '', hash, pages, day);
    }
    const expiries = [...extra.values()].map((e) => e.expireAt);
    const statuses = await this.applyBatch(
      keyList.length,
      ...keyList,
      INBOX_TTL_MS,
      SESSION_TIMEOUT_MS,
      n,
      DAY_KEY_TTL_S,
      expiries.length,
      ...expiries,
      ...fields,
    );
    if (!Array.isArray(statuses) || statuses.length !== n)
      throw new Error(`aggregating into Redis failed: the script answered ${JSON.stringify(statuses)}`);
    return statuses.map((s) => (s === 0 ? 'applied' : s === 1 ? 'duplicate' : 'busy'));
  }
}
