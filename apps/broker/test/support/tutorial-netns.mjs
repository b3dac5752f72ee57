#!/usr/bin/env node
// Runs one scenario of the amqplib tutorials against the bundled broker, inside a private network namespace.
//
// The tutorials hard-code amqp://localhost (port 5672), which a real RabbitMQ may hold on the host, so the
// test starts this script as `unshare --net --pid --fork --kill-child node tutorial-netns.mjs '<plan json>'`:
// the broker and every tutorial program are children of this script and so share its namespace, where
// 5672 is always free. The PID namespace is for cleanup: this script is its init, so when it ends, or
// unshare is killed (--kill-child), the kernel kills whatever is left in it.
//
// The plan (JSON, argv[2]):
//   { brokerMain, brokerArgs, cwd, timeoutMs?, steps: Step[] }
//   Step = { start: name, script, args?, ready: line }   start a long-running program, wait for that stdout line
//        | { run: name, script, args? }                   run a program to exit (exit status recorded, not judged)
//        | { waitFor: name | name[], line, count? }       wait until the named programs' stdout holds `line`
//                                                         (exactly, as a whole line) `count` times in all
// Every wait is bounded by timeoutMs. Afterwards the long-running programs get SIGINT (the tutorials' own
// "press CTRL+C" exit path), then the broker gets SIGTERM; either is SIGKILLed if it does not exit in time.
// Prints one JSON object on stdout: { ok, error?, elapsedMs, broker, procs: { name: ProcResult } }, where
// ProcResult = { command, pid, stdout: string[] (lines), stderr, exitCode, signal, killed }.
// Exit status: 0 when ok, 1 otherwise (the JSON tells why).
import { spawn, spawnSync } from 'node:child_process';

const started = Date.now();
const plan = JSON.parse(process.argv[2] ?? 'null');
if (!plan || !Array.isArray(plan.steps)) {
  console.error('usage: unshare --net --pid --fork --kill-child node tutorial-netns.mjs <plan json>');
  process.exit(2);
}
const timeoutMs = plan.timeoutMs ?? 8000;
const STOP_TIMEOUT_MS = 3000;

/** A child process whose stdout is kept as lines, with bounded waits on them. */
class Proc {
  constructor(name, file, args, cwd) {
    this.name = name;
    this.command = [file, ...args];
    this.lines = [];
    this.partial = '';
    this.stderr = '';
    this.exitCode = null;
    this.signal = null;
    this.killed = null;
    this.ended = false;
    this.watchers = new Set();
    this.child = spawn(process.execPath, [file, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    this.pid = this.child.pid;
    this.child.stdout.setEncoding('utf8');
    this.child.stderr.setEncoding('utf8');
    this.child.stdout.on('data', (chunk) => {
      const parts = (this.partial + chunk).split('\n');
      this.partial = parts.pop();
      this.lines.push(...parts);
      this.notify();
    });
    this.child.stderr.on('data', (chunk) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => {
      this.child.on('error', (error) => {
        this.stderr += `spawn error: ${error.message}\n`;
        resolve();
      });
      // 'close' rather than 'exit': by then stdout has been read to the end.
      this.child.on('close', (code, signal) => {
        this.exitCode = code;
        this.signal = signal;
        resolve();
      });
    }).then(() => {
      this.ended = true;
      this.notify();
    });
  }

  get running() {
    return !this.ended;
  }

  notify() {
    for (const check of this.watchers) check();
  }

  result() {
    return {
      command: this.command,
      pid: this.pid,
      stdout: this.partial ? [...this.lines, this.partial] : [...this.lines],
      stderr: this.stderr,
      exitCode: this.exitCode,
      signal: this.signal,
      killed: this.killed,
    };
  }
}

/** Resolves when done() holds, re-checked whenever one of procs prints or exits; rejects after timeoutMs. */
function until(procs, done, describe, ms = timeoutMs) {
  return new Promise((resolve, reject) => {
    let timer;
    const finish = (error) => {
      clearTimeout(timer);
      for (const p of procs) p.watchers.delete(check);
      if (error) reject(error);
      else resolve();
    };
    const check = () => {
      if (done()) return finish();
      if (procs.every((p) => !p.running))
        finish(new Error(`${describe}: ${procs.map((p) => p.name).join(', ')} exited first`));
    };
    timer = setTimeout(() => finish(new Error(`${describe}: timed out after ${ms} ms`)), ms);
    for (const p of procs) p.watchers.add(check);
    check();
  });
}

/** Signals a process by PID and waits (bounded) for it to exit; SIGKILLs it if it does not. */
async function stop(proc, signal) {
  if (!proc.running) return;
  proc.killed = signal;
  try {
    process.kill(proc.pid, signal);
  } catch {
    // already gone
  }
  let timer;
  const late = new Promise((resolve) => (timer = setTimeout(() => resolve('late'), STOP_TIMEOUT_MS)));
  const outcome = await Promise.race([proc.exited.then(() => 'exited'), late]);
  clearTimeout(timer);
  if (outcome === 'late' && proc.running) {
    proc.killed = `${signal}, then SIGKILL after ${STOP_TIMEOUT_MS} ms`;
    try {
      process.kill(proc.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    await proc.exited;
  }
}

let broker;
const procs = new Map();
const longRunning = [];
let error;

function emergencyStop() {
  for (const p of [...longRunning, ...procs.values(), broker].filter(Boolean)) {
    if (p.running) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  process.exit(1);
}
process.on('SIGTERM', emergencyStop);
process.on('SIGINT', emergencyStop);

try {
  const lo = spawnSync('ip', ['link', 'set', 'lo', 'up'], { encoding: 'utf8' });
  if (lo.error || lo.status !== 0)
    throw new Error(`cannot bring up loopback: ${lo.error?.message ?? lo.stderr.trim()}`);

  broker = new Proc('broker', plan.brokerMain, plan.brokerArgs ?? [], plan.cwd);
  await until([broker], () => broker.lines.some((l) => l.startsWith('listening on ')), 'broker start');

  for (const step of plan.steps) {
    if (step.start) {
      const p = new Proc(step.start, step.script, step.args ?? [], plan.cwd);
      procs.set(step.start, p);
      longRunning.push(p);
      await until([p], () => p.lines.includes(step.ready), `${step.start} ready ("${step.ready}")`);
    } else if (step.run) {
      const p = new Proc(step.run, step.script, step.args ?? [], plan.cwd);
      procs.set(step.run, p);
      await until([p], () => !p.running, `${step.run} to exit`).catch(async (e) => {
        await stop(p, 'SIGKILL');
        throw e;
      });
    } else if (step.waitFor) {
      const names = [].concat(step.waitFor);
      const targets = names.map((n) => procs.get(n));
      if (targets.some((t) => !t)) throw new Error(`waitFor names an unknown program: ${names.join(', ')}`);
      const count = step.count ?? 1;
      const seen = () => targets.reduce((n, t) => n + t.lines.filter((l) => l === step.line).length, 0);
      await until(targets, () => seen() >= count, `${names.join('+')} to print "${step.line}" ${count}x`);
    } else {
      throw new Error(`unknown step ${JSON.stringify(step)}`);
    }
  }
} catch (e) {
  error = e instanceof Error ? e.message : String(e);
} finally {
  for (const p of longRunning.reverse()) await stop(p, 'SIGINT');
  for (const p of procs.values()) await stop(p, 'SIGKILL');
  if (broker) await stop(broker, 'SIGTERM');
}

const result = {
  ok: error === undefined,
  ...(error === undefined ? {} : { error }),
  elapsedMs: Date.now() - started,
  broker: broker?.result() ?? null,
  procs: Object.fromEntries([...procs].map(([name, p]) => [name, p.result()])),
};
process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(result.ok ? 0 : 1));
