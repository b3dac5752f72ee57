import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { appLogger, runService } from '@warren/service-kit';
import { readConsoleConfig } from './server/config';
import { ConsoleModule, receiveTraces, serveWeb } from './server/console.module';

runService('console', async () => {
  const config = readConsoleConfig();
  const app = await NestFactory.create<NestExpressApplication>(ConsoleModule.forRoot(config), {
    logger: appLogger('console'),
    abortOnError: false,
    forceCloseConnections: true,
  });
  // forceCloseConnections: open live streams (a browser tab) must not hold the shutdown up
  receiveTraces(app);
  serveWeb(app, config.webDir);
  app.enableShutdownHooks(undefined, { useProcessExit: true });
  await app.listen(config.port, config.host);
  const { port } = app.getHttpServer().address() as { port: number };
  const url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;
  return { app, url, port, close: () => app.close() };
});
