// `npm run bench:platform`: the whole platform under open-loop HTTP load, on this machine, the load generator
// included. The services run as local processes (as the demo runs them) on the bundled broker or RabbitMQ, with
// SQLite or Postgres, and three scenarios measure what a user of the platform would:
//   orders       a step ladder of orders/s through the saga (orders, inventory, payments, notifications), stock
//                that cannot run out; per step the offered and settled rate, latency from POST to the order's
//                final state (its updatedAt), HTTP errors, CPU ms per order of every process, resident memory and
//                the email backlog (the demo's 5 emails/s limiter is the designed bottleneck). The answer: the
//                highest step that settles every order with p99 <= --p99-ms.
//   clickstream  a ladder of events/s in batches to POST /collect; per step accepted and counted rates, latency
//                from POST to counted in /stats, and how long /stats lags once the load stops.
//   email        the BullMQ backlog behind the limiter: at 5/s it grows at the expected rate and drains with every
//                email sent once; at 200/s it keeps up.
// Results go to bench/results/platform-<time>.{json,md}; the README's performance section summarises them.
//   --broker bundled|rabbitmq (RABBITMQ_URL)   --database sqlite|postgres (DATABASE_URL)
//   --sqlite-synchronous full|normal (the services' SQLITE_SYNCHRONOUS: a disk sync at every commit, or not)
//   --scenarios orders,clickstream,email      --ladder 50,100,150,200,300,400,500,600 --seconds 20 --p99-ms 250
//   --click-ladder 5000,10000,20000 --click-seconds 10   --soak MINUTES (memory at 70 % of the best rates)
//   --tracing (every service exports its spans to a receiver here, as the demo does to the console)
//   --cpu-prof DIR (each service writes a V8 CPU profile on exit)
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { OtlpReceiver } from '../../tools/testing/otlp-receiver';
import { parsePrometheusText } from '../../tools/testing/prometheus';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the bench runs the services exactly as the e2e suites do
import { adminHeaders as admin, Stack, type ServiceName, type ServiceProcess } from '../../e2e/support/stack';
import { startBroker, type BrokerProcess } from '../support/broker-process';
import { findRabbitPid, machine } from '../support/proc';
import { runClickstream, type ClickstreamResult } from './clickstream';
import { cpuMsPer, cpuSnapshot, HttpClient, openLoop, percentiles, rssMiB, type Percentiles } from './load';

const { values } = parseArgs({
  options: {
    broker: { type: 'string', default: 'bundled' },
    database: { type: 'string', default: 'sqlite' },
    'sqlite-synchronous': { type: 'string', default: 'full' },
    scenarios: { type: 'string', default: 'orders,clickstream,email' },
    ladder: { type: 'string', default: '50,100,150,200,300,400,500,600' },
    seconds: { type: 'string', default: '20' },
    'p99-ms': { type: 'string', default: '250' },
    'click-ladder': { type: 'string', default: '5000,10000,20000' },
    'click-seconds': { type: 'string', default: '10' },
    soak: { type: 'string', default: '0' },
    tracing: { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
    out: { type: 'string', default: 'bench/results' },
    'broker-main': { type: 'string' },
  },
});

const numbers = (list: string) =>
  list
    .split(',')
    .map((s) => Number(s.trim()))
    .filter((n) => n > 0);
const SCENARIOS = new Set(values.scenarios.split(',').map((s) => s.trim()));
const LADDER = numbers(values.ladder);
const STEP_SECONDS = Number(values.seconds);
const P99_MS = Number(values['p99-ms']);
const CLICK_LADDER = numbers(values['click-ladder']);
const CLICK_SECONDS = Number(values['click-seconds']);
const SOAK_MINUTES = Number(values.soak);
const SERVICES: ServiceName[] = ['orders', 'inventory', 'payments', 'notifications', 'analytics'];
const SKUS = Array.from({ length: 12 }, (_, i) => `SKU-${String(i + 1).padStart(3, '0')}`);
/** How long the settled orders may take to catch up once a step's load stops, before the step counts as failed. */
const SETTLE_LIMIT_MS = 30_000;

const http = new HttpClient(256);

interface OrdersStep {
  rate: number;
  seconds: number;
  scheduled: number;
  accepted: number;
  errors: number;
  errorSamples: string[];
  /** Orders that reached CONFIRMED or CANCELLED per second while the load ran. */
  settledPerSecond: number;
  /**
   * Every accepted order over the time from the first POST until the last one settled: past capacity the service
   * takes new orders first and settles them after the load stops, so this, not settledPerSecond, is its capacity.
   */
  throughput: number;
  /** Time from the last POST until every accepted order had settled; null: not within SETTLE_LIMIT_MS. */
  drainMs: number | null;
  cancelled: number;
  latencyMs: Percentiles;
  httpMs: Percentiles;
  cpuMsPerOrder: Record<string, number>;
  rssMiB: Record<string, number>;
  emailsWaiting: number;
  ok: boolean;
}

interface EmailRun {
  limitPerSecond: number;
  orders: number;
  ordersPerSecond: number;
  emails: number;
  expectedGrowthPerSecond: number;
  observedGrowthPerSecond: number;
  peakWaiting: number;
  drainSeconds: number | null;
  sentOnce: boolean;
  duplicates: number;
  missing: number;
}

/** Sum of a counter or gauge's samples on a service's /metrics, those whose labels include `labels`. */
async function metric(url: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = (await http.send('GET', `${url}/metrics`)).body;
  let n = 0;
  for (const family of parsePrometheusText(text).values()) {
    for (const s of family.samples)
      if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) n += s.value;
  }
  return n;
}

const settledCount = (stack: Stack) => metric(stack.url('orders'), 'warren_saga_outcomes_total');
const emailsWaiting = (stack: Stack) =>
  metric(stack.url('notifications'), 'warren_bullmq_jobs', { warren_bullmq_state: 'waiting' });

/** Polls `read` every `everyMs` until `done` holds or `limitMs` passes; the time it took, or null. */
async function pollUntil(
  read: () => Promise<number>,
  done: (v: number) => boolean,
  limitMs: number,
  everyMs = 100,
): Promise<number | null> {
  const started = performance.now();
  for (;;) {
    if (done(await read())) return performance.now() - started;
    if (performance.now() - started > limitMs) return null;
    await new Promise((r) => setTimeout(r, everyMs)); // a poll interval: the value read decides
  }
}

function pidsOf(stack: Stack, broker?: BrokerProcess): Record<string, number> {
  const pids: Record<string, number> = {};
  for (const name of Object.keys(stack.instances) as ServiceName[])
    pids[name] = (stack.services[name] as ServiceProcess).pid!;
  if (broker) pids.broker = broker.pid;
  else {
    const rabbit = findRabbitPid(); // RabbitMQ on this machine: its Erlang VM's CPU counts too
    if (rabbit) pids.rabbitmq = rabbit.pid;
  }
  if (stack.redisPid) pids.redis = stack.redisPid;
  return pids;
}

async function startStack(
  amqpUrl: string,
  env: NodeJS.ProcessEnv,
  services: ServiceName[],
  receiver?: OtlpReceiver,
): Promise<Stack> {
  const dir = values['cpu-prof'];
  const nodeArgs = dir
    ? Object.fromEntries(
        services.map((s) => [
          s,
          ['--cpu-prof', `--cpu-prof-dir=${path.resolve(dir)}`, `--cpu-prof-name=${s}.cpuprofile`],
        ]),
      )
    : {};
  const stack = new Stack(
    amqpUrl,
    { LOG_LEVEL: 'warn', SQLITE_SYNCHRONOUS: values['sqlite-synchronous'], ...env, ...(receiver?.envWith(1000) ?? {}) },
    { services, database: values.database === 'postgres' ? 'postgres' : 'sqlite', nodeArgs },
  );
  await stack.start();
  return stack;
}

/** Stock that cannot run out: 100 million more units of every SKU. */
async function unlimitedStock(stack: Stack): Promise<void> {
  for (const sku of SKUS)
    await http.json('POST', `${stack.url('inventory')}/admin/stock/${sku}/restock`, { quantity: 100_000_000 }, admin);
}

/**
 * One step of the orders ladder: `rate` orders/s for `seconds`, open loop. Latency is read afterwards from each
 * order's updatedAt (the time of its final transition, on this machine's clock) less the moment its POST left.
 */
async function ordersStep(
  stack: Stack,
  pids: Record<string, number>,
  step: number,
  rate: number,
  seconds: number,
  settledBefore: number,
): Promise<OrdersStep> {
  const sentAt = new Map<string, number>();
  const httpMs: number[] = [];
  const errorSamples: string[] = [];
  let errors = 0;
  const url = `${stack.url('orders')}/orders`;
  const cpu0 = cpuSnapshot(pids);
  const settled0 = await settledCount(stack);
  const t0 = performance.now();
  const loop = await openLoop(rate, seconds, async (i) => {
    const body = JSON.stringify({
      customerEmail: `s${step}-${i}@bench.example.com`,
      items: [{ sku: SKUS[i % SKUS.length], quantity: 1 }],
    });
    const t0 = Date.now();
    const p0 = performance.now();
    try {
      const res = await http.send('POST', url, body);
      httpMs.push(performance.now() - p0);
      if (res.status !== 201) throw new Error(`POST /orders answered ${res.status}: ${res.body.slice(0, 200)}`);
      sentAt.set((JSON.parse(res.body) as { id: string }).id, t0);
    } catch (err) {
      errors++;
      if (errorSamples.length < 5) errorSamples.push((err as Error).message);
    }
  });
  const settledDuringLoad = (await settledCount(stack)) - settled0;
  const target = settledBefore + sentAt.size;
  const drainMs = await pollUntil(
    () => settledCount(stack),
    (n) => n >= target,
    SETTLE_LIMIT_MS,
  );
  const throughput = drainMs === null ? NaN : sentAt.size / ((performance.now() - t0) / 1000);
  const cpuMsPerOrder = cpuMsPer(cpu0, cpuSnapshot(pids), sentAt.size);
  const rss = rssMiB(pids);
  // the step's orders are the newest: page through the list until every one of them is found
  const latencies: number[] = [];
  let cancelled = 0;
  const remaining = new Set(sentAt.keys());
  for (let offset = 0; remaining.size > 0; offset += 100) {
    const page = await http.json<{ items: Array<{ id: string; status: string; updatedAt: string }>; total: number }>(
      'GET',
      `${url}?limit=100&offset=${offset}`,
    );
    for (const o of page.items) {
      const t0 = sentAt.get(o.id);
      if (t0 === undefined || !remaining.delete(o.id)) continue;
      if (o.status === 'PENDING') continue;
      if (o.status === 'CANCELLED') cancelled++;
      latencies.push(Date.parse(o.updatedAt) - t0);
    }
    if (page.items.length < 100) break;
  }
  const latencyMs = percentiles(latencies);
  const ok =
    errors === 0 &&
    loop.dropped === 0 &&
    drainMs !== null &&
    latencies.length === sentAt.size &&
    latencyMs.p99 <= P99_MS;
  return {
    rate,
    seconds,
    scheduled: loop.scheduled,
    accepted: sentAt.size,
    errors: errors + loop.dropped,
    errorSamples: loop.dropped
      ? [...errorSamples, `${loop.dropped} requests not sent: 4096 were still waiting for an answer`]
      : errorSamples,
    settledPerSecond: settledDuringLoad / seconds,
    throughput,
    drainMs,
    cancelled,
    latencyMs,
    httpMs: percentiles(httpMs),
    cpuMsPerOrder,
    rssMiB: rss,
    emailsWaiting: await emailsWaiting(stack),
    ok,
  };
}

/**
 * The email limiter: `orders` orders at `ordersPerSecond` (two emails each) against a limit of `limit`/s. Samples
 * the BullMQ backlog every 250 ms, fits its growth while the orders arrive, waits for it to drain, then checks in
 * the SMTP capture that every email arrived exactly once.
 */
async function emailRun(amqpUrl: string, limit: number, orders: number, ordersPerSecond: number): Promise<EmailRun> {
  const stack = await startStack(amqpUrl, { EMAIL_RATE_PER_SECOND: String(limit) }, [
    'orders',
    'inventory',
    'payments',
    'notifications',
  ]);
  try {
    await unlimitedStock(stack);
    const samples: Array<[number, number]> = [];
    const t0 = performance.now();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        samples.push([(performance.now() - t0) / 1000, await emailsWaiting(stack)]);
        await new Promise((r) => setTimeout(r, 250)); // the sampling period
      }
    })();
    const url = `${stack.url('orders')}/orders`;
    const seconds = orders / ordersPerSecond;
    await openLoop(ordersPerSecond, seconds, async (i) => {
      const res = await http.send(
        'POST',
        url,
        JSON.stringify({
          customerEmail: `mail-${i}@bench.example.com`,
          items: [{ sku: SKUS[i % SKUS.length], quantity: 1 }],
        }),
      );
      if (res.status !== 201) throw new Error(`POST /orders answered ${res.status}`);
    });
    const loadEnd = (performance.now() - t0) / 1000;
    const emails = orders * 2;
    const sentAll = await pollUntil(
      () => metric(stack.url('notifications'), 'warren_emails_sent_total'),
      (n) => n >= emails,
      Math.max(30_000, (emails / limit) * 2000),
      250,
    );
    sampling = false;
    await sampler;
    // growth: a least-squares line through the samples while orders arrived (after the first second's warm-up)
    const window = samples.filter(([t]) => t >= Math.min(1, loadEnd / 2) && t <= loadEnd);
    const mx = window.reduce((a, [t]) => a + t, 0) / window.length;
    const my = window.reduce((a, [, v]) => a + v, 0) / window.length;
    const slope =
      window.reduce((a, [t, v]) => a + (t - mx) * (v - my), 0) /
      Math.max(
        1e-9,
        window.reduce((a, [t]) => a + (t - mx) ** 2, 0),
      );
    // every (recipient, subject) exactly once, from the capture's Mailpit API
    const seen = new Map<string, number>();
    for (let start = 0; ; start += 500) {
      const page = await http.json<{ messages: Array<{ To: Array<{ Address: string }>; Subject: string }> }>(
        'GET',
        `${stack.mailUrl}/api/v1/messages?start=${start}&limit=500`,
      );
      for (const m of page.messages) {
        const key = `${m.To[0]?.Address} ${m.Subject}`;
        seen.set(key, (seen.get(key) ?? 0) + 1);
      }
      if (page.messages.length < 500) break;
    }
    const duplicates = [...seen.values()].filter((n) => n > 1).length;
    return {
      limitPerSecond: limit,
      orders,
      ordersPerSecond,
      emails,
      expectedGrowthPerSecond: Math.max(0, 2 * ordersPerSecond - limit),
      observedGrowthPerSecond: slope,
      peakWaiting: Math.max(...samples.map(([, v]) => v)),
      drainSeconds: sentAll === null ? null : sentAll / 1000,
      sentOnce: duplicates === 0 && seen.size === emails,
      duplicates,
      missing: Math.max(0, emails - seen.size),
    };
  } finally {
    await stack.teardown();
  }
}

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '–');
const cpuCell = (cpu: Record<string, number>) =>
  Object.entries(cpu)
    .map(([k, v]) => `${k} ${fmt(v, 2)}`)
    .join(', ');
const total = (cpu: Record<string, number>) => Object.values(cpu).reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);

async function main(): Promise<void> {
  let amqpUrl: string;
  let broker: BrokerProcess | undefined;
  let dataDir: string | undefined;
  if (values.broker === 'rabbitmq') {
    if (!process.env.RABBITMQ_URL) throw new Error('--broker rabbitmq needs RABBITMQ_URL');
    amqpUrl = process.env.RABBITMQ_URL;
  } else {
    if (!values['broker-main'])
      throw new Error('run through npm run bench:platform (it bundles the broker and passes --broker-main)');
    dataDir = mkdtempSync(path.join(tmpdir(), 'warren-bench-platform-'));
    broker = await startBroker(values['broker-main'], dataDir);
    amqpUrl = broker.url;
  }
  const m = machine();
  const database =
    values.database === 'sqlite' && values['sqlite-synchronous'] !== 'full'
      ? `sqlite (synchronous ${values['sqlite-synchronous']})`
      : values.database;
  const label = `${values.broker} broker, ${database}${values.tracing ? ', tracing on' : ''}`;
  console.log(`bench:platform — ${label}; ${m.cores}× ${m.cpuModel}, Node ${process.version}`);
  const report: {
    startedAt: string;
    label: string;
    machine: typeof m;
    orders: OrdersStep[];
    bestOrdersPerSecond: number | null;
    clickstream: Array<ClickstreamResult & { rate: number }>;
    email: EmailRun[];
    soak?: Soak;
  } = {
    startedAt: new Date().toISOString(),
    label,
    machine: m,
    orders: [],
    bestOrdersPerSecond: null,
    clickstream: [],
    email: [],
  };
  const receiver = values.tracing ? await OtlpReceiver.start() : undefined;
  try {
    if (SCENARIOS.has('orders') || SCENARIOS.has('clickstream')) {
      const stack = await startStack(amqpUrl, {}, SERVICES, receiver);
      try {
        const pids = pidsOf(stack, broker);
        if (SCENARIOS.has('orders')) {
          await unlimitedStock(stack);
          let settled = await settledCount(stack);
          for (const [i, rate] of LADDER.entries()) {
            const s = await ordersStep(stack, pids, i + 1, rate, STEP_SECONDS, settled);
            settled += s.accepted;
            report.orders.push(s);
            console.log(
              `orders ${rate}/s × ${STEP_SECONDS} s: settled ${fmt(s.settledPerSecond, 1)}/s (throughput ${fmt(s.throughput, 1)}/s), p50/p90/p99 ${fmt(s.latencyMs.p50)}/${fmt(s.latencyMs.p90)}/${fmt(s.latencyMs.p99)} ms, ` +
                `drain ${s.drainMs === null ? 'not within 30 s' : `${fmt(s.drainMs)} ms`}, errors ${s.errors}, CPU ms/order ${fmt(total(s.cpuMsPerOrder), 2)} (${cpuCell(s.cpuMsPerOrder)}), emails waiting ${s.emailsWaiting} — ${s.ok ? 'settles' : 'does not settle'}`,
            );
            for (const e of s.errorSamples) console.log(`  ${e}`);
            if (s.ok) report.bestOrdersPerSecond = rate;
            if (!s.ok || s.drainMs === null) break; // the next step would only queue more
          }
          console.log(
            `highest rate that settles with p99 <= ${P99_MS} ms: ${report.bestOrdersPerSecond ?? 'none'} orders/s`,
          );
          if (receiver)
            console.log(
              `spans received: ${receiver.spans().length} (${(receiver.spans().length / report.orders.reduce((n, s) => n + s.accepted, 0)).toFixed(1)} per order)`,
            );
        }
        if (SCENARIOS.has('clickstream')) {
          for (const rate of CLICK_LADDER) {
            const r = await runClickstream({
              analyticsUrl: stack.url('analytics'),
              ratePerSecond: rate,
              seconds: CLICK_SECONDS,
              pids,
            });
            report.clickstream.push({ ...r, rate });
            console.log(
              `clicks ${rate}/s × ${CLICK_SECONDS} s: accepted ${fmt(r.acceptedPerSecond)}/s, counted ${fmt(r.countedPerSecond)}/s, p50/p90/p99 ${fmt(r.latencyMs.p50)}/${fmt(r.latencyMs.p90)}/${fmt(r.latencyMs.p99)} ms, ` +
                `lag after stop ${r.lagAfterStopMs === null ? 'never caught up' : `${fmt(r.lagAfterStopMs)} ms`}, errors ${r.errors}, CPU ms/1000 events ${fmt(total(r.cpuMsPer1000Events), 1)} (${cpuCell(r.cpuMsPer1000Events)})`,
            );
            if (r.lagAfterStopMs === null) break;
          }
        }
        if (SOAK_MINUTES > 0)
          report.soak = await soak(
            stack,
            pids,
            report.bestOrdersPerSecond ?? LADDER[0],
            report.clickstream.filter((c) => c.lagAfterStopMs !== null && c.lagAfterStopMs <= 1000).at(-1)?.rate ??
              CLICK_LADDER[0],
          );
      } finally {
        await stack.teardown();
      }
    }
    if (SCENARIOS.has('email')) {
      for (const [limit, orders, rate] of [
        [5, 100, 20],
        [200, 400, 80],
      ] as const) {
        const e = await emailRun(amqpUrl, limit, orders, rate);
        report.email.push(e);
        console.log(
          `email limit ${limit}/s, ${orders} orders at ${rate}/s (${e.emails} emails): backlog grew ${fmt(e.observedGrowthPerSecond, 1)}/s (expected ${fmt(e.expectedGrowthPerSecond, 1)}), peak ${e.peakWaiting} waiting, ` +
            `all sent ${e.drainSeconds === null ? 'NOT within the limit' : `after ${fmt(e.drainSeconds, 1)} s`}, each once: ${e.sentOnce ? 'yes' : `no (${e.duplicates} duplicated, ${e.missing} missing)`}`,
        );
      }
    }
  } finally {
    await receiver?.close();
    await broker?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    http.close();
  }
  writeResults(report);
}

interface Soak {
  minutes: number;
  ordersPerSecond: number;
  clicksPerSecond: number;
  processes: Record<string, SoakProcess>;
}

interface SoakProcess {
  meanMiB: number;
  firstMiB: number;
  lastMiB: number;
  /** Half the range (highest less lowest sample) against the mean: mostly the garbage collector's sawtooth. */
  driftPercent: number;
  /** The mean of the last third of the samples against the first third's: growth, where the sawtooth averages out. */
  growthPercent: number;
  /** Flat: the last third within ± 10 % of the first (the issue's target). */
  flat: boolean;
  /** Resident MiB every 10 s after the warm-up, for a closer look. */
  series: number[];
}

const meanOf = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * Memory over a long run: orders and clicks at 70 % of the best rates at once, resident memory of every process
 * sampled every 10 s; the first minute is warm-up, then each process's range against its mean and its growth.
 */
async function soak(
  stack: Stack,
  pids: Record<string, number>,
  ordersPerSecond: number,
  clicksPerSecond: number,
): Promise<Soak> {
  const orders = Math.max(1, Math.round(ordersPerSecond * 0.7));
  const clicks = Math.max(1, Math.round(clicksPerSecond * 0.7));
  console.log(`soak: ${SOAK_MINUTES} min at ${orders} orders/s and ${clicks} events/s`);
  const samples: Array<Record<string, number>> = [];
  const seconds = SOAK_MINUTES * 60;
  let running = true;
  const sampler = (async () => {
    while (running) {
      samples.push(rssMiB(pids));
      await new Promise((r) => setTimeout(r, 10_000)); // the sampling period
    }
  })();
  const url = `${stack.url('orders')}/orders`;
  await Promise.all([
    openLoop(orders, seconds, async (i) => {
      await http.send(
        'POST',
        url,
        JSON.stringify({
          customerEmail: `soak-${i}@bench.example.com`,
          items: [{ sku: SKUS[i % SKUS.length], quantity: 1 }],
        }),
      );
    }),
    runClickstream({ analyticsUrl: stack.url('analytics'), ratePerSecond: clicks, seconds, pids }),
  ]);
  running = false;
  await sampler;
  const steady = samples.slice(6);
  const result = Object.fromEntries(
    Object.keys(pids).map((name) => {
      const series = steady.map((s) => s[name]);
      const mean = meanOf(series);
      const drift = (Math.max(...series) - Math.min(...series)) / 2 / mean;
      const third = Math.max(1, Math.floor(series.length / 3));
      const growth = meanOf(series.slice(-third)) / meanOf(series.slice(0, third)) - 1;
      const r: SoakProcess = {
        meanMiB: mean,
        firstMiB: series[0],
        lastMiB: series.at(-1)!,
        driftPercent: drift * 100,
        growthPercent: growth * 100,
        flat: Math.abs(growth) <= 0.1,
        series: series.map((v) => Math.round(v * 10) / 10),
      };
      return [name, r];
    }),
  );
  for (const [name, r] of Object.entries(result)) {
    console.log(
      `  ${name}: ${fmt(r.firstMiB)} → ${fmt(r.lastMiB)} MiB, ± ${fmt(r.driftPercent, 1)} % around ${fmt(r.meanMiB)} MiB; last third against the first ${r.growthPercent >= 0 ? '+' : ''}${fmt(r.growthPercent, 1)} % (${r.flat ? 'flat' : 'NOT flat'})`,
    );
  }
  return { minutes: SOAK_MINUTES, ordersPerSecond: orders, clicksPerSecond: clicks, processes: result };
}

function writeResults(report: {
  startedAt: string;
  label: string;
  orders: OrdersStep[];
  bestOrdersPerSecond: number | null;
  clickstream: Array<ClickstreamResult & { rate: number }>;
  email: EmailRun[];
  soak?: Soak;
}): void {
  const lines = [`# bench:platform — ${report.label}`, '', `Started ${report.startedAt}.`, ''];
  if (report.orders.length) {
    lines.push(
      `## Orders through the saga (${STEP_SECONDS} s per step, open loop)`,
      '',
      '| offered/s | settled/s | throughput/s | p50 ms | p90 ms | p99 ms | drain ms | errors | CPU ms per order (all processes) | settles |',
      '|---|---|---|---|---|---|---|---|---|---|',
    );
    for (const s of report.orders)
      lines.push(
        `| ${s.rate} | ${fmt(s.settledPerSecond, 1)} | ${fmt(s.throughput, 1)} | ${fmt(s.latencyMs.p50)} | ${fmt(s.latencyMs.p90)} | ${fmt(s.latencyMs.p99)} | ${s.drainMs === null ? '> 30 000' : fmt(s.drainMs)} | ${s.errors} | ${fmt(total(s.cpuMsPerOrder), 2)} (${cpuCell(s.cpuMsPerOrder)}) | ${s.ok ? 'yes' : 'no'} |`,
      );
    lines.push(
      '',
      `Highest rate that settles with p99 ≤ ${P99_MS} ms: **${report.bestOrdersPerSecond ?? 'none'} orders/s**.`,
      '',
    );
  }
  if (report.clickstream.length) {
    lines.push(
      `## Clickstream (${CLICK_SECONDS} s per step)`,
      '',
      '| offered/s | accepted/s | counted/s | p50 ms | p99 ms | lag after stop ms | errors | CPU ms per 1000 events |',
      '|---|---|---|---|---|---|---|---|',
    );
    for (const c of report.clickstream)
      lines.push(
        `| ${c.rate} | ${fmt(c.acceptedPerSecond)} | ${fmt(c.countedPerSecond)} | ${fmt(c.latencyMs.p50)} | ${fmt(c.latencyMs.p99)} | ${c.lagAfterStopMs === null ? 'never' : fmt(c.lagAfterStopMs)} | ${c.errors} | ${fmt(total(c.cpuMsPer1000Events), 1)} (${cpuCell(c.cpuMsPer1000Events)}) |`,
      );
    lines.push('');
  }
  if (report.email.length) {
    lines.push(
      '## Emails behind the limiter',
      '',
      '| limit/s | orders (at /s) | emails | backlog growth/s (expected) | peak waiting | all sent after s | each once |',
      '|---|---|---|---|---|---|---|',
    );
    for (const e of report.email)
      lines.push(
        `| ${e.limitPerSecond} | ${e.orders} (${e.ordersPerSecond}) | ${e.emails} | ${fmt(e.observedGrowthPerSecond, 1)} (${fmt(e.expectedGrowthPerSecond, 1)}) | ${e.peakWaiting} | ${e.drainSeconds === null ? 'not within the limit' : fmt(e.drainSeconds, 1)} | ${e.sentOnce ? 'yes' : 'no'} |`,
      );
    lines.push('');
  }
  if (report.soak) {
    const { minutes, ordersPerSecond, clicksPerSecond, processes } = report.soak;
    lines.push(
      `## Memory over ${minutes} minutes at ${ordersPerSecond} orders/s and ${clicksPerSecond} events/s`,
      '',
      "Resident memory sampled every 10 s after a minute of warm-up. Range: half of highest less lowest, against the mean (the garbage collector's sawtooth, mostly). Growth: the mean of the last third of the samples against the first third's; flat within ± 10 %.",
      '',
      '| process | first MiB | last MiB | mean MiB | range ± % | growth % | flat |',
      '|---|---|---|---|---|---|---|',
    );
    for (const [name, r] of Object.entries(processes))
      lines.push(
        `| ${name} | ${fmt(r.firstMiB)} | ${fmt(r.lastMiB)} | ${fmt(r.meanMiB)} | ${fmt(r.driftPercent, 1)} | ${fmt(r.growthPercent, 1)} | ${r.flat ? 'yes' : 'no'} |`,
      );
    lines.push('');
  }
  const dir = path.resolve(values.out);
  mkdirSync(dir, { recursive: true });
  const base = path.join(dir, `platform-${report.startedAt.replace(/:/g, '-').replace(/\.\d+Z$/, 'Z')}`);
  writeFileSync(`${base}.json`, JSON.stringify(report, null, 2));
  writeFileSync(`${base}.md`, lines.join('\n'));
  console.log(`\n${lines.join('\n')}\nwritten to ${path.relative(process.cwd(), base)}.{json,md}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
