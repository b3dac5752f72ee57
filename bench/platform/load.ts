// The load generator's own parts: an HTTP client on kept-alive sockets, an open-loop pacer, percentiles and /proc
// figures of the processes under test. Open loop: requests leave on a fixed schedule whatever the answers do, so a
// platform that slows down sees the same offered rate and its latency shows it (a closed loop would slow down with
// it and hide the queueing).
import { Agent, request } from 'node:http';
import { processCpuSeconds, statusBytes } from '../support/proc';

export interface HttpAnswer {
  status: number;
  body: string;
}

/** POST/GET JSON over a pool of kept-alive sockets; the body is sent as given (serialise once, send many). */
export class HttpClient {
  private readonly agent: Agent;

  constructor(maxSockets = 128) {
    // an idle socket is dropped after 4 s, before Node servers close theirs (keepAliveTimeout 5 s): a request sent
    // on a socket the server is closing fails with ECONNRESET, an error of the generator and not of the platform
    this.agent = new Agent({ keepAlive: true, maxSockets, timeout: 4_000 });
  }

  send(
    method: 'GET' | 'POST' | 'PUT',
    url: string,
    body?: string,
    headers: Record<string, string> = {},
  ): Promise<HttpAnswer> {
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method,
          agent: this.agent,
          headers:
            body === undefined
              ? headers
              : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  async json<T>(
    method: 'GET' | 'POST' | 'PUT',
    url: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<T> {
    const res = await this.send(method, url, body === undefined ? undefined : JSON.stringify(body), headers);
    if (res.status >= 300) throw new Error(`${method} ${url} answered ${res.status}: ${res.body.slice(0, 300)}`);
    return JSON.parse(res.body) as T;
  }

  close(): void {
    this.agent.destroy();
  }
}

export interface OpenLoopResult {
  /** Requests the schedule called for. */
  scheduled: number;
  /** Requests not sent because `maxInFlight` were still waiting: the platform fell that far behind. */
  dropped: number;
  /** Wall time of the schedule, from the first request to the last one's answer. */
  seconds: number;
}

/**
 * Calls `send(i)` for i = 0 … rate × seconds − 1, the i-th at start + i / rate, whatever the earlier calls do. At
 * most `maxInFlight` calls wait at once; a call due beyond that is dropped and counted (its absence is the
 * platform's failure, not a pause in the schedule). Resolves when every call sent has settled.
 */
export async function openLoop(
  rate: number,
  seconds: number,
  send: (i: number) => Promise<void>,
  maxInFlight = 4096,
): Promise<OpenLoopResult> {
  const total = Math.round(rate * seconds);
  const pending = new Set<Promise<void>>();
  const started = performance.now();
  let issued = 0;
  let dropped = 0;
  while (issued < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate) + 1);
    for (; issued < due; issued++) {
      if (pending.size >= maxInFlight) {
        dropped++;
        continue;
      }
      const call: Promise<void> = send(issued)
        .catch(() => undefined) // send() records its own failures
        .finally(() => pending.delete(call));
      pending.add(call);
    }
    // the pacer's timer: wake when the next request is due (a schedule, not synchronisation)
    const nextAt = started + (issued / rate) * 1000;
    await new Promise((r) => setTimeout(r, Math.max(1, nextAt - performance.now())));
  }
  await Promise.all(pending);
  return { scheduled: total, dropped, seconds: (performance.now() - started) / 1000 };
}

export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export function percentiles(values: number[]): Percentiles {
  if (values.length === 0) return { p50: NaN, p90: NaN, p99: NaN, max: NaN };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted[sorted.length - 1] };
}

/** CPU seconds so far of each named process (this one as `load generator`), to subtract later. */
export function cpuSnapshot(pids: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, pid] of Object.entries(pids)) out[name] = processCpuSeconds(pid) ?? NaN;
  const self = process.cpuUsage();
  out['load generator'] = (self.user + self.system) / 1e6;
  return out;
}

/** Milliseconds of CPU per unit of work (an order, a thousand events) of each process between two snapshots; NaN for none. */
export function cpuMsPer(
  before: Record<string, number>,
  after: Record<string, number>,
  units: number,
): Record<string, number> {
  return Object.fromEntries(
    Object.keys(after).map((name) => [name, units > 0 ? ((after[name] - before[name]) * 1000) / units : NaN]),
  );
}

/** Resident memory of each process now, in MiB. */
export function rssMiB(pids: Record<string, number>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(pids).map(([name, pid]) => [name, (statusBytes(pid, 'VmRSS') ?? NaN) / 2 ** 20]),
  );
}
