// The RabbitMQ tutorials as shipped in the amqplib package (node_modules/amqplib/examples/tutorials), run
// unchanged as separate processes against the bundled broker, and judged by what they print.
//
// They connect to amqp://localhost:5672, which a real RabbitMQ may hold, so each scenario runs in its own
// private network (and PID) namespace through support/tutorial-netns.mjs: the broker and the tutorial
// programs are that script's children, so they share the namespace, and 5672 is free there. This needs
// `unshare` with root (or CAP_SYS_ADMIN); without it the tests fail rather than skip. The scenarios are
// independent, so they all start at once in beforeAll and each test awaits its own.
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { bundleEntry } from '../../../tools/testing/bundle';

const root = resolve(__dirname, '../../..');
const tutorials = join(root, 'node_modules/amqplib/examples/tutorials');
const driver = join(__dirname, 'support/tutorial-netns.mjs');
const UNSHARE = ['--net', '--pid', '--fork', '--kill-child'];
/** Bound on one scenario as a whole; the driver bounds each of its own waits by WAIT_MS. */
const RUN_MS = 25_000;
const WAIT_MS = 10_000;

type Step =
  | { start: string; script: string; args?: string[]; ready: string }
  | { run: string; script: string; args?: string[] }
  | { waitFor: string | string[]; line: string; count?: number };

interface ProcResult {
  command: string[];
  pid: number;
  stdout: string[];
  stderr: string;
  exitCode: number | null;
  signal: string | null;
  killed: string | null;
}

interface RunResult {
  ok: boolean;
  error?: string;
  elapsedMs: number;
  broker: ProcResult | null;
  procs: Record<string, ProcResult>;
}

const WAITING_MESSAGES = ' [*] Waiting for messages. To exit press CTRL+C';
const WAITING_LOGS = ' [*] Waiting for logs. To exit press CTRL+C'; // receive_logs.js: no full stop
const WAITING_ROUTED_LOGS = ' [*] Waiting for logs. To exit press CTRL+C.'; // the _direct and _topic receivers
const AWAITING_RPC = ' [x] Awaiting RPC requests. To exit press CTRL+C.';

const TASKS = ['First task..', 'Second task', 'Third task', 'Fourth task'];
const DIRECT = [
  ['info', 'Just so you know'],
  ['debug', 'Nobody binds debug'],
  ['warning', 'Disk space is low'],
  ['error', 'Run. Run. Or it will explode.'],
];
const TOPIC = [
  ['anonymous.info', 'Only # matches this'],
  ['kern.info', 'Kernel says hello'],
  ['cron.critical', 'Cron is on fire'],
  ['kern.disk.critical', 'Three words: not *.critical, not kern.*'],
  ['kern.critical', 'A critical kernel error'],
];
const TOPIC_RECEIVERS: Record<string, string[]> = {
  topicAll: ['#'],
  topicKern: ['kern.*'],
  topicCritical: ['*.critical'],
  topicKernOrCritical: ['kern.*', '*.critical'],
};

const start = (name: string, script: string, ready: string, args: string[] = []): Step => ({
  start: name,
  script,
  args,
  ready,
});
const run = (name: string, script: string, args: string[] = []): Step => ({ run: name, script, args });

/**
 * Each scenario sends its last message so that every receiver under test gets it, and waits for that: a
 * queue delivers in order, and each sender has finished (closed its channel) before the next starts, so any
 * message wrongly routed to a receiver would have arrived before it. No sleeps.
 */
const SCENARIOS: Record<string, Step[]> = {
  // Tutorial one: Hello World.
  hello: [
    start('receive', 'receive.js', WAITING_MESSAGES),
    run('send', 'send.js'),
    { waitFor: 'receive', line: " [x] Received 'Hello World!'" },
  ],
  // Tutorial two: a durable work queue shared by two workers with prefetch 1 (one dot = one second of work).
  work: [
    start('worker1', 'worker.js', WAITING_MESSAGES),
    start('worker2', 'worker.js', WAITING_MESSAGES),
    ...TASKS.map((task, i) => run(`new_task${i + 1}`, 'new_task.js', [task])),
    { waitFor: ['worker1', 'worker2'], line: ' [x] Done', count: TASKS.length },
  ],
  // Tutorial three: fanout to every bound queue.
  fanout: [
    start('logs1', 'receive_logs.js', WAITING_LOGS),
    start('logs2', 'receive_logs.js', WAITING_LOGS),
    run('emit1', 'emit_log.js'),
    run('emit2', 'emit_log.js', ['warning:', 'disk', 'almost', 'full']),
    { waitFor: ['logs1', 'logs2'], line: " [x] 'warning: disk almost full'", count: 2 },
  ],
  // Tutorial four: direct routing by severity.
  direct: [
    start('direct1', 'receive_logs_direct.js', WAITING_ROUTED_LOGS, ['warning', 'error']),
    start('direct2', 'receive_logs_direct.js', WAITING_ROUTED_LOGS, ['info', 'warning', 'error']),
    ...DIRECT.map(([key, text], i) => run(`emit${i + 1}`, 'emit_log_direct.js', [key, text])),
    { waitFor: ['direct1', 'direct2'], line: " [x] error:'Run. Run. Or it will explode.'", count: 2 },
  ],
  // Tutorial five: topic patterns; the last receiver has two bindings that both match some messages.
  topic: [
    ...Object.entries(TOPIC_RECEIVERS).map(([name, keys]) =>
      start(name, 'receive_logs_topic.js', WAITING_ROUTED_LOGS, keys),
    ),
    ...TOPIC.map(([key, text], i) => run(`emit${i + 1}`, 'emit_log_topic.js', [key, text])),
    { waitFor: Object.keys(TOPIC_RECEIVERS), line: " [x] kern.critical:'A critical kernel error'", count: 4 },
  ],
  // Tutorial six: RPC over a request queue with exclusive reply queues and correlation ids.
  rpc: [
    start('rpc_server', 'rpc_server.js', AWAITING_RPC),
    run('rpc_client30', 'rpc_client.js', ['30']),
    run('rpc_client10', 'rpc_client.js', ['10']),
    { waitFor: 'rpc_server', line: ' [.] fib(10)' },
  ],
};

jest.setTimeout(RUN_MS + 5_000);

let tmp: string | undefined;
const children = new Set<ChildProcess>();
const runs = new Map<string, Promise<RunResult>>();

/** Runs one scenario in a fresh namespace; never rejects (a failure comes back as ok: false). */
function runInNamespace(name: string, brokerMain: string, dataDir: string): Promise<RunResult> {
  const plan = {
    brokerMain,
    brokerArgs: ['--port', '5672', '--host', '127.0.0.1', '--data-dir', dataDir],
    cwd: tutorials,
    timeoutMs: WAIT_MS,
    steps: SCENARIOS[name],
  };
  const env = { ...process.env };
  delete env.BROKER_PORT;
  return new Promise((resolvePromise) => {
    const child = spawn('unshare', [...UNSHARE, process.execPath, driver, JSON.stringify(plan)], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null)
        process.kill(child.pid, 'SIGKILL');
    }, RUN_MS);
    const failed = (error: string): RunResult => ({ ok: false, error, elapsedMs: 0, broker: null, procs: {} });
    child.on('error', (error) => {
      clearTimeout(timer);
      children.delete(child);
      resolvePromise(failed(`cannot run unshare: ${error.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      try {
        resolvePromise(JSON.parse(stdout) as RunResult);
      } catch {
        resolvePromise(
          failed(
            `driver exited with ${signal ?? code} without a result (killed after ${RUN_MS} ms?)\nstdout: ${stdout}\nstderr: ${stderr}`,
          ),
        );
      }
    });
  });
}

async function scenario(name: string): Promise<RunResult> {
  const result = await runs.get(name);
  if (!result) throw new Error(`scenario ${name} was not started (see the beforeAll error)`);
  if (!result.ok) throw new Error(`scenario ${name} failed: ${result.error}\n${JSON.stringify(result, null, 2)}`);
  return result;
}

function received(p: ProcResult): string[] {
  return p.stdout.filter((line) => line.startsWith(' [x] '));
}

/** What every scenario must also show: no program wrote errors, all ended cleanly, and so did the broker. */
function expectCleanRun(result: RunResult): void {
  const programs = { broker: result.broker!, ...result.procs };
  for (const [name, p] of Object.entries(programs)) {
    // The broker logs its shutdown on stderr; apart from that, nobody wrote to stderr.
    const stderr = name === 'broker' ? p.stderr.replace('[broker] SIGTERM: closing connections\n', '') : p.stderr;
    expect({ name, stderr, exitCode: p.exitCode, signal: p.signal }).toEqual({
      name,
      stderr: '',
      exitCode: 0,
      signal: null,
    });
    // Long-running programs exited on their SIGINT (SIGTERM for the broker), never on a SIGKILL.
    expect({ name, killed: p.killed }).toEqual({
      name,
      killed: p.killed === null ? null : expect.stringMatching(/^SIG(INT|TERM)$/),
    });
  }
  expect(result.broker!.stdout[0]).toBe('listening on amqp://127.0.0.1:5672');
}

beforeAll(async () => {
  const probe = spawnSync('unshare', [...UNSHARE, 'true'], { encoding: 'utf8', timeout: 10_000 });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      'tutorials.spec runs the amqplib tutorials (hard-wired to localhost:5672) in private network namespaces and needs ' +
        `\`unshare ${UNSHARE.join(' ')}\`, which failed here (run as root, or with CAP_SYS_ADMIN): ` +
        (probe.error?.message ?? (probe.stderr.trim() || `exit status ${probe.status}`)),
    );
  }
  for (const file of ['send.js', 'rpc_client.js', 'receive_logs_topic.js']) {
    if (!existsSync(join(tutorials, file))) throw new Error(`amqplib tutorial ${file} not found in ${tutorials}`);
  }
  tmp = mkdtempSync(join(tmpdir(), 'warren-tutorials-'));
  const brokerMain = await bundleEntry('apps/broker/src/main.ts', join(tmp, 'main.js'));
  for (const name of Object.keys(SCENARIOS)) {
    const dataDir = join(tmp, `data-${name}`);
    mkdirSync(dataDir);
    runs.set(name, runInNamespace(name, brokerMain, dataDir));
  }
}, 60_000);

afterAll(async () => {
  for (const child of children) {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null)
      process.kill(child.pid, 'SIGKILL');
  }
  // Let killed drivers finish so their results settle before the temp dir goes.
  await Promise.all(runs.values());
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}, RUN_MS + 5_000);

describe('amqplib tutorials, unchanged, against the bundled broker', () => {
  it("resolve their imports (amqplib as 'amqplib' and '../..', uuid) to the workspace's packages", () => {
    const script = "for (const m of ['amqplib', '../..', 'uuid']) console.log(require.resolve(m))";
    const resolved = spawnSync(process.execPath, ['-e', script], { cwd: tutorials, encoding: 'utf8', timeout: 10_000 });
    expect(resolved.stderr).toBe('');
    const [named, relative, uuid] = resolved.stdout.trim().split('\n');
    expect(named.startsWith(join(root, 'node_modules/amqplib/'))).toBe(true);
    expect(relative).toBe(named);
    expect(uuid.startsWith(join(root, 'node_modules/uuid/'))).toBe(true);
  });

  it('1 "Hello World": receive.js gets what send.js sent', async () => {
    const result = await scenario('hello');
    expect(result.procs.send.stdout).toEqual([" [x] Sent 'Hello World!'"]);
    expect(result.procs.receive.stdout).toEqual([WAITING_MESSAGES, " [x] Received 'Hello World!'"]);
    expectCleanRun(result);
  });

  it('2 work queues: two workers share the tasks, each done once, with fair dispatch', async () => {
    const result = await scenario('work');
    TASKS.forEach((task, i) => expect(result.procs[`new_task${i + 1}`].stdout).toEqual([` [x] Sent '${task}'`]));
    const workers = [result.procs.worker1, result.procs.worker2];
    const got = workers.flatMap((w) => received(w).filter((l) => l.startsWith(' [x] Received ')));
    expect(got.sort()).toEqual(TASKS.map((t) => ` [x] Received '${t}'`).sort());
    for (const w of workers) {
      expect(w.stdout[0]).toBe(WAITING_MESSAGES);
      // Received and Done alternate: with prefetch 1 a worker never holds two tasks at once.
      const work = w.stdout.slice(1);
      work.forEach((line, i) =>
        i % 2 === 0 ? expect(line).toMatch(/^ \[x\] Received '/) : expect(line).toBe(' [x] Done'),
      );
      expect(work.length % 2).toBe(0);
      // Whichever worker took the first (two-second) task, the other had to take the next one.
      expect(work.length).toBeGreaterThan(0);
    }
    expectCleanRun(result);
  });

  it('3 publish/subscribe: every receive_logs.js gets every emit_log.js message', async () => {
    const result = await scenario('fanout');
    expect(result.procs.emit1.stdout).toEqual([" [x] Sent 'info: Hello World!'"]);
    expect(result.procs.emit2.stdout).toEqual([" [x] Sent 'warning: disk almost full'"]);
    for (const name of ['logs1', 'logs2']) {
      expect(result.procs[name].stdout).toEqual([
        WAITING_LOGS,
        " [x] 'info: Hello World!'",
        " [x] 'warning: disk almost full'",
      ]);
    }
    expectCleanRun(result);
  });

  it('4 routing: receive_logs_direct.js gets only the severities it bound', async () => {
    const result = await scenario('direct');
    DIRECT.forEach(([key, text], i) =>
      expect(result.procs[`emit${i + 1}`].stdout).toEqual([` [x] Sent ${key}:'${text}'`]),
    );
    const line = (key: string) => ` [x] ${key}:'${DIRECT.find(([k]) => k === key)![1]}'`;
    expect(result.procs.direct1.stdout).toEqual([WAITING_ROUTED_LOGS, line('warning'), line('error')]);
    expect(result.procs.direct2.stdout).toEqual([WAITING_ROUTED_LOGS, line('info'), line('warning'), line('error')]);
    expectCleanRun(result);
  });

  it('5 topics: receive_logs_topic.js gets only keys matching its patterns, once each', async () => {
    const result = await scenario('topic');
    TOPIC.forEach(([key, text], i) =>
      expect(result.procs[`emit${i + 1}`].stdout).toEqual([` [x] Sent ${key}:'${text}'`]),
    );
    const lines = (...keys: string[]) => [
      WAITING_ROUTED_LOGS,
      ...TOPIC.filter(([k]) => keys.includes(k)).map(([k, text]) => ` [x] ${k}:'${text}'`),
    ];
    expect(result.procs.topicAll.stdout).toEqual(lines(...TOPIC.map(([k]) => k)));
    expect(result.procs.topicKern.stdout).toEqual(lines('kern.info', 'kern.critical'));
    expect(result.procs.topicCritical.stdout).toEqual(lines('cron.critical', 'kern.critical'));
    expect(result.procs.topicKernOrCritical.stdout).toEqual(lines('kern.info', 'cron.critical', 'kern.critical'));
    expectCleanRun(result);
  });

  it('6 RPC: rpc_client.js gets fib(n) from rpc_server.js', async () => {
    const result = await scenario('rpc');
    expect(result.procs.rpc_client30.stdout).toEqual([' [x] Requesting fib(30)', ' [.] Got 832040']);
    expect(result.procs.rpc_client10.stdout).toEqual([' [x] Requesting fib(10)', ' [.] Got 55']);
    expect(result.procs.rpc_server.stdout).toEqual([AWAITING_RPC, ' [.] fib(30)', ' [.] fib(10)']);
    expectCleanRun(result);
  });
});
