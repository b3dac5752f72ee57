import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { startOrders } from './bootstrap';

startOrders().then(
  ({ url }) => new Logger('Orders').log(`orders listening on ${url} (OpenAPI at ${url}/docs)`),
  (err: Error) => {
    new Logger('Orders').error(`orders failed to start: ${err.stack ?? err.message}`);
    process.exit(1);
  },
);
