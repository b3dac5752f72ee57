#!/usr/bin/env node
// A RabbitMQ cluster of N nodes on this one machine, for the suites that need one (quorum queues, a node lost
// mid-run) and for pointing `npm run demo` at a cluster. Debian's rabbitmq-server (3.10), installed.
//
//   node tools/scripts/rabbitmq-cluster.mjs start        [--nodes 3] [--base-port 5680] [--dir DIR]
//   node tools/scripts/rabbitmq-cluster.mjs stop | status [--json] | stop-node N | start-node N   [--dir DIR]
//   node tools/scripts/rabbitmq-cluster.mjs leader QUEUE [--vhost /]   which node leads a quorum queue
//
// Node i (1..N) is warren<i>@localhost: AMQP on base+i, management on base+10000+i, Erlang distribution on
// base+20000+i (5681/15681/25681 …), all on 127.0.0.1. The defaults stay clear of a RabbitMQ on this machine
// (5672, 15672, 15692, 25672) and below 32768, where tests ask the OS for free ports. With another --base-port
// the nodes are warren<i>-<base>@localhost, so clusters on different ports never share a node name.
//
// Each node has its own data, log and config under DIR/node<i> (default .data/rabbitmq-cluster) and reads no
// file under /etc/rabbitmq. The nodes and this script's rabbitmqctl calls share one Erlang cookie through a HOME
// of their own (DIR/home), so a node already on this machine keeps its ~/.erlang.cookie untouched. `start`
// begins from empty data, clusters nodes 2..N with node 1 (stop_app, join_cluster, start_app) and waits until
// cluster_status lists every node running. It prints, on stdout, lines a shell can export:
//   RABBITMQ_CLUSTER_URLS=amqp://guest:guest@127.0.0.1:5681,…
//   RABBITMQ_CLUSTER_MANAGEMENT_URLS=http://guest:guest@127.0.0.1:15681,…
// and its progress on stderr. DIR/cluster.json records what `start` chose, so the other commands need only
// --dir. Every step is bounded in time; a failure names the node and shows what it printed. Exit 0 on success,
// 1 on a failure, 2 on bad arguments, 3 when `status` finds a node down.
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DEFAULT_DIR = join(ROOT, '.data', 'rabbitmq-cluster');
const DEFAULT_BASE_PORT = 5680;
/** A RabbitMQ that may already run here (the Debian package's rabbit@<host>), and where tests take ports. */
const RESERVED = [4369, 5671, 5672, 15672, 15692, 25672];
const EPHEMERAL_FROM = 32768;
const BOOT_MS = 120_000;
const CTL_MS = 60_000;
const STOP_MS = 60_000;

const log = (line) => process.stderr.write(`[rabbitmq-cluster] ${line}\n`);

class ClusterError extends Error {}
const fail = (message) => {
  throw new ClusterError(message);
};

/** Where Debian keeps the real scripts (/usr/sbin's wrappers switch to the rabbitmq user and lose HOME). */
function tool(name) {
  for (const dir of [process.env.RABBITMQ_SCRIPTS_DIR, '/usr/lib/rabbitmq/bin'].filter(Boolean)) {
    if (existsSync(join(dir, name))) return join(dir, name);
  }
  return name; // on PATH (a generic-unix install)
}

// --- the cluster's layout -------------------------------------------------------------------------------------

function layout(opts) {
  const dir = resolve(opts.dir);
  const nodes = [];
  for (let i = 1; i <= opts.nodes; i++) {
    const nodeDir = join(dir, `node${i}`);
    nodes.push({
      index: i,
      name:
        opts.names?.[i - 1] ??
        (opts.basePort === DEFAULT_BASE_PORT ? `warren${i}@localhost` : `warren${i}-${opts.basePort}@localhost`),
      amqpPort: opts.basePort + i,
      managementPort: opts.basePort + 10_000 + i,
      distPort: opts.basePort + 20_000 + i,
      dir: nodeDir,
      pidFile: join(nodeDir, 'rabbitmq.pid'),
      shellPidFile: join(nodeDir, 'rabbitmq-server.pid'),
      startupLog: join(nodeDir, 'log', 'startup.log'),
    });
  }
  return { dir, home: join(dir, 'home'), nodes };
}

const amqpUrl = (n) => `amqp://guest:guest@127.0.0.1:${n.amqpPort}`;
const managementUrl = (n) => `http://guest:guest@127.0.0.1:${n.managementPort}`;

function checkPorts(cluster) {
  for (const n of cluster.nodes) {
    for (const [what, port] of [
      ['AMQP', n.amqpPort],
      ['management', n.managementPort],
      ['distribution', n.distPort],
    ]) {
      if (!Number.isInteger(port) || port < 1024 || port >= EPHEMERAL_FROM)
        fail(
          `${n.name}: ${what} port ${port} is outside 1024-${EPHEMERAL_FROM - 1} (ports from ${EPHEMERAL_FROM} up are where tests ask the OS for free ones); choose another --base-port`,
        );
      if (RESERVED.includes(port))
        fail(
          `${n.name}: ${what} port ${port} is one a RabbitMQ on this machine uses (${RESERVED.join(', ')}); choose another --base-port`,
        );
    }
  }
}

/**
 * The node names registered with epmd on this machine (its NAMES_REQ: one byte 110 after a 2-byte length; the
 * answer is epmd's port, 4 bytes, then one "name <name> at port <port>" line per node). Empty when no epmd runs.
 */
function epmdNames() {
  return new Promise((res) => {
    const socket = connect(4369, '127.0.0.1');
    let data = Buffer.alloc(0);
    socket.setTimeout(5000, () => socket.destroy());
    socket.on('connect', () => socket.write(Buffer.from([0, 1, 110])));
    socket.on('data', (d) => (data = Buffer.concat([data, d])));
    socket.on('error', () => res([]));
    socket.on('close', () =>
      res(
        [
          ...data
            .subarray(4)
            .toString('latin1')
            .matchAll(/^name (\S+) at port \d+$/gm),
        ].map((m) => m[1]),
      ),
    );
  });
}

function portFree(port) {
  return new Promise((res) => {
    const srv = createServer();
    srv.once('error', () => res(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => res(true)));
  });
}

function saveState(cluster, opts) {
  const state = { nodes: opts.nodes, basePort: opts.basePort, names: cluster.nodes.map((n) => n.name) };
  writeFileSync(join(cluster.dir, 'cluster.json'), `${JSON.stringify(state, null, 2)}\n`);
}

/** The cluster `start` made in DIR: its node count and ports. */
function loadCluster(opts) {
  const file = join(resolve(opts.dir), 'cluster.json');
  if (!existsSync(file) || !existsSync(join(resolve(opts.dir), 'home', '.erlang.cookie')))
    fail(
      `no cluster was started in ${resolve(opts.dir)} (${file} or its cookie is missing); run start, or give the --dir it was started with`,
    );
  const saved = JSON.parse(readFileSync(file, 'utf8'));
  // a cluster.json without names is from before names followed the base port: its nodes are warren<i>@localhost
  const names = saved.names ?? Array.from({ length: saved.nodes }, (_, i) => `warren${i + 1}@localhost`);
  return layout({ ...opts, nodes: saved.nodes, basePort: saved.basePort, names });
}

function nodeEnv(cluster, n) {
  return {
    ...process.env,
    HOME: cluster.home, // the shared cookie: HOME/.erlang.cookie
    RABBITMQ_CONF_ENV_FILE: join(n.dir, 'rabbitmq-env.conf'), // empty: not /etc/rabbitmq/rabbitmq-env.conf
    RABBITMQ_NODENAME: n.name,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(n.amqpPort),
    RABBITMQ_DIST_PORT: String(n.distPort),
    RABBITMQ_MNESIA_BASE: join(n.dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(n.dir, 'log'),
    RABBITMQ_CONFIG_FILE: join(n.dir, 'rabbitmq.conf'),
    RABBITMQ_CONFIG_FILES: join(n.dir, 'conf.d'), // empty: not /etc/rabbitmq/conf.d
    RABBITMQ_ADVANCED_CONFIG_FILE: join(n.dir, 'advanced.config'), // absent
    RABBITMQ_ENABLED_PLUGINS_FILE: join(n.dir, 'enabled_plugins'),
    RABBITMQ_PID_FILE: n.pidFile,
    // the distribution listener on loopback only, as the AMQP and management listeners
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
  };
}

/** The env of a CLI call: the shared cookie, no /etc/rabbitmq/rabbitmq-env.conf. */
function ctlEnv(cluster) {
  return {
    ...process.env,
    HOME: cluster.home,
    RABBITMQ_CONF_ENV_FILE: join(cluster.dir, 'rabbitmq-env.conf'),
    ERL_CRASH_DUMP: join(cluster.dir, 'erl_crash.dump'),
  };
}

function writeNodeFiles(cluster, n) {
  for (const sub of ['mnesia', 'log', 'conf.d']) mkdirSync(join(n.dir, sub), { recursive: true });
  writeFileSync(join(n.dir, 'rabbitmq-env.conf'), '');
  writeFileSync(join(n.dir, 'enabled_plugins'), '[rabbitmq_management].\n');
  writeFileSync(
    join(n.dir, 'rabbitmq.conf'),
    [
      `# ${n.name}, written by tools/scripts/rabbitmq-cluster.mjs`,
      `listeners.tcp.1 = 127.0.0.1:${n.amqpPort}`,
      `management.tcp.ip = 127.0.0.1`,
      `management.tcp.port = ${n.managementPort}`,
      // a lost node is noticed within seconds, not the default minute (tests stop nodes on purpose)
      'net_ticktime = 10',
      '',
    ].join('\n'),
  );
}

function ensureCookie(cluster) {
  mkdirSync(cluster.home, { recursive: true });
  const cookie = join(cluster.home, '.erlang.cookie');
  if (!existsSync(cookie)) writeFileSync(cookie, randomBytes(20).toString('hex').toUpperCase(), { mode: 0o400 });
  writeFileSync(join(cluster.dir, 'rabbitmq-env.conf'), '');
}

// --- running things -------------------------------------------------------------------------------------------

/** Runs a CLI tool with a time limit; resolves { ok, out } (stdout and stderr together). */
function runTool(cluster, name, args, timeoutMs = CTL_MS) {
  return new Promise((res) => {
    execFile(
      tool(name),
      args,
      {
        env: ctlEnv(cluster),
        cwd: cluster.dir,
        timeout: timeoutMs,
        killSignal: 'SIGKILL',
        maxBuffer: 16 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        const out = `${stdout}${stderr}`.trim();
        if (err && err.code === 'ENOENT')
          res({ ok: false, out: `${name} is not installed (Debian: apt-get install rabbitmq-server)` });
        else if (err && err.killed)
          res({
            ok: false,
            out: `${name} ${args.join(' ')} did not finish within ${timeoutMs / 1000} s${out ? `; it printed:\n${out}` : ''}`,
          });
        else res({ ok: !err, out });
      },
    );
  });
}

/** rabbitmqctl against one node; fails naming the node and what rabbitmqctl printed. */
async function ctl(cluster, n, args, timeoutMs = CTL_MS) {
  const r = await runTool(cluster, 'rabbitmqctl', ['-n', n.name, ...args], timeoutMs);
  if (!r.ok) fail(`${n.name}: rabbitmqctl ${args.join(' ')} failed:\n${indent(r.out)}`);
  return r.out;
}

const indent = (text) =>
  (text || '(no output)')
    .split('\n')
    .slice(-30)
    .map((l) => `    ${l}`)
    .join('\n');
const tail = (file) =>
  existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').slice(-30).join('\n') : `(${file} does not exist)`;

async function until(what, check, timeoutMs, everyMs = 500) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      if (err instanceof ClusterError) throw err;
      last = err;
    }
    if (Date.now() > deadline)
      fail(`${what}: not within ${timeoutMs / 1000} s${last ? ` (last: ${last.message})` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

const alive = (pid) => {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
};
const readPid = (file) => (existsSync(file) ? Number(readFileSync(file, 'utf8').trim()) || undefined : undefined);
/** The process still is the one started for this node (a PID may be reused once it is gone). */
const isNodeProcess = (pid, n) => {
  try {
    return alive(pid) && readFileSync(`/proc/${pid}/environ`, 'utf8').includes(`RABBITMQ_NODENAME=${n.name}`);
  } catch {
    return alive(pid);
  }
};

async function pingNode(cluster, n) {
  return (await runTool(cluster, 'rabbitmq-diagnostics', ['-n', n.name, '-q', 'ping', '-t', '5'], 15_000)).ok;
}

/** Starts one node's rabbitmq-server in the background and waits until RabbitMQ has booted on it. */
async function bootNode(cluster, n) {
  if (await pingNode(cluster, n)) fail(`${n.name} is already running (stop it first: stop-node ${n.index}, or stop)`);
  if ((await epmdNames()).includes(n.name.split('@')[0]))
    fail(
      `${n.name}: a node of that name already runs on this machine (epmd lists it) and does not answer with the cookie in ${cluster.home}: another cluster's? Stop it with the --dir it was started with, or give this one another --base-port`,
    );
  for (const [what, port] of [
    ['AMQP', n.amqpPort],
    ['management', n.managementPort],
    ['distribution', n.distPort],
  ]) {
    if (!(await portFree(port)))
      fail(`${n.name}: its ${what} port ${port} on 127.0.0.1 is taken by another process; choose another --base-port`);
  }
  rmSync(n.pidFile, { force: true });
  const out = openSync(n.startupLog, 'a');
  const child = spawn(tool('rabbitmq-server'), [], {
    env: nodeEnv(cluster, n),
    cwd: n.dir,
    detached: true,
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  let exited;
  child.on('exit', (code, signal) => (exited = signal ?? code));
  child.on('error', (err) => (exited = err.message));
  child.unref();
  n.spawned = true;
  writeFileSync(n.shellPidFile, `${child.pid}\n`);
  await until(
    `${n.name} to boot`,
    async () => {
      if (exited !== undefined)
        fail(
          `${n.name}: rabbitmq-server exited (${exited}) while booting; ${n.startupLog}:\n${indent(tail(n.startupLog))}`,
        );
      return (await runTool(cluster, 'rabbitmqctl', ['-n', n.name, '-q', 'await_startup', '-t', '5'], 15_000)).ok;
    },
    BOOT_MS,
  ).catch((err) => {
    throw new ClusterError(`${err.message}; ${n.startupLog}:\n${indent(tail(n.startupLog))}`);
  });
}

/**
 * The nodes `via` lists as running. A node that answers but is still booting ("requires the 'rabbit' app to be
 * running": a node rejoining waits for its peers' tables) fails with a plain Error, which until() retries; it
 * used to fail for good, and a chaos run's node restart with it (the node came up moments later).
 */
async function runningNodes(cluster, via) {
  const r = await runTool(
    cluster,
    'rabbitmqctl',
    ['-n', via.name, '-q', 'cluster_status', '--formatter', 'json'],
    30_000,
  );
  if (!r.ok)
    throw new Error(
      `${via.name}: rabbitmqctl cluster_status failed: ${r.out.split('\n').find((l) => l.trim()) ?? '(no output)'}`,
    );
  return JSON.parse(r.out).running_nodes ?? [];
}

async function waitClustered(cluster) {
  const names = cluster.nodes.map((n) => n.name).sort();
  await until(
    `cluster_status on ${cluster.nodes[0].name} to list ${names.join(', ')} running`,
    async () => {
      const running = (await runningNodes(cluster, cluster.nodes[0])).sort();
      if (JSON.stringify(running) !== JSON.stringify(names))
        throw new Error(`running: ${running.join(', ') || 'none'}`);
      return true;
    },
    BOOT_MS,
  );
}

async function waitManagement(n) {
  await until(
    `${n.name}'s management API on ${n.managementPort}`,
    async () => {
      const res = await fetch(`http://127.0.0.1:${n.managementPort}/api/overview`, {
        headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` },
        signal: globalThis.AbortSignal.timeout(5000),
      });
      if (!res.ok) throw new Error(`answered ${res.status}`);
      return true;
    },
    BOOT_MS,
  );
}

/** Stops one node by name (rabbitmqctl stop waits for its process), then makes sure its processes are gone. */
async function stopNode(cluster, n) {
  const pids = [readPid(n.pidFile), readPid(n.shellPidFile)].filter((pid) => pid && isNodeProcess(pid, n));
  if (await pingNode(cluster, n)) {
    const args = ['-n', n.name, 'stop', ...(existsSync(n.pidFile) ? [n.pidFile] : [])];
    const r = await runTool(cluster, 'rabbitmqctl', args, STOP_MS);
    if (!r.ok)
      log(
        `${n.name}: rabbitmqctl stop failed (${r.out.split('\n').pop()}); sending SIGTERM to ${pids.join(', ') || 'no process'}`,
      );
  }
  const deadline = Date.now() + 30_000;
  let termSent = false;
  for (;;) {
    const left = pids.filter((pid) => isNodeProcess(pid, n));
    if (!left.length) break;
    if (Date.now() > deadline) {
      for (const pid of left) process.kill(pid, 'SIGKILL');
      fail(
        `${n.name}: process ${left.join(', ')} still ran 30 s after rabbitmqctl stop and SIGTERM; killed with SIGKILL`,
      );
    }
    if (!termSent && Date.now() > deadline - 20_000) {
      for (const pid of left) process.kill(pid, 'SIGTERM');
      termSent = true;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  rmSync(n.pidFile, { force: true });
  rmSync(n.shellPidFile, { force: true });
}

function pickNode(cluster, value) {
  const i = Number(value);
  const n = cluster.nodes.find((node) => node.index === i);
  if (!n) fail(`no node ${value}: the cluster in ${cluster.dir} has nodes 1-${cluster.nodes.length}`);
  return n;
}

function printUrls(cluster) {
  process.stdout.write(`RABBITMQ_CLUSTER_URLS=${cluster.nodes.map(amqpUrl).join(',')}\n`);
  process.stdout.write(`RABBITMQ_CLUSTER_MANAGEMENT_URLS=${cluster.nodes.map(managementUrl).join(',')}\n`);
}

// --- commands ---------------------------------------------------------------------------------------------------

async function start(opts) {
  const cluster = layout(opts);
  checkPorts(cluster);
  const started = Date.now();
  mkdirSync(cluster.dir, { recursive: true });
  ensureCookie(cluster);
  for (const n of cluster.nodes)
    if (await pingNode(cluster, n)) fail(`${n.name} is already running (from ${cluster.dir}?); run stop first`);
  // a fresh cluster every time: data left by an earlier one (other members, other queues) would be rejoined
  for (const n of cluster.nodes) rmSync(n.dir, { recursive: true, force: true });
  for (const n of cluster.nodes) writeNodeFiles(cluster, n);
  saveState(cluster, opts);
  log(
    `starting ${cluster.nodes.map((n) => n.name).join(', ')} (AMQP ${cluster.nodes.map((n) => n.amqpPort).join(', ')}) in ${cluster.dir}`,
  );
  try {
    const boots = await Promise.allSettled(cluster.nodes.map((n) => bootNode(cluster, n)));
    const failed = boots.filter((b) => b.status === 'rejected');
    if (failed.length) fail(failed.map((b) => b.reason.message).join('\n'));
    log(
      `${cluster.nodes.length} nodes booted in ${((Date.now() - started) / 1000).toFixed(1)} s; clustering with ${cluster.nodes[0].name}`,
    );
    for (const n of cluster.nodes.slice(1)) {
      await ctl(cluster, n, ['-q', 'stop_app']);
      await ctl(cluster, n, ['-q', 'join_cluster', cluster.nodes[0].name]);
      await ctl(cluster, n, ['-q', 'start_app']);
    }
    await waitClustered(cluster);
    await Promise.all(cluster.nodes.map(waitManagement));
  } catch (err) {
    const spawned = cluster.nodes.filter((n) => n.spawned);
    if (spawned.length) log(`start failed; stopping the nodes it started (${spawned.map((n) => n.name).join(', ')})`);
    for (const n of spawned) await stopNode(cluster, n).catch((e) => log(e.message));
    throw err;
  }
  log(
    `cluster of ${cluster.nodes.length} running in ${((Date.now() - started) / 1000).toFixed(1)} s; management: ${cluster.nodes.map((n) => `http://127.0.0.1:${n.managementPort}`).join(', ')}`,
  );
  printUrls(cluster);
}

async function stop(opts) {
  const cluster = loadCluster(opts);
  // all at once: `start` never reuses this data, so the order nodes leave the cluster in does not matter
  const stopped = await Promise.allSettled(
    cluster.nodes.map((n) => stopNode(cluster, n).then(() => log(`${n.name} stopped`))),
  );
  const problems = stopped.filter((r) => r.status === 'rejected').map((r) => r.reason.message);
  if (problems.length) fail(problems.join('\n'));
}

async function status(opts) {
  const cluster = loadCluster(opts);
  const nodes = [];
  for (const n of cluster.nodes)
    nodes.push({
      index: n.index,
      name: n.name,
      amqpUrl: amqpUrl(n),
      managementUrl: managementUrl(n),
      running: await pingNode(cluster, n),
    });
  const via = cluster.nodes.find((n) => nodes[n.index - 1].running);
  const clustered = via ? await runningNodes(cluster, via).catch(() => []) : [];
  for (const node of nodes) node.clustered = clustered.includes(node.name);
  if (opts.json) process.stdout.write(`${JSON.stringify({ dir: cluster.dir, nodes }, null, 2)}\n`);
  else {
    for (const node of nodes)
      process.stdout.write(
        `${node.name.padEnd(20)} ${node.running ? 'running' : 'stopped'}${node.running && !node.clustered ? ' (not in the cluster)' : ''}  ${node.amqpUrl}  ${node.managementUrl}\n`,
      );
  }
  return nodes.every((node) => node.running && node.clustered) ? 0 : 3;
}

async function startNode(opts, which) {
  const cluster = loadCluster(opts);
  const n = pickNode(cluster, which);
  if (!existsSync(join(n.dir, 'rabbitmq.conf')))
    fail(`${n.name} has no data in ${cluster.dir}: start the cluster first`);
  const started = Date.now();
  await bootNode(cluster, n);
  await until(
    `${n.name} to be listed running by cluster_status`,
    async () => (await runningNodes(cluster, n)).includes(n.name),
    BOOT_MS,
  );
  await waitManagement(n);
  log(`${n.name} running again in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

async function stopOne(opts, which) {
  const cluster = loadCluster(opts);
  const n = pickNode(cluster, which);
  await stopNode(cluster, n);
  log(`${n.name} stopped`);
}

/** The node whose Ra member leads a quorum queue, asked of the running nodes in turn (live, unlike the stats). */
async function leader(opts, queue) {
  const cluster = loadCluster(opts);
  const errors = [];
  for (const n of cluster.nodes) {
    const r = await runTool(
      cluster,
      'rabbitmq-queues',
      ['-n', n.name, '-q', 'quorum_status', queue, '--vhost', opts.vhost, '--formatter', 'json'],
      30_000,
    );
    if (!r.ok) {
      errors.push(`${n.name}: ${r.out.split('\n').find((l) => /error/i.test(l)) ?? r.out.split('\n')[0]}`);
      continue;
    }
    const members = JSON.parse(r.out);
    const lead = members.find((m) => m['Raft State'] === 'leader');
    if (!lead) {
      errors.push(
        `${n.name}: no member of ${queue} is leader (${members.map((m) => `${m['Node Name']} ${m['Raft State']}`).join(', ')})`,
      );
      continue;
    }
    const node = cluster.nodes.find((c) => c.name === lead['Node Name']);
    process.stdout.write(
      `${JSON.stringify({ queue, vhost: opts.vhost, leader: lead['Node Name'], index: node?.index ?? null })}\n`,
    );
    return;
  }
  fail(`no node answered quorum_status for ${queue} in vhost ${opts.vhost}:\n${indent(errors.join('\n'))}`);
}

const USAGE = `usage: node tools/scripts/rabbitmq-cluster.mjs <command> [options]
  start                    start N clustered nodes from empty data; prints RABBITMQ_CLUSTER_URLS=… and
                           RABBITMQ_CLUSTER_MANAGEMENT_URLS=… on stdout
  stop                     stop every node and check their processes are gone
  status [--json]          each node: running, in the cluster, its URLs (exit 3 when one is not)
  stop-node N | start-node N   one node (start-node keeps its data: it rejoins the cluster)
  leader QUEUE [--vhost V] the node that leads quorum queue QUEUE, as JSON {leader, index}
options: --nodes N (3)  --base-port P (5680: node i on P+i, management P+10000+i, distribution P+20000+i)
         --dir DIR (.data/rabbitmq-cluster)`;

async function main() {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        nodes: { type: 'string', default: '3' },
        'base-port': { type: 'string', default: '5680' },
        dir: { type: 'string', default: DEFAULT_DIR },
        vhost: { type: 'string', default: '/' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    console.error(`${err.message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const [command, arg] = positionals;
  const opts = {
    nodes: Number(values.nodes),
    basePort: Number(values['base-port']),
    dir: values.dir,
    vhost: values.vhost,
    json: values.json,
  };
  if (!Number.isInteger(opts.nodes) || opts.nodes < 1 || opts.nodes > 9) {
    console.error(`--nodes must be 1-9, got '${values.nodes}'`);
    return 2;
  }
  if (!Number.isInteger(opts.basePort)) {
    console.error(`--base-port must be a port number, got '${values['base-port']}'`);
    return 2;
  }
  const needsArg = { 'stop-node': 'a node number', 'start-node': 'a node number', leader: 'a queue name' };
  if (needsArg[command] && !arg) {
    console.error(`${command} needs ${needsArg[command]}\n${USAGE}`);
    return 2;
  }
  switch (command) {
    case 'start':
      await start(opts);
      return 0;
    case 'stop':
      await stop(opts);
      return 0;
    case 'status':
      return status(opts);
    case 'stop-node':
      await stopOne(opts, arg);
      return 0;
    case 'start-node':
      await startNode(opts, arg);
      return 0;
    case 'leader':
      await leader(opts, arg);
      return 0;
    default:
      console.error(`${command ? `unknown command '${command}'` : 'no command'}\n${USAGE}`);
      return 2;
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`rabbitmq-cluster: ${err instanceof ClusterError ? err.message : err.stack}`);
    process.exit(1);
  },
);
