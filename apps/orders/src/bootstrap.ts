import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { startService, type StartedService } from '@warren/service-kit';
import { AppModule, ORDERS_SERVICE } from './app.module';

/** OpenAPI at /docs (UI) and /docs-json. Routes are described explicitly: the bundle has no decorator metadata. */
export function configureOrdersApp(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Warren orders')
    .setDescription(
      'Places orders and runs the order saga: reserve stock, capture payment, confirm or cancel with compensations.',
    )
    .setVersion('0.1.0')
    .build();
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, config), { jsonDocumentUrl: 'docs-json' });
}

/** The orders service, started as main.ts and the tests start it: service-kit's startService plus OpenAPI. */
export function startOrders(opts: { logger?: false } = {}): Promise<StartedService> {
  return startService(AppModule, { ...ORDERS_SERVICE, logger: opts.logger, configure: configureOrdersApp });
}
