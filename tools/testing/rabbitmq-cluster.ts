// A RabbitMQ cluster on this machine for the suites that need one: tools/scripts/rabbitmq-cluster.mjs does the
// work (every step bounded in time, failures naming the node); this is its typed face.
//
// When RABBITMQ_CLUSTER_URLS is set (.ci/run starts the cluster before the tests), `RabbitCluster.fromEnv()` and
// `RabbitCluster.start()` attach to that cluster: its nodes are in RABBITMQ_CLUSTER_DIR, else the script's
// default directory. Otherwise `start()` starts one of its own, and `stop()` stops it; on an attached cluster
// `stop()` only starts again the nodes this object stopped, so the next suite finds the whole cluster.
//
// Nodes are numbered from 0 here, as positions in `amqpUrls` and `managementUrls`: node i is the script's node
// i + 1 (warren<i+1>@localhost).
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const SCRIPT = path.join(ROOT, 'tools/scripts/rabbitmq-cluster.mjs');
const DEFAULT_DIR = path.join(ROOT, '.data/rabbitmq-cluster');
/** The script bounds each of its steps; this bounds a whole command (a cold start of three nodes is ~1 min). */
const COMMAND_TIMEOUT_MS = 300_000;

export interface RabbitClusterOptions {
  /** Node count (default 3). */
  nodes?: number;
  /** Node i (from 1) listens on basePort+i, management on basePort+10000+i (default 5680). */
  basePort?: number;
  /** Where the nodes keep their data (default .data/rabbitmq-cluster). */
  dir?: string;
}

export interface NodeStatus {
  index: number;
  name: string;
  amqpUrl: string;
  managementUrl: string;
  running: boolean;
  clustered: boolean;
}

export class RabbitCluster {
  private readonly stopped = new Set<number>();

  private constructor(
    readonly amqpUrls: string[],
    readonly managementUrls: string[],
    readonly dir: string,
    /** Started by this object (stop() stops it), or attached to (stop() leaves it running). */
    private readonly owned: boolean,
  ) {}

  /** Attaches to the cluster named by RABBITMQ_CLUSTER_URLS (and RABBITMQ_CLUSTER_MANAGEMENT_URLS). */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): RabbitCluster {
    const amqp = splitList(env.RABBITMQ_CLUSTER_URLS);
    if (!amqp.length)
      throw new Error(
        'RABBITMQ_CLUSTER_URLS is not set: start a cluster (node tools/scripts/rabbitmq-cluster.mjs start) and export what it prints',
      );
    const management = splitList(env.RABBITMQ_CLUSTER_MANAGEMENT_URLS);
    if (management.length && management.length !== amqp.length)
      throw new Error(
        `RABBITMQ_CLUSTER_URLS names ${amqp.length} nodes, RABBITMQ_CLUSTER_MANAGEMENT_URLS ${management.length}`,
      );
    const dir = path.resolve(env.RABBITMQ_CLUSTER_DIR ?? DEFAULT_DIR);
    checkSameCluster(amqp, dir);
    return new RabbitCluster(amqp, management, dir, false);
  }

  /** The cluster CI started when RABBITMQ_CLUSTER_URLS is set, else a new one (from empty data). */
  static async start(options: RabbitClusterOptions = {}): Promise<RabbitCluster> {
    if (process.env.RABBITMQ_CLUSTER_URLS) return RabbitCluster.fromEnv();
    const dir = path.resolve(options.dir ?? DEFAULT_DIR);
    const args = ['start', '--dir', dir];
    if (options.nodes !== undefined) args.push('--nodes', String(options.nodes));
    if (options.basePort !== undefined) args.push('--base-port', String(options.basePort));
    const printed = parseExports(await script(args));
    return new RabbitCluster(
      splitList(printed.RABBITMQ_CLUSTER_URLS),
      splitList(printed.RABBITMQ_CLUSTER_MANAGEMENT_URLS),
      dir,
      true,
    );
  }

  /** Positions of the nodes this object has not stopped (it stops nodes only through stopNode). */
  runningNodes(): number[] {
    return this.amqpUrls.map((_, i) => i).filter((i) => !this.stopped.has(i));
  }

  /** Positions of the nodes this object stopped and has not started again. */
  stoppedNodes(): number[] {
    return [...this.stopped].sort((a, b) => a - b);
  }

  /** Stops node i (rabbitmqctl stop; its processes are gone when this resolves). */
  async stopNode(i: number): Promise<void> {
    this.checkIndex(i);
    await script(['stop-node', String(i + 1), '--dir', this.dir]);
    this.stopped.add(i);
  }

  /** Starts node i again with its data: it rejoins the cluster; resolves once cluster_status lists it running. */
  async startNode(i: number): Promise<void> {
    this.checkIndex(i);
    await script(['start-node', String(i + 1), '--dir', this.dir]);
    this.stopped.delete(i);
  }

  /** The position of the node that leads quorum queue `queue` now (Ra's view, asked of the running nodes). */
  async leaderOf(queue: string, vhost = '/'): Promise<number> {
    const out = JSON.parse(await script(['leader', queue, '--vhost', vhost, '--dir', this.dir])) as {
      leader: string;
      index: number | null;
    };
    if (out.index === null)
      throw new Error(`the leader of ${queue}, ${out.leader}, is not a node of the cluster in ${this.dir}`);
    return out.index - 1;
  }

  /** Each node as the script sees it now: running, and listed running by the cluster. */
  async status(): Promise<NodeStatus[]> {
    const out = JSON.parse(await script(['status', '--json', '--dir', this.dir], [0, 3])) as { nodes: NodeStatus[] };
    return out.nodes.map((n) => ({ ...n, index: n.index - 1 }));
  }

  /** Stops a cluster this object started; on an attached one, starts again the nodes this object stopped. */
  async stop(): Promise<void> {
    if (this.owned) {
      await script(['stop', '--dir', this.dir]);
      this.stopped.clear();
      return;
    }
    for (const i of this.stoppedNodes()) await this.startNode(i);
  }

  private checkIndex(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.amqpUrls.length)
      throw new Error(`no node ${i}: the cluster has nodes 0-${this.amqpUrls.length - 1}`);
  }
}

function splitList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** KEY=value lines, as `start` prints them. */
function parseExports(out: string): Record<string, string> {
  return Object.fromEntries(
    out
      .split('\n')
      .filter((l) => /^[A-Z_]+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

/** The URLs name the ports of the cluster started in `dir`, so stopNode(i) stops the node behind amqpUrls[i]. */
function checkSameCluster(urls: string[], dir: string): void {
  const file = path.join(dir, 'cluster.json');
  if (!existsSync(file)) return; // no node control here; URLs alone still serve clients (stopNode fails, naming dir)
  const saved = JSON.parse(readFileSync(file, 'utf8')) as { nodes: number; basePort: number };
  const expected = Array.from({ length: saved.nodes }, (_, i) => saved.basePort + i + 1);
  const ports = urls.map((u) => Number(new URL(u).port));
  if (JSON.stringify(ports) !== JSON.stringify(expected)) {
    throw new Error(
      `RABBITMQ_CLUSTER_URLS names ports ${ports.join(', ')}, but the cluster in ${dir} listens on ${expected.join(', ')} (set RABBITMQ_CLUSTER_DIR to the --dir it was started with)`,
    );
  }
}

/** Runs the script; rejects with what it printed unless it exits with one of `okCodes`. */
function script(args: string[], okCodes = [0]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [SCRIPT, ...args],
      { cwd: ROOT, timeout: COMMAND_TIMEOUT_MS, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: number | string }).code ?? 1) : 0;
        if (typeof code === 'number' && okCodes.includes(code)) resolve(stdout);
        else
          reject(
            new Error(
              `rabbitmq-cluster ${args.join(' ')} ${err?.killed ? `did not finish within ${COMMAND_TIMEOUT_MS / 1000} s` : `exited ${code}`}:\n${`${stderr}${stdout}`.trim()}`,
            ),
          );
      },
    );
  });
}
