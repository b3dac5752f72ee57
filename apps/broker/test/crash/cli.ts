// `npm run crash-test -- [flags]`: the crash-safety harness standalone (run.mjs bundles this file and runs
// it). Prints a summary; exit code 0 when nothing was violated, 1 on any violation, 2 on bad flags.
import { parseArgs } from 'node:util';
import { bundleBroker, findRoot, killAllBrokers } from './broker-process';
import { CrashRunResult, formatSummary, removeWorkDir, runCrashCycles } from './harness';
import { formatTornResults, runTornWriteChecks, TornResult, TORN_VARIANTS } from './torn-write';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const USAGE = `Usage: npm run crash-test -- [flags]

  --cycles N         crash cycles (default 20)
  --seed S           PRNG seed (default: the current time; printed in the summary)
  --drain end|every  drain all queues once at the end (default) or after every restart
  --min-kill-ms N    earliest kill moment in a cycle (default 50)
  --max-kill-ms N    latest kill moment in a cycle (default 800)
  --uri URI          run against an external broker (e.g. RabbitMQ): no kill, the clients drop their sockets
                     instead; no torn-write checks
  --no-torn          skip the torn-write checks
  --torn-only        only the torn-write checks
  --torn V,V         only these torn-write variants (${TORN_VARIANTS.map((v) => v.name).join(', ')})
  --broker-main F    use this bundled broker main.js instead of bundling apps/broker/src/main.ts
  --keep             keep the work dir (bundle, data dirs, broker logs); it is kept anyway on failure
  --quiet            no per-cycle lines
  --json             print the results as JSON after the summary`;

/** The run's work dir, for the interrupt handler. */
let activeWorkDir: string | undefined;

function usage(message: string): never {
  console.error(`crash-test: ${message}\n\n${USAGE}`);
  process.exit(2);
}

function int(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) usage(`--${name} must be a non-negative integer, got '${value}'`);
  return Number(value);
}

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        cycles: { type: 'string' },
        seed: { type: 'string' },
        drain: { type: 'string' },
        'min-kill-ms': { type: 'string' },
        'max-kill-ms': { type: 'string' },
        uri: { type: 'string' },
        'no-torn': { type: 'boolean' },
        'torn-only': { type: 'boolean' },
        torn: { type: 'string' },
        'broker-main': { type: 'string' },
        keep: { type: 'boolean' },
        quiet: { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (error) {
    usage((error as Error).message);
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const drain = values.drain ?? 'end';
  if (drain !== 'end' && drain !== 'every') usage(`--drain must be 'end' or 'every', got '${drain}'`);
  const minKillMs = int(values['min-kill-ms'], 'min-kill-ms', 50);
  const maxKillMs = int(values['max-kill-ms'], 'max-kill-ms', 800);
  if (maxKillMs < minKillMs) usage('--max-kill-ms must not be below --min-kill-ms');
  const variants = values.torn?.split(',').filter(Boolean);
  for (const v of variants ?? [])
    if (!TORN_VARIANTS.some((t) => t.name === v)) usage(`unknown torn-write variant '${v}'`);
  const seed = values.seed ?? String(Date.now());
  const log = values.quiet ? () => undefined : (line: string) => console.log(`  ${line}`);

  const root = findRoot();
  const workDir = mkdtempSync(join(tmpdir(), 'warren-crash-'));
  activeWorkDir = workDir;
  let failed = false;
  let run: CrashRunResult | undefined;
  let torn: TornResult[] | undefined;
  try {
    const brokerMain = values.uri
      ? undefined
      : values['broker-main']
        ? resolve(values['broker-main'])
        : bundleBroker(root, join(workDir, 'broker', 'main.js'));
    if (!values['torn-only']) {
      console.log(`crash cycles: ${values.uri ? `against ${values.uri}` : 'bundled broker'}, seed ${seed}`);
      run = await runCrashCycles({
        cycles: int(values.cycles, 'cycles', 20),
        seed,
        drain,
        uri: values.uri,
        minKillMs,
        maxKillMs,
        root,
        workDir,
        brokerMain,
        log,
      });
      console.log(formatSummary(run));
      if (run.summary.violations > 0) failed = true;
    }
    if (!values.uri && !values['no-torn']) {
      console.log('torn-write checks:');
      torn = await runTornWriteChecks({ brokerMain: brokerMain!, root, workDir, seed, variants, log });
      console.log(formatTornResults(torn));
      if (torn.some((t) => !t.ok)) failed = true;
    }
    if (values.json) console.log(JSON.stringify({ run: run && { ...run, summary: run.summary }, torn }, null, 2));
  } finally {
    killAllBrokers();
    if (failed || values.keep) console.log(`work dir kept: ${workDir} (broker logs under logs/)`);
    else removeWorkDir(workDir);
  }
  return failed ? 1 : 0;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    killAllBrokers();
    if (activeWorkDir) console.error(`crash-test: interrupted; work dir kept: ${activeWorkDir}`);
    process.exit(130);
  });
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`crash-test: ${(error as Error).stack ?? error}`);
    killAllBrokers();
    process.exit(2);
  },
);
