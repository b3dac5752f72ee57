// Crash safety of the bundled broker's durable storage, as a real process killed with SIGKILL at random
// moments (crash/harness.ts), and its handling of damaged segment tails (crash/torn-write.ts). One of the
// queues is a quorum queue fed transient messages: none confirmed may be lost either.
//
// CRASH_CYCLES (default 8) and CRASH_SEED (default: the time, printed with the summary) tune the run;
// CRASH_KEEP=1 keeps the work dir (bundle, data dirs, broker logs). With RABBITMQ_URL set, the same harness
// also runs against that broker (client-side disconnects instead of kills) to check the harness's own
// bookkeeping against the reference implementation. `npm run crash-test -- --cycles 200` runs it standalone.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleBroker, findRoot, killAllBrokers } from './crash/broker-process';
import { CrashRunResult, formatSummary, removeWorkDir, runCrashCycles } from './crash/harness';
import { formatTornResults, runTornWriteChecks, TornResult, TORN_VARIANTS } from './crash/torn-write';

const CYCLES = Number(process.env.CRASH_CYCLES ?? 8);
const SEED = process.env.CRASH_SEED ?? String(Date.now());
const RABBITMQ_URL = process.env.RABBITMQ_URL;

jest.setTimeout(120_000);

let workDir: string;
let run: CrashRunResult;
let torn: TornResult[];
let failed = false;

beforeAll(async () => {
  const root = findRoot(__dirname);
  workDir = mkdtempSync(join(tmpdir(), 'warren-crash-'));
  const brokerMain = bundleBroker(root, join(workDir, 'broker', 'main.js'));
  run = await runCrashCycles({ cycles: CYCLES, seed: SEED, root, workDir, brokerMain });
  torn = await runTornWriteChecks({ brokerMain, root, workDir, seed: SEED });
  failed = run.summary.violations > 0 || torn.some((t) => !t.ok);
  console.log(`${formatSummary(run)}\ntorn-write checks:\n${formatTornResults(torn)}`);
}, 120_000);

afterAll(() => {
  killAllBrokers();
  if (!workDir) return;
  if (failed || process.env.CRASH_KEEP) console.log(`crash-safety work dir kept: ${workDir}`);
  else removeWorkDir(workDir);
});

describe(`crash safety: ${CYCLES} SIGKILL cycles (seed ${SEED})`, () => {
  const check = (key: keyof CrashRunResult['summary'], exampleKey = key) => {
    const s = run.summary;
    expect({ [key]: s[key], examples: s.examples[exampleKey] ?? [], seed: SEED }).toEqual({
      [key]: 0,
      examples: [],
      seed: SEED,
    });
  };

  it('ran the cycles with traffic: messages confirmed, delivered, acked, and data on disk', () => {
    expect(run.cycles).toHaveLength(CYCLES);
    expect(run.summary.confirmed).toBeGreaterThan(0);
    expect(run.summary.deliveries).toBeGreaterThan(0);
    expect(run.cycles.reduce((n, c) => n + c.acksProven, 0)).toBeGreaterThan(0);
    expect(run.dataPeak.segments).toBeGreaterThan(0);
  });

  it('starts every time: no start-up failure, no broker death, no drain timeout', () => check('errors'));
  it('keeps durable queues, their arguments, and the fanout exchange across restarts', () => check('topologyLost'));
  it("keeps a quorum queue's delivery counts across restarts, and redelivered set exactly when one is above 0", () =>
    check('deliveryCountViolations'));
  it('loses no confirmed message', () => check('lost'));
  it('never returns a confirmed message as unroutable', () => check('unroutable'));
  it('does not deliver again a message whose ack was proven processed before the kill', () =>
    check('provenAckedRedelivered'));
  it('marks messages delivered before the crash redelivered=true', () => check('redeliveredFlagViolations'));
  it('delivers never-delivered messages in publish order (per publisher, queue, priority level)', () =>
    check('orderViolations'));
  it('never delivers a message twice without a restart in between', () => check('sameSessionDuplicates'));
  it('delivers bodies and properties intact, from the right queues', () => check('corrupt'));
  it('keeps nothing after everything was acked and the broker stopped cleanly', () => check('afterCleanRestart'));
});

describe('torn writes: a damaged segment tail is detected, logged and skipped', () => {
  it.each(TORN_VARIANTS.map((v) => [v.name, v.description]))('%s (%s)', (name) => {
    const result = torn.find((t) => t.variant === name)!;
    expect({ variant: name, problems: result.problems }).toEqual({ variant: name, problems: [] });
    expect(result.logLine).toMatch(/corrupt|torn|truncat/i);
    expect(result.recovered).toBeGreaterThanOrEqual(
      result.confirmed - (TORN_VARIANTS.find((v) => v.name === name)!.destroysLast ? 1 : 0),
    );
  });
});

(RABBITMQ_URL ? describe : describe.skip)(
  'the harness against RabbitMQ (client-side disconnects; checks the bookkeeping)',
  () => {
    let reference: CrashRunResult;
    beforeAll(async () => {
      reference = await runCrashCycles({
        cycles: 4,
        seed: SEED,
        uri: RABBITMQ_URL,
        workDir: mkdtempSync(join(tmpdir(), 'warren-crash-rmq-')),
      });
      console.log(formatSummary(reference));
      removeWorkDir(reference.workDir);
    }, 60_000);

    it('finds no violation, and sees in-flight and recovered deliveries', () => {
      const s = reference.summary;
      expect({ violations: s.violations, examples: s.examples }).toEqual({ violations: 0, examples: {} });
      expect(s.recoveredUnacked).toBeGreaterThan(0);
    });
  },
);
