// The console's server in a test: on a free loopback port, every upstream it reads pointed at a port nothing
// listens on (so each is `unreachable`) unless the test gives it one; and a browser's EventSource on its live
// stream, as fetch.
import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { freePort } from '../../../../tools/testing/ports';
import { takeSseEvents } from '../../../../tools/testing/sse';
import { readConsoleConfig, type ConsoleConfig } from '../../src/server/config';
import { ConsoleModule, receiveTraces } from '../../src/server/console.module';

/** http://127.0.0.1:<a port nothing listens on> (free when asked; nobody in the test binds it). */
export const closedUrl = async (): Promise<string> => `http://127.0.0.1:${await freePort()}`;

export interface TestConsole {
  app: INestApplication;
  /** http://127.0.0.1:<port> */
  base: string;
  config: ConsoleConfig;
  close(): Promise<void>;
}

/** The console's server with `env` over settings that point every HTTP upstream at one closed port. */
export async function startConsole(
  env: NodeJS.ProcessEnv = {},
  prepare?: (app: NestExpressApplication, config: ConsoleConfig) => void,
): Promise<TestConsole> {
  const down = await closedUrl();
  const config = readConsoleConfig({
    CONSOLE_PORT: '0',
    HOST: '127.0.0.1',
    AMQP_MANAGEMENT_URL: down,
    ORDERS_URL: down,
    PAYMENTS_URL: down,
    INVENTORY_URL: down,
    NOTIFICATIONS_URL: down,
    ANALYTICS_URL: down,
    MAIL_URL: down,
    ...env,
  });
  const app = await NestFactory.create<NestExpressApplication>(ConsoleModule.forRoot(config), { logger: false });
  receiveTraces(app);
  prepare?.(app, config);
  await app.listen(0, '127.0.0.1');
  return {
    app,
    config,
    base: `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`,
    close: () => app.close(),
  };
}

export interface StreamClient {
  /** Every event so far, in order, its data parsed. */
  events: Array<{ type: string; data: any }>;
  close(): void;
}

/** A browser's EventSource on GET /api/stream: parses `event:` / `data:` frames as they arrive. */
export async function listen(base: string): Promise<StreamClient> {
  const abort = new AbortController();
  const res = await fetch(`${base}/api/stream`, { headers: { accept: 'text/event-stream' }, signal: abort.signal });
  if (!res.headers.get('content-type')?.startsWith('text/event-stream'))
    throw new Error(`GET /api/stream answered ${res.status} ${res.headers.get('content-type')}`);
  const client: StreamClient = { events: [], close: () => abort.abort() };
  void (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        const { events, rest } = takeSseEvents(buffer + decoder.decode(chunk, { stream: true }));
        buffer = rest;
        for (const e of events) client.events.push({ type: e.type, data: JSON.parse(e.data) });
      }
    } catch {
      // aborted by close()
    }
  })();
  return client;
}
