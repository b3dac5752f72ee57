import { Logger, type INestApplication, type Type } from '@nestjs/common';
import { hostname } from 'node:os';
import { pino } from 'pino';
import { NestFactory } from '@nestjs/core';
import { MessagingServer } from '@warren/messaging/nest';
import { appLogger } from './logging';
import { readEnv } from './env';
import { installMetrics } from './telemetry';

export interface StartedService {
  app: INestApplication;
  /** http://127.0.0.1:<port> (or the HOST it listens on, when that is not every interface) */
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Creates the HTTP app, attaches the messaging transport (inheriting the app's interceptors, so handlers'
 * errors reach the retry and DLQ path unchanged), starts both and listens. SIGTERM/SIGINT shut down
 * gracefully: stop consuming, finish in-flight handlers, flush the outbox, close connections.
 */
export interface StartServiceOptions {
  name: string;
  defaultPort: number;
  /** Overrides HOST (and its default, 0.0.0.0). */
  host?: string;
  logger?: false;
  /** Runs before the app starts and listens: OpenAPI, global pipes, middleware. */
  configure?: (app: INestApplication) => void | Promise<void>;
}

export async function startService(module: Type<unknown>, opts: StartServiceOptions): Promise<StartedService> {
  const env = readEnv(opts.name, opts.defaultPort);
  // Nest's own lines and every `new Logger(...)` go through pino from the first one on, a failed start
  // included: JSON lines, or pretty text on a terminal (logging.ts). A malformed LOG_* setting fails here.
  const logger = opts.logger === false ? false : appLogger(opts.name);
  // Before any provider exists: a meter taken from the API while no MeterProvider is registered stays a no-op.
  // A no-op when instrument.ts installed it already.
  installMetrics(opts.name);
  const app = await NestFactory.create(module, { logger, abortOnError: false });
  // process.exit() after the hooks, not a re-raised signal: pino flushes on 'exit' (so the last lines reach the
  // log), and node as PID 1 in a container without an init would ignore its own SIGTERM
  app.enableShutdownHooks(undefined, { useProcessExit: true });
  guardShutdown(opts.name, env.shutdownTimeoutMs);
  await opts.configure?.(app);
  app.connectMicroservice({ strategy: app.get(MessagingServer) }, { inheritAppConfig: true });
  await app.startAllMicroservices();
  const host = opts.host ?? env.host;
  await app.listen(env.port, host);
  const address = app.getHttpServer().address() as { port: number };
  return { app, url: `http://${reachable(host)}:${address.port}`, port: address.port, close: () => app.close() };
}

/**
 * A graceful shutdown waits for in-flight handlers, the outbox's last flush and the broker's goodbyes, each
 * bounded; this bounds the whole: if the process is still alive `timeoutMs` after SIGTERM/SIGINT, it says so
 * and exits 1 (rather than being SIGKILLed by its supervisor without a word). Unacked messages are redelivered.
 */
let shutdownGuarded = false;
function guardShutdown(name: string, timeoutMs: number): void {
  if (shutdownGuarded) return; // one per process (tests start many apps in one)
  shutdownGuarded = true;
  const arm = (signal: NodeJS.Signals) =>
    setTimeout(() => {
      new Logger(name).error(
        `shutdown after ${signal} did not finish within ${timeoutMs} ms (SHUTDOWN_TIMEOUT_MS); exiting`,
      );
      process.exit(1);
    }, timeoutMs).unref();
  process.once('SIGTERM', arm).once('SIGINT', arm);
}

/** Where a client on this machine reaches a server listening on `host`: loopback for the wildcard addresses. */
function reachable(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * A service's main.ts: starts it and logs where it listens (`note` adds to that line), or logs why it could
 * not start, as a JSON line like every other (the app's logger may not exist yet), and exits 1.
 */
export function runService(
  name: string,
  start: () => Promise<StartedService>,
  note?: (s: StartedService) => string,
): void {
  start().then(
    (s) => new Logger(name).log(`${name} listening on ${s.url}${note ? ` ${note(s)}` : ''}`),
    (err: Error) => {
      pino({ base: { service: name, pid: process.pid, hostname: hostname() } }).fatal(
        { err },
        `${name} failed to start: ${err.message}`,
      );
      process.exit(1);
    },
  );
}
