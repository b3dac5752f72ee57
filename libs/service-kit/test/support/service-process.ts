// A service-kit fixture as its own process, for the process specs: bundled as a service is (tools/scripts/bundle.mjs,
// npm packages external), started with node, its stdout and stderr kept as lines.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { bundleEntry } from '../../../../tools/testing/bundle';

const ROOT = path.resolve(__dirname, '../../../..');

export interface Run {
  child: ChildProcess;
  lines: () => string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface BundledFixture {
  /** Starts the bundle with the environment a test service gets (the test broker, a port of its own) plus `env`. */
  run(env?: Record<string, string>): Run;
  remove(): void;
}

/** Bundles `fixture` (a path from the repository root) into a temporary directory inside the repository. */
export async function bundleFixture(fixture: string): Promise<BundledFixture> {
  mkdirSync(path.join(ROOT, 'tmp'), { recursive: true });
  // inside the repository, so the bundle's npm packages resolve from its node_modules
  const dir = mkdtempSync(path.join(ROOT, 'tmp', 'kit-process-'));
  const entry = path.join(dir, 'service.js');
  await bundleEntry(fixture, entry);
  return {
    run: (env = {}) => run(entry, env),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

function run(entry: string, env: Record<string, string>): Run {
  const child = spawn(process.execPath, [entry], {
    env: {
      PATH: process.env.PATH,
      AMQP_URL: process.env.WARREN_TEST_BROKER_URL,
      PORT: '0',
      HOST: '127.0.0.1',
      WARREN_NAMESPACE: `test.kit.${randomBytes(4).toString('hex')}`,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, lines: () => out.split('\n').filter((l) => l.trim()), exited };
}

/** Resolves with the first line matching `re`; rejects if the process exits first. */
export function lineMatching(r: Run, re: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const line = r.lines().find((l) => re.test(l));
      if (line) {
        r.child.stdout!.off('data', check);
        resolve(line);
      }
    };
    r.child.stdout!.on('data', check);
    void r.exited.then(() => reject(new Error(`exited before printing ${re}:\n${r.lines().join('\n')}`)));
    check();
  });
}
