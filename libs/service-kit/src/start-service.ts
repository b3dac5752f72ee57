import type { INestApplication, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MessagingServer } from '@warren/messaging/nest';
import { Logger as PinoLogger } from 'nestjs-pino';
import { readEnv } from './env';

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
  const quiet = opts.logger === false;
  // Nest's own lines (and every `new Logger(...)`) go through pino once the app exists: JSON lines, or pretty
  // text on a terminal (logging.ts); what is logged before that is buffered and replayed through it.
  const app = await NestFactory.create(module, { logger: quiet ? false : undefined, bufferLogs: !quiet, abortOnError: false });
  if (!quiet) app.useLogger(app.get(PinoLogger));
  app.enableShutdownHooks();
  await opts.configure?.(app);
  app.connectMicroservice({ strategy: app.get(MessagingServer) }, { inheritAppConfig: true });
  await app.startAllMicroservices();
  const host = opts.host ?? env.host;
  await app.listen(env.port, host);
  const address = app.getHttpServer().address() as { port: number };
  return { app, url: `http://${reachable(host)}:${address.port}`, port: address.port, close: () => app.close() };
}

/** Where a client on this machine reaches a server listening on `host`: loopback for the wildcard addresses. */
function reachable(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
