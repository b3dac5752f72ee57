import './instrument'; // first: see instrument.ts
import 'reflect-metadata';
import { runService } from '@warren/service-kit';
import { startOrders } from './bootstrap';

runService(
  'orders',
  () => startOrders(),
  ({ url }) => `(OpenAPI at ${url}/docs)`,
);
