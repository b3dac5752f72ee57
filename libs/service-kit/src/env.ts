import { QUEUE_TYPES, type QueueType } from '@warren/messaging';

export const SQLITE_SYNCHRONOUS = ['full', 'normal'] as const;
export type SqliteSynchronous = (typeof SQLITE_SYNCHRONOUS)[number];

/** The environment every service reads (docs/architecture.md: Ports and environment). */
export interface ServiceEnv {
  /** AMQP_URL, default the bundled broker on localhost; several brokers separated by commas are tried in turn. */
  amqpUrl: string;
  /** MESSAGING_QUEUE_TYPE: the type of every queue the messaging library declares, 'classic' (default) or 'quorum'. */
  messagingQueueType: QueueType;
  /** PORT, else <SERVICE>_PORT, else the service's default port. */
  port: number;
  /** HOST: the address to listen on, default every interface (0.0.0.0); the demo uses 127.0.0.1. */
  host: string;
  /** DATABASE_URL (postgres://…) when set; otherwise the service uses SQLite under .data/. */
  databaseUrl?: string;
  /** Directory for the SQLite file. WARREN_DATA_DIR, default `.data`. */
  dataDir: string;
  /**
   * SQLITE_SYNCHRONOUS: when SQLite syncs its write-ahead log to disk. 'full' (default): at every commit, so a
   * committed transaction survives a power loss. 'normal': at checkpoints only, so a commit costs no disk sync
   * and survives the process being killed, but the last commits may be lost if the machine itself goes down.
   */
  sqliteSynchronous: SqliteSynchronous;
  /**
   * SHUTDOWN_TIMEOUT_MS: how long a graceful shutdown (SIGTERM/SIGINT) may take before the process gives up
   * and exits 1, saying so; default 25000, inside compose's 30 s grace period (docker-compose.yml).
   */
  shutdownTimeoutMs: number;
}

export function readEnv(service: string, defaultPort: number, env: NodeJS.ProcessEnv = process.env): ServiceEnv {
  const portVar = `${service.toUpperCase()}_PORT`;
  const raw = env.PORT ?? env[portVar];
  const port = raw === undefined ? defaultPort : Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`${env.PORT !== undefined ? 'PORT' : portVar} must be a port number (0-65535), got '${raw}'`);
  return {
    amqpUrl: env.AMQP_URL ?? 'amqp://guest:guest@localhost:5672',
    messagingQueueType: queueType(env.MESSAGING_QUEUE_TYPE),
    port,
    host: env.HOST || '0.0.0.0',
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: env.WARREN_DATA_DIR ?? '.data',
    sqliteSynchronous: oneOf(env, 'SQLITE_SYNCHRONOUS', SQLITE_SYNCHRONOUS),
    shutdownTimeoutMs: wholeMs(env, 'SHUTDOWN_TIMEOUT_MS', 25_000),
  };
}

function queueType(raw: string | undefined): QueueType {
  if (raw === undefined || raw === '') return 'classic';
  if ((QUEUE_TYPES as readonly string[]).includes(raw)) return raw as QueueType;
  throw new Error(`MESSAGING_QUEUE_TYPE must be ${QUEUE_TYPES.join(' or ')}, got '${raw}'`);
}

/** The variable's value when it is one of `allowed`, the first of them when unset or empty; otherwise an error naming it. */
function oneOf<T extends string>(env: NodeJS.ProcessEnv, name: string, allowed: readonly T[]): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return allowed[0];
  if ((allowed as readonly string[]).includes(raw)) return raw as T;
  throw new Error(`${name} must be ${allowed.join(' or ')}, got '${raw}'`);
}

function wholeMs(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1)
    throw new Error(`${name} must be a whole number of milliseconds (at least 1), got '${raw}'`);
  return n;
}
