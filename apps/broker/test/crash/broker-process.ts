// The broker as a child process for the crash harness: bundled once from apps/broker/src/main.ts, started
// with a data dir and a port, awaited on its "listening on" line, and stopped by PID with SIGKILL (a crash)
// or SIGTERM (a clean stop). Every child is remembered so nothing is left running: killAllBrokers() is for
// afterAll and for the CLI's exit path.
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { bundleEntrySync } from '../../../../tools/testing/bundle';

export const START_TIMEOUT_MS = 15_000;
export const STOP_TIMEOUT_MS = 10_000;

const live = new Set<ChildProcess>();

function running(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** SIGKILLs every broker this process started that is still running. Safe to call more than once. */
export function killAllBrokers(): void {
  for (const child of live) {
    if (running(child) && child.pid !== undefined) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

process.once('exit', killAllBrokers);

/** The workspace root: the nearest directory upwards holding the "warren" package.json. */
export function findRoot(from: string = __dirname): string {
  let dir = resolve(from);
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        if (JSON.parse(readFileSync(file, 'utf8')).name === 'warren') return dir;
      } catch {
        // not ours; keep going up
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`no warren package.json above ${from}`);
    dir = up;
  }
}

/** Bundles the broker CLI (esbuild, tools/scripts/bundle.mjs) to outfile; returns its path. */
export function bundleBroker(root: string, outfile: string): string {
  return bundleEntrySync('apps/broker/src/main.ts', outfile, root);
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface BrokerSpec {
  /** The bundled main.js. */
  main: string;
  dataDir: string;
  /** 0 picks a free port (read back from the "listening on" line). */
  port: number;
  host?: string;
  /** Directory holding node_modules, put on NODE_PATH in case the broker grows an npm dependency. */
  root: string;
  cwd: string;
  /** More command-line flags (e.g. --handshake-timeout 1000). */
  args?: string[];
}

export class BrokerProcess {
  readonly child: ChildProcess;
  private out = '';
  private err = '';
  readonly exited: Promise<Exit>;
  readonly startedAt = Date.now();
  private readonly watchers = new Set<() => void>();

  constructor(readonly spec: BrokerSpec) {
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_PATH: join(spec.root, 'node_modules') };
    delete env.BROKER_PORT;
    this.child = spawn(
      process.execPath,
      [
        '--enable-source-maps',
        spec.main,
        ...['--port', String(spec.port), '--host', spec.host ?? '127.0.0.1', '--data-dir', spec.dataDir],
        ...(spec.args ?? []),
      ],
      { cwd: spec.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    live.add(this.child);
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      this.out += chunk;
      this.notify();
    });
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.err += chunk;
      this.notify();
    });
    this.exited = new Promise<Exit>((resolvePromise) => {
      this.child.once('error', (error) => {
        this.err += `spawn error: ${error.message}\n`;
      });
      this.child.once('close', (code, signal) => {
        live.delete(this.child);
        resolvePromise({ code, signal });
        this.notify();
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return running(this.child);
  }

  stdout(): string {
    return this.out;
  }

  stderr(): string {
    return this.err;
  }

  private notify(): void {
    for (const watch of [...this.watchers]) watch();
  }

  /** Resolves with the port from "listening on amqp://HOST:PORT"; rejects if the broker exits first or on timeout. */
  listening(ms = START_TIMEOUT_MS): Promise<number> {
    return new Promise<number>((resolvePromise, reject) => {
      const timer = setTimeout(
        () =>
          done(
            new Error(
              `broker pid ${this.pid} printed no "listening on" line within ${ms} ms; stdout: ${this.out}; stderr: ${this.err}`,
            ),
          ),
        ms,
      );
      const watch = () => {
        const match = /^listening on amqp:\/\/[^\s:]+:(\d+)\s*$/m.exec(this.out);
        if (match) done(undefined, Number(match[1]));
        else if (!this.running) {
          done(
            new Error(
              `broker pid ${this.pid} exited (${this.child.exitCode ?? this.child.signalCode}) before listening; stderr: ${this.err.trim()}`,
            ),
          );
        }
      };
      const done = (error?: Error, port?: number) => {
        clearTimeout(timer);
        this.watchers.delete(watch);
        if (error) reject(error);
        else resolvePromise(port!);
      };
      this.watchers.add(watch);
      watch();
    });
  }

  /** SIGKILL by PID, then wait for the process to be gone (so its port and files are free). */
  async kill(): Promise<Exit> {
    if (this.running) process.kill(this.pid, 'SIGKILL');
    return this.exited;
  }

  /** SIGTERM (the broker closes connections and exits 0); falls back to SIGKILL after STOP_TIMEOUT_MS. */
  async terminate(ms = STOP_TIMEOUT_MS): Promise<Exit> {
    if (!this.running) return this.exited;
    process.kill(this.pid, 'SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolvePromise) => {
      timer = setTimeout(() => resolvePromise('late'), ms);
    });
    const result = await Promise.race([this.exited, late]);
    clearTimeout(timer);
    if (result === 'late') {
      this.err += `[harness] no exit ${ms} ms after SIGTERM: SIGKILL\n`;
      return this.kill();
    }
    return result;
  }
}

/** Starts a broker and waits for it to listen. On failure the process is killed and the error rethrown. */
export async function startBroker(spec: BrokerSpec): Promise<{ broker: BrokerProcess; port: number }> {
  const broker = new BrokerProcess(spec);
  try {
    const port = await broker.listening();
    return { broker, port };
  } catch (error) {
    await broker.kill();
    throw error;
  }
}
