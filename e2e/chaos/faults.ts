// The chaos run's faults: a plan drawn from the seed before anything starts (so the same seed gives the same
// faults, at the same offsets, on the same targets), and what each fault does to the running platform. Each fault
// undoes itself (a killed process is started again, a cut proxy restored, a paused process continued) after the
// hold the plan gave it; the run waits for every fault to end before it checks anything.
import { execFileSync } from 'node:child_process';
import type { Prng } from '../../tools/testing/prng';

export type FaultKind =
  | 'kill-service'
  | 'pause-service'
  | 'kill-broker'
  | 'stop-node'
  | 'cut-broker'
  | 'cut-redis'
  | 'cut-database'
  | 'restart-redis'
  | 'restart-postgres'
  | 'smtp-outage'
  | 'gateway';

export interface Fault {
  /** Seconds after the load started. */
  at: number;
  kind: FaultKind;
  /** What it hits: a service instance (`payments-2`), `broker`, `node-1`, `redis`, `database`, `smtp`. */
  target: string;
  /** How long the fault lasts before it is undone (0: a one-off change). */
  holdMs: number;
  /** Settings of a gateway change or an SMTP outage. */
  detail?: Record<string, number>;
}

export interface PlanTargets {
  /** Every service instance's label. */
  instances: string[];
  /** Which faults this run's set-up allows (a single RabbitMQ is not killed; SQLite has no connection to cut). */
  kinds: FaultKind[];
  /** The cluster's node count, for stop-node. */
  nodes?: number;
}

/**
 * Faults every 4–12 s from about 5 s in until 5 s before the end, each on a target not already under a fault
 * (with 20 s to recover after its hold). Only the plan's own state decides, so a seed always gives this list.
 */
export function planFaults(prng: Prng, seconds: number, targets: PlanTargets): Fault[] {
  const faults: Fault[] = [];
  const busyUntil = new Map<string, number>();
  const payments = targets.instances.filter((t) => t.startsWith('payments'));
  for (let at = prng.int(4, 8); at < seconds - 5; at += prng.int(4, 12)) {
    const kind = prng.pick(targets.kinds);
    let target: string;
    let holdMs: number;
    let detail: Record<string, number> | undefined;
    switch (kind) {
      case 'kill-service':
        target = prng.pick(targets.instances);
        holdMs = prng.int(500, 8_000);
        break;
      case 'pause-service':
        // past two heartbeats (10 s each): the broker closes the connection and requeues what it held
        target = prng.pick(targets.instances);
        holdMs = prng.int(22_000, 30_000);
        break;
      case 'kill-broker':
      case 'cut-broker':
        target = 'broker';
        holdMs = prng.int(500, kind === 'kill-broker' ? 5_000 : 6_000);
        break;
      case 'stop-node':
        target = `node-${prng.int(0, (targets.nodes ?? 1) - 1)}`;
        holdMs = prng.int(5_000, 15_000);
        break;
      case 'cut-redis':
      case 'restart-redis':
        target = 'redis';
        holdMs = prng.int(500, kind === 'cut-redis' ? 6_000 : 3_000);
        break;
      case 'cut-database':
      case 'restart-postgres':
        target = 'database';
        holdMs = kind === 'cut-database' ? prng.int(500, 6_000) : 0;
        break;
      case 'smtp-outage':
        target = 'smtp';
        holdMs = 0;
        detail = { emails: prng.int(3, 40) };
        break;
      case 'gateway':
        target = prng.pick(payments);
        holdMs = 0;
        detail = {
          failureRate: prng.int(0, 30) / 100,
          declineRate: prng.int(5, 20) / 100,
          latencyMs: prng.int(0, 400),
        };
        break;
    }
    // one fault at a time per target: the broker's kinds share one, as the database's and Redis's do
    if ((busyUntil.get(target) ?? 0) > at) continue;
    busyUntil.set(target, at + holdMs / 1000 + 20);
    faults.push({ at, kind, target, holdMs, ...(detail ? { detail } : {}) });
  }
  return faults;
}

export function describeFault(f: Fault): string {
  const hold = f.holdMs ? ` for ${(f.holdMs / 1000).toFixed(1)} s` : '';
  switch (f.kind) {
    case 'kill-service':
      return `SIGKILL ${f.target}, restart after ${(f.holdMs / 1000).toFixed(1)} s`;
    case 'pause-service':
      return `SIGSTOP ${f.target}${hold}, then SIGCONT`;
    case 'kill-broker':
      return `SIGKILL the bundled broker, restart after ${(f.holdMs / 1000).toFixed(1)} s`;
    case 'stop-node':
      return `stop RabbitMQ ${f.target}${hold}, then start it`;
    case 'cut-broker':
    case 'cut-redis':
    case 'cut-database':
      return `cut every connection to the ${f.kind.slice(4)}${hold} (refusing new ones), then restore`;
    case 'restart-redis':
      return `restart Redis (down${hold})`;
    case 'restart-postgres':
      return 'restart Postgres';
    case 'smtp-outage':
      return `SMTP answers 421 to the next ${f.detail!.emails} emails`;
    case 'gateway':
      return `payment gateway of ${f.target}: failure rate ${f.detail!.failureRate}, decline rate ${f.detail!.declineRate}, latency ${f.detail!.latencyMs} ms`;
  }
}

/** The Postgres cluster that is online, for restart-postgres: `pg_ctlcluster <version> <name> restart`. */
export function postgresCluster(): [string, string] | undefined {
  try {
    const online = execFileSync('pg_lsclusters', ['-h'], { encoding: 'utf8' })
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .find((cols) => cols[3] === 'online');
    return online ? [online[0], online[1]] : undefined;
  } catch {
    return undefined;
  }
}
