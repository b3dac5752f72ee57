// Redis layout of the aggregates (every key starts with the service's prefix, `analytics:` by default):
//   m:<minute>           hash  page_view, click     events per minute (minute = epoch ms / 60000), kept 2 h
//   pages:<minute>       zset  url -> views          page views per minute, unioned into "top pages", kept 2 h
//   hll:day:<yyyy-mm-dd> HLL   visitor ids          unique visitors per day (HyperLogLog: ~0.81% error), kept 2 days
//   hll:all              HLL   visitor ids          unique visitors ever
//   lastseen             zset  visitor -> last ms   drives sessions (30 min of inactivity ends one) and "active now"
//   sessions:total       int                         sessions started
export const MINUTE_MS = 60_000;
export const SESSION_TIMEOUT_MS = 30 * MINUTE_MS;
export const ACTIVE_WINDOW_MS = 5 * MINUTE_MS;
/** How long per-minute keys live: the longest window /stats answers for. */
export const MINUTE_KEY_TTL_S = 2 * 60 * 60;
export const MAX_WINDOW_MINUTES = 120;

export const minuteOf = (ms: number): number => Math.floor(ms / MINUTE_MS);
export const dayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

export function keys(prefix: string) {
  return {
    minute: (m: number) => `${prefix}m:${m}`,
    pages: (m: number) => `${prefix}pages:${m}`,
    day: (d: string) => `${prefix}hll:day:${d}`,
    allVisitors: `${prefix}hll:all`,
    lastSeen: `${prefix}lastseen`,
    sessions: `${prefix}sessions:total`,
    inbox: `${prefix}inbox`,
  };
}
