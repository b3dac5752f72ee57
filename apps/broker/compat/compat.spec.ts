/*
 * Side-by-side compatibility runner.
 *
 * Targets:
 *   - bundled:  the in-process broker from ../src/testing (skipped with COMPAT_ONLY=rabbitmq)
 *   - rabbitmq: the broker at RABBITMQ_URL, when that variable is set (skipped with COMPAT_ONLY=bundled)
 *
 * For every scenario and target: run it, normalise the outcome and apply the scenario's own
 * expectations. When both targets run, a third test asserts the two outcomes are deep-equal
 * (error reply texts are compared only for scenarios with compareText), or, for a scenario marked
 * `differsFromRabbitmq` (a plugin feature the reference RabbitMQ lacks), that they differ.
 *
 * Other knobs: COMPAT_FILTER=<regex> runs only scenarios whose "area/name" matches;
 * COMPAT_ALL=1 also runs scenarios marked `only` on the other target (e.g. to re-verify a
 * bundled-only scenario against RabbitMQ); COMPAT_PRINT=1 logs each outcome.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { areas } from './scenarios';
import { Ctx, normalise, stripTexts, type Target } from './harness';
import { compatAccess, ensureRabbitFixture } from './fixtures';

const ONLY = process.env.COMPAT_ONLY;
const RABBITMQ_URL = process.env.RABBITMQ_URL;
const FILTER = process.env.COMPAT_FILTER ? new RegExp(process.env.COMPAT_FILTER) : null;
const ALL = !!process.env.COMPAT_ALL;
const PRINT = !!process.env.COMPAT_PRINT;

const targets: Target[] = [];
if (ONLY !== 'rabbitmq') targets.push('bundled');
if (RABBITMQ_URL && ONLY !== 'bundled') targets.push('rabbitmq');

interface BundledHandle {
  url: string;
  port: number;
  close(): Promise<void>;
}
let bundled: BundledHandle | undefined;
let bundledStartError: unknown;
let dataDir: string | undefined;

beforeAll(async () => {
  if (!targets.includes('bundled')) return;
  try {
    const { startBroker } = await import('../src/testing');
    // With a data directory, as users run it: durable queues then keep their messages in the on-disk store,
    // so every scenario also checks that store against RabbitMQ's behaviour.
    dataDir = mkdtempSync(join(tmpdir(), 'warren-compat-'));
    bundled = await startBroker({ dataDir, access: compatAccess() });
  } catch (e) {
    bundledStartError = e;
  }
}, 30_000);

// the permission scenarios' user and vhost on RabbitMQ
beforeAll(() => {
  if (targets.includes('rabbitmq')) ensureRabbitFixture();
}, 120_000);

afterAll(async () => {
  if (bundled) await bundled.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

function urlFor(t: Target): string {
  if (t === 'rabbitmq') return RABBITMQ_URL!;
  if (!bundled) throw new Error(`bundled broker did not start: ${String(bundledStartError)}`);
  return bundled.url;
}

const outcomes = new Map<string, Partial<Record<Target, unknown>>>();

test('scenario names are unique within each area', () => {
  for (const a of areas) {
    const names = a.scenarios.map((s) => s.name);
    expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([]);
  }
});

if (targets.length === 0) {
  test('no compat targets selected', () => {
    // COMPAT_ONLY=rabbitmq without RABBITMQ_URL
    console.warn('compat: no targets (set RABBITMQ_URL, or unset COMPAT_ONLY)');
  });
}

for (const a of areas) {
  const scenarios = a.scenarios.filter((s) => !FILTER || FILTER.test(`${a.area}/${s.name}`));
  if (scenarios.length === 0 || targets.length === 0) continue;
  describe(a.area, () => {
    for (const s of scenarios) {
      const key = `${a.area}/${s.name}`;
      const timeout = s.timeoutMs ?? 15_000;
      describe(s.name, () => {
        for (const t of targets) {
          // a scenario for one broker only does not exist for the other (no skipped tests)
          if (s.only && s.only !== t && !ALL) continue;
          test(
            t,
            async () => {
              const ctx = new Ctx(t, urlFor(t));
              let raw: unknown;
              try {
                raw = await s.run(ctx);
              } finally {
                await ctx.cleanup();
              }
              const outcome = normalise(raw, ctx.prefix);
              outcomes.set(key, { ...outcomes.get(key), [t]: outcome });
              if (PRINT) console.log(`${key} [${t}]\n${JSON.stringify(outcome, null, 2)}`);
              if (s.check) s.check(outcome, t);
            },
            timeout,
          );
        }
        if (targets.length === 2 && !s.only && s.differsFromRabbitmq) {
          test(`bundled differs from rabbitmq by design: ${s.differsFromRabbitmq}`, () => {
            const o = outcomes.get(key) ?? {};
            if (!('rabbitmq' in o) || !('bundled' in o))
              throw new Error('a target produced no outcome (its run failed)');
            expect(o.bundled).not.toEqual(o.rabbitmq);
          });
        } else if (targets.length === 2 && !s.only) {
          test('bundled matches rabbitmq', () => {
            const o = outcomes.get(key) ?? {};
            if (!('rabbitmq' in o)) throw new Error('no rabbitmq outcome (its run failed)');
            if (!('bundled' in o)) throw new Error('no bundled outcome (its run failed)');
            const prep = s.compareText ? (x: unknown) => x : stripTexts;
            expect(prep(o.bundled)).toEqual(prep(o.rabbitmq));
          });
        }
      });
    }
  });
}
