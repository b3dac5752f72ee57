// The demo's process supervisor: starts each child in a process group of its own with its output in
// <logDir>/<name>.log, and when a child dies without being asked to (a crash, a kill -9 from outside, the
// console's "kill" button) starts it again with a log line, keeping the rest running. A child that keeps dying
// right after it starts (RESTART_BURST times within RESTART_WINDOW_MS) is left stopped, with a line saying so.
// Only node: built-ins (the demo loads it before it knows node_modules exists).
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const RESTART_BURST = 5;
const RESTART_WINDOW_MS = 60_000;
const FIRST_DELAY_MS = 250;
const MAX_DELAY_MS = 5_000;
/** A child that ran this long before dying starts again at once: it was not crash-looping. */
const STABLE_AFTER_MS = 30_000;
const STOP_GRACE_MS = 10_000;

/**
 * One supervised child.
 * spec: { name, command, args, env, cwd, ready?: RegExp (resolves start() once stdout matches), removable?: boolean }
 */
class Child {
  state = 'starting'; // starting | running | restarting | stopped | failed
  restarts = 0;
  process = undefined;
  startedAt = undefined;
  lastExit = undefined;
  recentExits = [];
  stopRequested = false;

  constructor(spec, supervisor) {
    this.spec = spec;
    this.supervisor = supervisor;
  }

  get pid() {
    return this.process?.pid;
  }

  /** Spawns it; resolves when its `ready` line appears (at once without one), rejects if it exits first. */
  spawn() {
    const { name, command, args = [], env, cwd } = this.spec;
    const log = createWriteStream(join(this.supervisor.logDir, `${name}.log`), { flags: 'a' });
    // detached: a process group of its own, so Ctrl-C in the terminal reaches only the demo, which then stops
    // the services before the broker they are flushing to
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.process = child;
    this.stopRequested = false;
    this.state = 'starting';
    this.startedAt = Date.now();
    child.stdout.pipe(log);
    child.stderr.pipe(log);
    const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    void exited.then((how) => this.onExit(child, how));
    child.once('error', (err) => this.supervisor.log(`${name}: could not start (${err.message})`));
    if (!this.spec.ready) {
      this.state = 'running';
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      let seen = '';
      const onData = (d) => {
        seen = (seen + d).slice(-4000);
        if (!this.spec.ready.test(seen)) return;
        child.stdout.off('data', onData);
        if (this.process === child && this.state === 'starting') this.state = 'running';
        resolve();
      };
      child.stdout.on('data', onData);
      void exited.then(({ code, signal }) =>
        reject(
          new Error(
            `${name} exited (${signal ?? `exit ${code}`}) before it was ready; see ${join(this.supervisor.logDir, `${name}.log`)}`,
          ),
        ),
      );
    });
  }

  onExit(child, { code, signal }) {
    if (this.process !== child) return;
    const how = signal ?? `exit ${code}`;
    this.lastExit = { how, at: Date.now() };
    if (this.stopRequested || this.supervisor.stopping) {
      this.state = 'stopped';
      return;
    }
    const now = Date.now();
    const ranMs = now - this.startedAt;
    this.recentExits = [...this.recentExits.filter((t) => now - t < RESTART_WINDOW_MS), now];
    if (this.recentExits.length >= RESTART_BURST) {
      this.state = 'failed';
      this.supervisor.log(
        `${this.spec.name} exited (${how}) ${RESTART_BURST} times within ${RESTART_WINDOW_MS / 1000} s; left stopped (see ${join(this.supervisor.logDir, `${this.spec.name}.log`)}); the rest keeps running`,
      );
      return;
    }
    const delay =
      ranMs >= STABLE_AFTER_MS ? 0 : Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** (this.recentExits.length - 1));
    this.state = 'restarting';
    this.restarts += 1;
    this.supervisor.log(
      `${this.spec.name} exited (${how}); restarting${delay ? ` in ${delay} ms` : ''} (restart ${this.restarts})`,
    );
    setTimeout(() => {
      if (this.state !== 'restarting' || this.supervisor.stopping) return;
      this.spawn().catch((err) => this.supervisor.log(err.message));
    }, delay);
  }

  /** Stops it (SIGTERM, SIGKILL after the grace period) without a restart; resolves once it has exited. */
  async stop() {
    this.stopRequested = true;
    const child = this.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      this.state = 'stopped';
      return;
    }
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGCONT'); // a stopped (SIGSTOP) child could not act on the SIGTERM
    child.kill('SIGTERM');
    const timer = setTimeout(() => {
      this.supervisor.log(`${this.spec.name} did not stop within ${STOP_GRACE_MS / 1000} s of SIGTERM; SIGKILL`);
      child.kill('SIGKILL');
    }, STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
    this.state = 'stopped';
  }

  describe() {
    return {
      name: this.spec.name,
      pid: this.pid ?? null,
      state: this.state,
      restarts: this.restarts,
      startedAt: this.startedAt ? new Date(this.startedAt).toISOString() : null,
      lastExit: this.lastExit ? { how: this.lastExit.how, at: new Date(this.lastExit.at).toISOString() } : null,
      removable: Boolean(this.spec.removable),
      ...(this.spec.url ? { url: this.spec.url } : {}),
    };
  }
}

export class Supervisor {
  stopping = false;
  children = new Map();

  constructor({ logDir, log = (line) => console.log(`demo: ${line}`) }) {
    this.logDir = logDir;
    this.log = log;
    mkdirSync(logDir, { recursive: true });
  }

  /** Starts a child under supervision (see Child for the spec); resolves when it is ready. */
  start(spec) {
    if (this.children.has(spec.name)) throw new Error(`a process named ${spec.name} is already supervised`);
    const child = new Child(spec, this);
    this.children.set(spec.name, child);
    return child.spawn();
  }

  get(name) {
    return this.children.get(name);
  }

  list() {
    return [...this.children.values()].map((c) => c.describe());
  }

  /** Sends a signal; after SIGKILL or SIGTERM the supervisor restarts the child, as after any unasked-for exit. */
  signal(name, signal) {
    const child = this.children.get(name);
    if (!child?.process || child.state === 'stopped' || child.state === 'failed') return false;
    child.process.kill(signal);
    return true;
  }

  /** Stops the child and starts it again (same spec); resolves when it is ready. */
  async restart(name) {
    const child = this.children.get(name);
    await child.stop();
    child.restarts += 1;
    child.recentExits = [];
    this.log(`${name}: restarting on request (restart ${child.restarts})`);
    return child.spawn();
  }

  /** Stops a child and forgets it. */
  async remove(name) {
    const child = this.children.get(name);
    await child.stop();
    this.children.delete(name);
  }

  /** Stops every child, last started first. */
  async stopAll() {
    this.stopping = true;
    for (const child of [...this.children.values()].reverse()) await child.stop();
  }
}
