// `npm run bench:broker`: the bundled broker side by side with RabbitMQ (when RABBITMQ_URL is set), the same
// scenarios and clients against both, alternating brokers, several rounds, medians reported. For every run it
// also measures the broker process's own CPU time (user + system, from /proc/<pid>/stat) per message.
// bench/run.mjs bundles this file, the broker and the perf tool fresh, and passes --broker-main/--perf-main.

import * as amqp from 'amqplib';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { fmtInt, fmtNum, fmtRatio, median, type LatencySummary } from './perf/stats';
import { startBroker, type BrokerProcess } from './support/broker-process';
import { type DelayedSummary, LATE_MS } from './support/delayed';
import {
  fileSystemType,
  findRabbitPid,
  isLocalHost,
  machine,
  processCpuSeconds,
  trackPeakRss,
  type Machine,
} from './support/proc';
import { SCENARIOS, type Limits, type Measurement, type Scenario } from './support/scenarios';

const ROOT = resolve(__dirname, '../..');

const DEFAULT_KEYS = SCENARIOS.filter((s) => !s.optIn).map((s) => s.key);

const USAGE = `Usage: npm run bench:broker -- [flags]

Measures the bundled broker and, when RABBITMQ_URL is set, that RabbitMQ in the same run (alternating), with
the same clients: throughput and the broker's CPU time per message, and round-trip latency.

  --rounds N         rounds per scenario and broker; medians are reported (default 3)
  --scenarios LIST   which scenarios, e.g. a,b,d, or all (default: ${DEFAULT_KEYS.join(',')}; opt-in:
                     ${SCENARIOS.filter((s) => s.optIn)
                       .map((s) => `${s.key} = ${s.title}`)
                       .join(', ')})
  --client C         amqplib (default), perf (amqplib + an extra section with the perf tool as the client),
                     perf-only
  --scale F          multiply every scenario's message count (default 1)
  --max-seconds S    time cap of each run (default 10)
  --out DIR          where the .md and .json results go (default bench/results)
  --no-save          print only, write no result files`;

type BrokerName = 'bundled' | 'rabbit';
type ClientName = 'amqplib' | 'perf';

interface RunRecord {
  round: number;
  rate: number;
  messages: number;
  seconds: number;
  /** Broker CPU seconds over the run, null when not measurable. */
  cpuSeconds: number | null;
  cpuUsPerMessage: number | null;
  /** Broker CPU time / wall time, in % of one core. */
  brokerCpuPercent: number | null;
  /** The client process's CPU (amqplib runs in this process), in % of one core. */
  clientCpuPercent: number | null;
  latency?: LatencySummary;
  delayed?: DelayedSummary;
  /** The broker's peak RSS over the run, bytes (scenarios with `memory` only). */
  peakRssBytes?: number | null;
  capped: boolean;
  error?: string;
}

interface Cell {
  runs: RunRecord[];
  rate: number;
  cpuUsPerMessage: number;
  brokerCpuPercent: number;
  clientCpuPercent: number;
  p50Us: number;
  p99Us: number;
  errors: string[];
  capped: number;
}

interface Target {
  name: BrokerName;
  url: string;
  pid: () => number | null;
}

interface Options {
  rounds: number;
  scenarios: Scenario[];
  clients: ClientName[];
  limits: Limits;
  out: string;
  save: boolean;
  brokerMain: string;
  perfMain: string;
}

function parseOptions(argv: string[]): Options | null {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      rounds: { type: 'string' },
      scenarios: { type: 'string' },
      client: { type: 'string' },
      scale: { type: 'string' },
      'max-seconds': { type: 'string' },
      out: { type: 'string' },
      'no-save': { type: 'boolean' },
      'broker-main': { type: 'string' },
      'perf-main': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return null;
  }
  const rounds = Number(values.rounds ?? 3);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds must be a positive integer');
  const list =
    values.scenarios?.trim().toLowerCase() === 'all' ? SCENARIOS.map((s) => s.key).join(',') : values.scenarios;
  const keys = (list ?? DEFAULT_KEYS.join(',')).split(',').map((k) => k.trim().toLowerCase());
  const scenarios = keys.map((k) => {
    const s = SCENARIOS.find((x) => x.key === k);
    if (!s) throw new Error(`unknown scenario '${k}' (${SCENARIOS.map((x) => x.key).join(', ')})`);
    return s;
  });
  const client = values.client ?? 'amqplib';
  const clients: ClientName[] =
    client === 'amqplib'
      ? ['amqplib']
      : client === 'perf'
        ? ['amqplib', 'perf']
        : client === 'perf-only'
          ? ['perf']
          : [];
  if (clients.length === 0) throw new Error(`--client must be amqplib, perf or perf-only, got '${client}'`);
  const scale = Number(values.scale ?? 1);
  if (!(scale > 0)) throw new Error('--scale must be positive');
  const maxSeconds = Number(values['max-seconds'] ?? 10);
  if (!(maxSeconds > 0)) throw new Error('--max-seconds must be positive');
  if (!values['broker-main'] || !values['perf-main']) {
    throw new Error('--broker-main and --perf-main are missing: run this through `npm run bench:broker`');
  }
  return {
    rounds,
    scenarios,
    clients,
    limits: { scale, maxSeconds },
    out: resolve(ROOT, values.out ?? 'bench/results'),
    save: !values['no-save'],
    brokerMain: values['broker-main'],
    perfMain: values['perf-main'],
  };
}

// ---------------------------------------------------------------------------------------------------------
// running one scenario against one broker

async function runAmqplib(
  scenario: Scenario,
  target: Target,
  limits: Limits,
): Promise<{ m: Measurement; cpu: number | null; client: number; peakRss: number | null }> {
  const setup = await scenario.amqplib(target.url, limits);
  try {
    const pid = target.pid();
    const rss = scenario.memory && pid !== null ? trackPeakRss(pid) : null;
    const cpu0 = pid === null ? null : processCpuSeconds(pid);
    const client0 = process.cpuUsage();
    let peakRss: number | null = null;
    let m: Measurement;
    try {
      m = await setup.run();
    } finally {
      peakRss = rss ? rss.stop() : null;
    }
    const cpu1 = pid === null ? null : processCpuSeconds(pid);
    const client = process.cpuUsage(client0);
    return {
      m,
      cpu: cpu0 === null || cpu1 === null ? null : cpu1 - cpu0,
      client: (client.user + client.system) / 1e6,
      peakRss,
    };
  } finally {
    await setup.teardown();
  }
}

/** Runs the perf tool as a child process; CPU is sampled at its {"phase":"start"} and {"phase":"end"} lines. */
async function runPerf(
  scenario: Scenario,
  target: Target,
  limits: Limits,
  perfMain: string,
): Promise<{ m: Measurement; cpu: number | null }> {
  if (!scenario.perf) throw new Error(`${scenario.title} has no perf-tool mode`);
  const args = [perfMain, ...scenario.perf(limits), '--uri', target.url, '--time', `${limits.maxSeconds}`, '--json'];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const pid = target.pid();
  let cpu0: number | null = null;
  let cpu1: number | null = null;
  let result: Record<string, unknown> | null = null;
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(line);
    } catch {
      return;
    }
    if (msg.phase === 'start') cpu0 = pid === null ? null : processCpuSeconds(pid);
    else if (msg.phase === 'end') cpu1 = pid === null ? null : processCpuSeconds(pid);
    else if (msg.mode) result = msg;
  });
  const [code] = (await Promise.all([
    new Promise<number | null>((res) => child.once('close', (c) => res(c))),
    new Promise<void>((res) => lines.once('close', () => res())),
  ])) as [number | null, void];
  const r = result as Record<string, unknown> | null;
  if (code !== 0 || r === null) throw new Error(`perf exited with ${code}: ${stderr.trim().split('\n').pop() ?? ''}`);
  const cpu = cpu0 === null || cpu1 === null ? null : (cpu1 as number) - (cpu0 as number);
  if (r.mode === 'latency') {
    const lat = r as unknown as LatencySummary & { elapsedSeconds: number; stoppedBy: string };
    return {
      m: {
        messages: lat.count,
        seconds: lat.elapsedSeconds,
        published: lat.count,
        latency: lat,
        capped: lat.stoppedBy !== 'count',
      },
      cpu,
    };
  }
  const t = r as { consumed: number; published: number; consumeSeconds: number; stoppedBy: string };
  return {
    m: { messages: t.consumed, seconds: t.consumeSeconds, published: t.published, capped: t.stoppedBy !== 'count' },
    cpu,
  };
}

// ---------------------------------------------------------------------------------------------------------
// tables

function cellOf(runs: RunRecord[]): Cell {
  const ok = runs.filter((r) => !r.error);
  const pick = (f: (r: RunRecord) => number | null | undefined) => median(ok.map((r) => f(r) ?? NaN));
  return {
    runs,
    rate: pick((r) => r.rate),
    cpuUsPerMessage: pick((r) => r.cpuUsPerMessage),
    brokerCpuPercent: pick((r) => r.brokerCpuPercent),
    clientCpuPercent: pick((r) => r.clientCpuPercent),
    p50Us: pick((r) => r.latency?.p50Us),
    p99Us: pick((r) => r.latency?.p99Us),
    errors: runs.filter((r) => r.error).map((r) => `round ${r.round}: ${r.error}`),
    capped: ok.filter((r) => r.capped).length,
  };
}

function table(header: string[], rows: string[][]): string {
  const align = header.map((_, i) => (i === 0 ? '---' : '---:'));
  return [header, align, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

function mainTable(scenarios: Scenario[], cells: Map<string, Cell>, client: ClientName, withRabbit: boolean): string {
  const get = (s: Scenario, b: BrokerName) => cells.get(`${client}/${s.key}/${b}`);
  const num = (c: Cell | undefined, f: (c: Cell) => number, fmt: (n: number) => string) => {
    if (!c) return '—';
    if (c.errors.length === c.runs.length) return 'error';
    return fmt(f(c)) + (c.errors.length ? '*' : '');
  };
  const rows: string[][] = [];
  for (const s of scenarios) {
    const b = get(s, 'bundled');
    const r = withRabbit ? get(s, 'rabbit') : undefined;
    rows.push([
      s.title,
      num(b, (c) => c.rate, fmtInt),
      num(r, (c) => c.rate, fmtInt),
      fmtRatio(b?.rate ?? NaN, r?.rate ?? NaN),
      num(
        b,
        (c) => c.cpuUsPerMessage,
        (n) => fmtNum(n, 1),
      ),
      num(
        r,
        (c) => c.cpuUsPerMessage,
        (n) => fmtNum(n, 1),
      ),
      fmtRatio(b?.cpuUsPerMessage ?? NaN, r?.cpuUsPerMessage ?? NaN),
    ]);
  }
  for (const s of scenarios.filter((x) => x.latency)) {
    const b = get(s, 'bundled');
    const r = withRabbit ? get(s, 'rabbit') : undefined;
    for (const [label, f] of [
      ['p50', (c: Cell) => c.p50Us],
      ['p99', (c: Cell) => c.p99Us],
    ] as const) {
      rows.push([
        `${s.title.split(' ')[0]} latency ${label} (µs)`,
        num(b, f, fmtInt),
        num(r, f, fmtInt),
        fmtRatio(b ? f(b) : NaN, r ? f(r) : NaN),
        '',
        '',
        '',
      ]);
    }
  }
  return table(
    ['scenario', 'bundled msg/s', 'rabbit msg/s', 'ratio', 'bundled CPU µs/msg', 'rabbit CPU µs/msg', 'ratio'],
    rows,
  );
}

function detailTable(scenarios: Scenario[], cells: Map<string, Cell>, client: ClientName, withRabbit: boolean): string {
  const brokers: BrokerName[] = withRabbit ? ['bundled', 'rabbit'] : ['bundled'];
  const rows: string[][] = [];
  for (const s of scenarios) {
    for (const b of brokers) {
      const c = cells.get(`${client}/${s.key}/${b}`);
      if (!c) continue;
      const ok = c.runs.filter((r) => !r.error);
      rows.push([
        s.title,
        b,
        ok.map((r) => fmtInt(r.rate)).join(' / ') || '—',
        fmtNum(c.brokerCpuPercent, 0),
        client === 'amqplib' ? fmtNum(c.clientCpuPercent, 0) : '—',
        `${c.capped}/${ok.length}`,
        String(c.errors.length),
      ]);
    }
  }
  return table(['scenario', 'broker', 'msg/s each round', 'broker CPU %', 'client CPU %', 'capped', 'errors'], rows);
}

const fmtMiB = (bytes: number | null | undefined) => (bytes == null ? '—' : `${fmtNum(bytes / 2 ** 20, 0)} MiB`);

function delayedLine(d: DelayedSummary): string {
  return (
    `${fmtInt(d.arrived)}/${fmtInt(d.published)} arrived, early ${d.early}, >${LATE_MS} ms late ${fmtInt(d.lateOver50)}, ` +
    `lateness p50 ${fmtInt(d.p50Ms)} p90 ${fmtInt(d.p90Ms)} p99 ${fmtInt(d.p99Ms)} max ${fmtInt(d.maxMs)} ms`
  );
}

/** The delayed-message scenario's section: one row per round (and the medians), bundled broker only. */
function delayedSection(s: Scenario, cell: Cell | undefined): string[] {
  const out = [`## ${s.title} (bundled broker only, amqplib clients)`, '', s.bundledOnly ?? '', ''];
  const ok = cell?.runs.filter((r) => !r.error && r.delayed) ?? [];
  if (!cell || ok.length === 0) return [...out, cell ? `all rounds failed: ${cell.errors.join('; ')}` : 'not run', ''];
  const row = (
    label: string,
    r: { d: DelayedSummary; cpu: number | null; us: number | null; rss: number | null | undefined; capped: string },
  ) => [
    label,
    `${fmtInt(r.d.arrived)} / ${fmtInt(r.d.published)}`,
    fmtInt(r.d.early),
    fmtInt(r.d.lateOver50),
    fmtInt(r.d.p50Ms),
    fmtInt(r.d.p90Ms),
    fmtInt(r.d.p99Ms),
    fmtInt(r.d.maxMs),
    fmtNum(r.d.publishSeconds, 1),
    fmtNum(r.cpu ?? NaN, 2),
    fmtNum(r.us ?? NaN, 1),
    fmtMiB(r.rss),
    r.capped,
  ];
  const rows = ok.map((r) =>
    row(`round ${r.round}`, {
      d: r.delayed as DelayedSummary,
      cpu: r.cpuSeconds,
      us: r.cpuUsPerMessage,
      rss: r.peakRssBytes,
      capped: r.capped ? 'yes' : 'no',
    }),
  );
  if (ok.length > 1) {
    const med = (f: (r: RunRecord) => number | null | undefined) => median(ok.map((r) => f(r) ?? NaN));
    const d = (k: keyof DelayedSummary) => med((r) => (r.delayed as DelayedSummary)[k]);
    const sum: DelayedSummary = {
      published: d('published'),
      arrived: d('arrived'),
      missing: d('missing'),
      duplicates: d('duplicates'),
      // early must be 0 in every round: the worst round, not the median
      early: Math.max(...ok.map((r) => (r.delayed as DelayedSummary).early)),
      lateOver50: d('lateOver50'),
      p50Ms: d('p50Ms'),
      p90Ms: d('p90Ms'),
      p99Ms: d('p99Ms'),
      maxMs: d('maxMs'),
      publishSeconds: d('publishSeconds'),
    };
    rows.push(
      row('median (early: max)', {
        d: sum,
        cpu: med((r) => r.cpuSeconds),
        us: med((r) => r.cpuUsPerMessage),
        rss: med((r) => r.peakRssBytes),
        capped: `${cell.capped}/${ok.length}`,
      }),
    );
  }
  const header = [
    'run',
    'arrived / published',
    'early',
    `> ${LATE_MS} ms late`,
    'lateness p50 ms',
    'p90 ms',
    'p99 ms',
    'max ms',
    'publish s',
    'broker CPU s',
    'CPU µs/msg',
    'broker peak RSS',
    'capped',
  ];
  const extra = ok
    .filter((r) => (r.delayed as DelayedSummary).duplicates > 0)
    .map((r) => `round ${r.round}: ${(r.delayed as DelayedSummary).duplicates} duplicate deliveries`);
  return [
    ...out,
    table(header, rows),
    '',
    ...(cell.errors.length ? [`errors: ${cell.errors.join('; ')}`, ''] : []),
    ...extra.map((e) => `- ${e}`),
    ...(extra.length ? [''] : []),
  ];
}

// ---------------------------------------------------------------------------------------------------------

function gitDescription(): { commit: string; brokerDirty: boolean } {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const status = execFileSync('git', ['status', '--porcelain', '--', 'apps/broker/src', 'libs/amqp-protocol/src'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    return { commit, brokerDirty: status.trim() !== '' };
  } catch {
    return { commit: 'unknown', brokerDirty: false };
  }
}

async function serverInfo(url: string): Promise<{ product: string; version: string; platform: string }> {
  const conn = await amqp.connect(url);
  const p = conn.connection.serverProperties as unknown as Record<string, unknown>;
  await conn.close();
  return { product: String(p.product ?? '?'), version: String(p.version ?? '?'), platform: String(p.platform ?? '?') };
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

async function idleCpu(pid: number | null): Promise<number | null> {
  if (pid === null) return null;
  const a = processCpuSeconds(pid);
  await sleep(1000);
  const b = processCpuSeconds(pid);
  return a === null || b === null ? null : (b - a) * 100;
}

async function main(argv: string[]): Promise<number> {
  const options = parseOptions(argv);
  if (!options) return 0;
  const began = Date.now();
  const host: Machine = machine();
  const rabbitUrl = process.env.RABBITMQ_URL || '';
  const notes: string[] = [];

  const dataDir = mkdtempSync(join(tmpdir(), 'warren-bench-'));
  let broker: BrokerProcess = await startBroker(options.brokerMain, dataDir);
  let restarts = 0;
  const bundled: Target = { name: 'bundled', url: broker.url, pid: () => (broker.running() ? broker.pid : null) };
  const targets: Target[] = [bundled];
  const git = gitDescription();
  const bundledInfo = await serverInfo(broker.url);
  const dataFs = fileSystemType(dataDir);

  let rabbitInfo: { product: string; version: string; platform: string } | null = null;
  let rabbitPid: { pid: number; how: string } | null = null;
  if (rabbitUrl) {
    rabbitInfo = await serverInfo(rabbitUrl);
    const rabbitHost = new URL(rabbitUrl).hostname;
    rabbitPid = isLocalHost(rabbitHost) ? findRabbitPid() : null;
    if (!rabbitPid)
      notes.push(
        `RabbitMQ's CPU was not measured: ${isLocalHost(rabbitHost) ? 'no beam.smp process found' : 'it is not on this machine'}.`,
      );
    const pid = rabbitPid?.pid ?? null;
    targets.push({ name: 'rabbit', url: rabbitUrl, pid: () => pid });
  } else {
    notes.push('RABBITMQ_URL was not set: the bundled broker alone was measured.');
  }
  const withRabbit = targets.length === 2;

  console.log(
    `machine: ${host.cpuModel}, ${host.cores} cores, ${host.memoryGiB} GiB, ${host.kernel}, Node ${host.node}, load ${host.loadAverage.join(' ')}`,
  );
  console.log(
    `bundled: ${bundledInfo.product} ${bundledInfo.version} at ${git.commit}${git.brokerDirty ? ' + uncommitted changes' : ''}, pid ${broker.pid}, ${broker.url}, data dir ${dataDir} (${dataFs})`,
  );
  if (rabbitInfo)
    console.log(
      `rabbit:  RabbitMQ ${rabbitInfo.version} (${rabbitInfo.platform}), pid ${rabbitPid ? `${rabbitPid.pid} (${rabbitPid.how})` : '?'}, ${redact(rabbitUrl)}`,
    );
  const idle = { bundled: await idleCpu(bundled.pid()), rabbit: withRabbit ? await idleCpu(targets[1].pid()) : null };
  console.log(
    `idle CPU (1 s before the runs): bundled ${fmtNum(idle.bundled ?? NaN, 1)} %, rabbit ${fmtNum(idle.rabbit ?? NaN, 1)} %`,
  );
  console.log(
    `${options.rounds} rounds × ${options.scenarios.length} scenarios × ${targets.length} brokers × ${options.clients.join('+')}; each run capped at ${options.limits.maxSeconds} s\n`,
  );

  const records = new Map<string, RunRecord[]>();
  try {
    for (const client of options.clients) {
      for (let round = 1; round <= options.rounds; round++) {
        for (const scenario of options.scenarios) {
          if (client === 'perf' && scenario.perf === null) {
            if (round === 1) console.log(`[${client}] ${scenario.title}: skipped (the perf tool has no such mode)`);
            continue;
          }
          // alternate which broker goes first, so neither always runs on a warmer machine
          const order = round % 2 === 1 ? targets : [...targets].reverse();
          if (scenario.bundledOnly)
            console.log(`[${client} r${round}] ${scenario.title.padEnd(36)} ${scenario.bundledOnly}`);
          for (const target of order) {
            if (scenario.bundledOnly && target.name !== 'bundled') continue;
            if (target.name === 'bundled' && !broker.running()) {
              restarts++;
              notes.push(
                `The bundled broker exited during the bench and was restarted (before ${client} round ${round} ${scenario.title}); its stderr ended with: ${broker.stderrTail().trim().split('\n').slice(-3).join(' | ')}`,
              );
              broker = await startBroker(options.brokerMain, dataDir);
              bundled.url = broker.url;
            }
            const key = `${client}/${scenario.key}/${target.name}`;
            const record: RunRecord = {
              round,
              rate: NaN,
              messages: 0,
              seconds: 0,
              cpuSeconds: null,
              cpuUsPerMessage: null,
              brokerCpuPercent: null,
              clientCpuPercent: null,
              capped: false,
            };
            try {
              let m: Measurement;
              let cpu: number | null;
              if (client === 'amqplib') {
                const r = await runAmqplib(scenario, target, options.limits);
                m = r.m;
                cpu = r.cpu;
                record.clientCpuPercent = (r.client / m.seconds) * 100;
                if (scenario.memory) record.peakRssBytes = r.peakRss;
              } else {
                ({ m, cpu } = await runPerf(scenario, target, options.limits, options.perfMain));
              }
              record.messages = m.messages;
              record.seconds = m.seconds;
              record.rate = m.messages / m.seconds;
              record.capped = m.capped;
              record.latency = m.latency;
              record.delayed = m.delayed;
              record.cpuSeconds = cpu;
              record.cpuUsPerMessage = cpu === null || m.messages === 0 ? null : (cpu * 1e6) / m.messages;
              record.brokerCpuPercent = cpu === null ? null : (cpu / m.seconds) * 100;
            } catch (error) {
              record.error = (error as Error).message;
            }
            records.set(key, [...(records.get(key) ?? []), record]);
            const lat = record.latency
              ? `, p50 ${fmtInt(record.latency.p50Us)} µs, p99 ${fmtInt(record.latency.p99Us)} µs`
              : record.delayed
                ? `, ${delayedLine(record.delayed)}, peak RSS ${fmtMiB(record.peakRssBytes)}`
                : '';
            console.log(
              `[${client} r${round}] ${scenario.title.padEnd(36)} ${target.name.padEnd(7)} ` +
                (record.error
                  ? `ERROR ${record.error}`
                  : `${fmtInt(record.rate).padStart(9)} msg/s, CPU ${fmtNum(record.cpuUsPerMessage ?? NaN, 1)} µs/msg (${fmtNum(record.brokerCpuPercent ?? NaN, 0)} %)${lat}${record.capped ? ' [capped]' : ''}`),
            );
            await sleep(300);
          }
        }
      }
    }
  } finally {
    await broker.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }

  const cells = new Map<string, Cell>();
  for (const [key, runs] of records) cells.set(key, cellOf(runs));
  const date = new Date();
  const stamp = date.toISOString().replace(/\.\d+Z$/, 'Z');
  const durationSeconds = (Date.now() - began) / 1000;
  for (const c of cells.values()) if (c.errors.length) notes.push(`errors: ${c.errors.join('; ')}`);
  if (restarts) notes.push(`${restarts} broker restart(s).`);

  const md: string[] = [
    `# Broker bench, ${stamp}`,
    '',
    `- machine: ${host.cpuModel}, ${host.cores} cores, ${host.memoryGiB} GiB, ${host.kernel}; load average at start ${host.loadAverage.join(' ')}`,
    `- Node ${host.node}; bundled broker ${bundledInfo.version} at ${git.commit}${git.brokerDirty ? ' + uncommitted changes in apps/broker/src or libs/amqp-protocol/src' : ''}, data dir on ${dataFs}`,
    `- RabbitMQ: ${rabbitInfo ? `${rabbitInfo.version} (${rabbitInfo.platform}) at ${redact(rabbitUrl)}` : 'not measured'}`,
    `- ${options.rounds} rounds, medians; brokers alternate within each round; each run bounded by its message count (×${options.limits.scale}) or ${options.limits.maxSeconds} s`,
    `- idle broker CPU before the runs: bundled ${fmtNum(idle.bundled ?? NaN, 1)} %, rabbit ${fmtNum(idle.rabbit ?? NaN, 1)} % of a core`,
    `- total bench time ${fmtNum(durationSeconds, 0)} s`,
    '',
    'ratio = bundled / rabbit: above 1 means the bundled broker moved more messages per second, spent more CPU per message, or had a higher latency. Medians per column; msg/s is end to end (consumed messages over first publish to last delivery).',
    '',
  ];
  const throughput = options.scenarios.filter((s) => !s.delayed);
  for (const client of options.clients) {
    if (throughput.length === 0) break;
    md.push(
      client === 'amqplib' ? '## amqplib clients' : '## perf tool as the client (raw client, pipelined batches)',
      '',
      mainTable(throughput, cells, client, withRabbit),
      '',
      detailTable(throughput, cells, client, withRabbit),
      '',
    );
  }
  for (const s of options.scenarios.filter((x) => x.delayed && options.clients.includes('amqplib'))) {
    md.push(...delayedSection(s, cells.get(`amqplib/${s.key}/bundled`)));
  }
  md.push('## Scenarios', '', ...options.scenarios.map((s) => `- ${s.title}: ${s.description}`), '');
  if (notes.length) md.push('## Notes', '', ...notes.map((n) => `- ${n}`), '');
  const markdown = md.join('\n');
  console.log(`\n${markdown}`);

  if (options.save) {
    mkdirSync(options.out, { recursive: true });
    const file = join(options.out, stamp.replace(/:/g, '-'));
    writeFileSync(`${file}.md`, markdown);
    const json = {
      date: date.toISOString(),
      durationSeconds,
      machine: host,
      bundled: { ...bundledInfo, commit: git.commit, uncommittedChanges: git.brokerDirty, dataDirFileSystem: dataFs },
      rabbitmq: rabbitInfo ? { ...rabbitInfo, url: redact(rabbitUrl), pid: rabbitPid?.pid ?? null } : null,
      options: {
        rounds: options.rounds,
        scenarios: options.scenarios.map((s) => s.key),
        clients: options.clients,
        ...options.limits,
      },
      idleCpuPercent: idle,
      results: [...cells].map(([key, c]) => {
        const [client, scenario, broker] = key.split('/');
        const { runs, ...medians } = c;
        return {
          client,
          scenario,
          title: SCENARIOS.find((s) => s.key === scenario)?.title,
          broker,
          median: medians,
          runs,
        };
      }),
      notes,
    };
    writeFileSync(`${file}.json`, `${JSON.stringify(json, null, 2)}\n`);
    console.log(`wrote ${relative(ROOT, file)}.md and .json`);
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: Error) => {
    console.error(`bench: ${error.message}`);
    process.exitCode = 1;
  },
);
