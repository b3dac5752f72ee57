// The clickstream bench: an open-loop load on analytics' `POST /collect`, and how long until `GET /stats` counts
// what was accepted. The schedule does not wait for answers (a slow collector shows up as errors and latency, not
// as a politely lower offered rate), and the generator stays cheap because it shares the machine with what it
// measures: the request bodies are built once, before the clock starts, and sent over keep-alive sockets.

import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { cpuMsPer, cpuSnapshot, percentiles } from './load';

export interface ClickstreamOptions {
  analyticsUrl: string;
  ratePerSecond: number;
  seconds: number;
  /** Events per POST (default 100). */
  batchSize?: number;
  /** Process name -> pid, whose CPU time is measured over the run (until the stats caught up). */
  pids: Record<string, number>;
  /** How long to wait after the last answer for /stats to count every accepted event (default 30 s). */
  settleTimeoutMs?: number;
  /** Requests in flight at most (default 64); a batch due while they are all busy is an error, not a delay. */
  maxInFlight?: number;
  /** How often /stats is read (default 50 ms). */
  pollEveryMs?: number;
}

export interface ClickstreamResult {
  /** Events the schedule called for. */
  offered: number;
  /** Events the collector answered as accepted (202, `accepted`). */
  accepted: number;
  /** Events the collector rejected (by its contracts: none, unless the bench is wrong). */
  rejected: number;
  /** Events in batches that were never sent (in-flight bound hit), failed, or got a non-202 answer. */
  errors: number;
  offeredPerSecond: number;
  /** Accepted events over the time from the first send to the last answer. */
  acceptedPerSecond: number;
  /** Counted events over the time from the first send to the poll that counted them all (or the last poll). */
  countedPerSecond: number;
  /** From the last answer to the first poll counting every accepted event; null: never, within settleTimeoutMs. */
  lagAfterStopMs: number | null;
  /** Per batch, from its send to the first poll whose count covers everything accepted when it was answered. */
  latencyMs: { p50: number; p90: number; p99: number };
  /** CPU time of each process in `pids` per 1000 accepted events, over the run and the settling. */
  cpuMsPer1000Events: Record<string, number>;
  /** Events /stats counted during the run (its per-minute buckets from the run's first minute on, less what they held before). */
  counted: number;
}

interface StatsBody {
  counters: { perMinute: Array<{ minute: string; pageViews: number; clicks: number }> };
}

const MINUTE_MS = 60_000;

/** Distinct visitors and pages of a run: enough to look like traffic, few enough to keep /stats' top-pages union small. */
const VISITORS = 5000;
const PAGES = 50;

/**
 * The request bodies, serialised once: `count` batches cycled through during the run. Every visitor id and URL
 * carries the run's id, so what this run did is told apart from anything else in Redis. No `at`: the collector
 * stamps the time it received each event, so the events land in the minutes of the run.
 */
function buildBodies(runId: string, batchSize: number, count: number): Buffer[] {
  const bodies: Buffer[] = [];
  let n = 0;
  for (let b = 0; b < count; b++) {
    const events: unknown[] = [];
    for (let i = 0; i < batchSize; i++, n++) {
      const visitorId = `cs-${runId}-v${n % VISITORS}`;
      const url = `https://bench.example/${runId}/p${n % PAGES}`;
      // four page views to one click, as a shop's traffic roughly is
      events.push(
        n % 5 === 4
          ? { type: 'click', visitorId, url, element: `button-${n % 7}` }
          : { type: 'page_view', visitorId, url, title: `Page ${n % PAGES}` },
      );
    }
    bodies.push(Buffer.from(JSON.stringify({ events })));
  }
  return bodies;
}

const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

/**
 * One HTTP exchange on the keep-alive agent: status and body text; rejects on a socket error, or when no answer
 * came within `timeoutMs` (a wedged service must end the run, not hang it).
 */
function send(
  agent: Agent,
  url: URL,
  method: 'GET' | 'POST',
  body?: Buffer,
  timeoutMs = 30_000,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        hostname: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method,
        headers: body ? { 'content-type': 'application/json', 'content-length': body.length } : {},
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.setTimeout(timeoutMs, () =>
      req.destroy(new Error(`no answer from ${method} ${url.pathname} within ${timeoutMs} ms`)),
    );
    req.end(body);
  });
}

/** The events in the per-minute buckets from `fromMinute` (epoch ms / 60000) on. */
function countFrom(stats: StatsBody, fromMinute: number): number {
  let n = 0;
  for (const m of stats.counters.perMinute)
    if (Math.floor(Date.parse(m.minute) / MINUTE_MS) >= fromMinute) n += m.pageViews + m.clicks;
  return n;
}

export async function runClickstream(opts: ClickstreamOptions): Promise<ClickstreamResult> {
  const batchSize = opts.batchSize ?? 100;
  const maxInFlight = opts.maxInFlight ?? 64;
  const settleTimeoutMs = opts.settleTimeoutMs ?? 30_000;
  const pollEveryMs = opts.pollEveryMs ?? 50;
  if (!(opts.ratePerSecond > 0 && opts.seconds > 0 && batchSize >= 1 && batchSize <= 500))
    throw new RangeError('runClickstream needs ratePerSecond > 0, seconds > 0 and batchSize 1..500');
  const base = new URL(opts.analyticsUrl);
  const collectUrl = new URL('/collect', base);
  // the window covers the run and its settling, whole minutes, plus the minute the run starts in
  const minutes = Math.min(120, Math.ceil((opts.seconds * 1000 + settleTimeoutMs) / MINUTE_MS) + 2);
  const statsUrl = new URL(`/stats?minutes=${minutes}`, base);
  const agent = new Agent({ keepAlive: true, maxSockets: maxInFlight + 2 });
  const pollAgent = new Agent({ keepAlive: true, maxSockets: 1 });

  const batches = Math.max(1, Math.round((opts.ratePerSecond * opts.seconds) / batchSize));
  const intervalMs = (batchSize / opts.ratePerSecond) * 1000;
  const bodies = buildBodies(randomBytes(4).toString('hex'), batchSize, Math.min(batches, 64));

  const readStats = async (): Promise<StatsBody> => {
    const res = await send(pollAgent, statsUrl, 'GET', undefined, 5000);
    if (res.status !== 200) throw new Error(`GET /stats answered ${res.status}: ${res.text.slice(0, 200)}`);
    return JSON.parse(res.text) as StatsBody;
  };

  // what the run's first minute held before it: subtracted from every count
  const startMinute = Math.floor(Date.now() / MINUTE_MS);
  const baseline = countFrom(await readStats(), startMinute);
  const cpuBefore = cpuSnapshot(opts.pids);

  let accepted = 0;
  let rejected = 0;
  let errors = 0;
  let inFlight = 0;
  let lastAnswerAt = 0;
  /** Per answered batch: when it was sent, and the accepted total once it was answered. */
  const acks: Array<{ sentAt: number; acceptedTotal: number }> = [];
  const polls: Array<{ at: number; counted: number }> = [];
  const pending = new Set<Promise<void>>();

  const post = (index: number) => {
    const sentAt = performance.now();
    inFlight++;
    const p = send(agent, collectUrl, 'POST', bodies[index % bodies.length])
      .then((res) => {
        if (res.status === 202) {
          const body = JSON.parse(res.text) as { accepted: number; rejected: unknown[] };
          accepted += body.accepted;
          rejected += body.rejected.length;
          errors += batchSize - body.accepted - body.rejected.length;
          acks.push({ sentAt, acceptedTotal: accepted });
        } else {
          errors += batchSize;
        }
      })
      .catch(() => {
        errors += batchSize;
      })
      .finally(() => {
        inFlight--;
        lastAnswerAt = performance.now();
        pending.delete(p);
      });
    pending.add(p);
  };

  // the poller runs from the first send until every accepted event is counted (or settling times out)
  let polling = true;
  let pollError: Error | undefined;
  const poller = (async () => {
    while (polling) {
      const started = performance.now();
      try {
        const counted = countFrom(await readStats(), startMinute) - baseline;
        polls.push({ at: performance.now(), counted });
      } catch (err) {
        pollError = err as Error;
      }
      const wait = pollEveryMs - (performance.now() - started);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  })();

  // the open loop: batch i is due at start + i * interval, whatever happened to the ones before it
  const start = performance.now();
  let next = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (next < batches && start + next * intervalMs <= now) {
        if (inFlight >= maxInFlight) errors += batchSize;
        else post(next);
        next++;
      }
      if (next >= batches) return resolve();
      setTimeout(tick, Math.max(0, start + next * intervalMs - performance.now()));
    };
    tick();
  });
  while (pending.size > 0) await Promise.allSettled([...pending]);
  const stoppedAt = lastAnswerAt || performance.now();

  // settle: until a poll counts every accepted event
  let caughtUpAt: number | null = null;
  const deadline = stoppedAt + settleTimeoutMs;
  while (performance.now() < deadline) {
    const last = polls[polls.length - 1];
    if (last && last.at >= stoppedAt && last.counted >= accepted) {
      caughtUpAt = last.at;
      break;
    }
    await new Promise((r) => setTimeout(r, pollEveryMs / 2));
  }
  polling = false;
  await poller;
  agent.destroy();
  pollAgent.destroy();
  if (polls.length === 0) throw new Error(`GET /stats never answered: ${pollError?.message}`);

  const cpuMsPer1000Events = Object.fromEntries(
    Object.entries(cpuMsPer(cpuBefore, cpuSnapshot(opts.pids), accepted / 1000)).map(([name, ms]) => [
      name,
      round(ms, 2),
    ]),
  );

  // per batch: the first poll (answered after the batch's answer) whose count covers the accepted total then
  const latencies: number[] = [];
  let p = 0;
  const byTotal = [...acks].sort((a, b) => a.acceptedTotal - b.acceptedTotal);
  for (const ack of byTotal) {
    while (p < polls.length && (polls[p].counted < ack.acceptedTotal || polls[p].at < ack.sentAt)) p++;
    if (p === polls.length) break; // never counted: the lag says so
    latencies.push(polls[p].at - ack.sentAt);
  }

  const finalCounted = polls[polls.length - 1].counted;
  const countedUntil = caughtUpAt ?? polls[polls.length - 1].at;
  return {
    offered: batches * batchSize,
    accepted,
    rejected,
    errors,
    offeredPerSecond: round((batches * batchSize) / opts.seconds, 0),
    acceptedPerSecond: round(accepted / ((stoppedAt - start) / 1000), 0),
    countedPerSecond: round(finalCounted / ((countedUntil - start) / 1000), 0),
    lagAfterStopMs: caughtUpAt === null ? null : round(caughtUpAt - stoppedAt, 0),
    latencyMs: (({ p50, p90, p99 }) => ({ p50: round(p50), p90: round(p90), p99: round(p99) }))(percentiles(latencies)),
    cpuMsPer1000Events,
    counted: finalCounted,
  };
}
