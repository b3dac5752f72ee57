import { eventually } from '../../../../tools/testing/eventually';
import { deleteTopology } from '../../src/testing';
import { uniqueName as uniqueNameIn } from '../../../../tools/testing/topology';

export interface TestBroker {
  name: 'bundled' | 'rabbitmq';
  url: string;
}

/** The brokers every pattern is proven on: the bundled one always, RabbitMQ when RABBITMQ_URL is set. */
export function testBrokers(): TestBroker[] {
  const bundled = process.env.WARREN_TEST_BROKER_URL;
  if (!bundled)
    throw new Error('WARREN_TEST_BROKER_URL is not set: run the tests through jest -c libs/messaging/jest.config.js');
  const list: TestBroker[] = [{ name: 'bundled', url: bundled }];
  if (process.env.RABBITMQ_URL) list.push({ name: 'rabbitmq', url: process.env.RABBITMQ_URL });
  return list;
}

/** A name no other test (or earlier run) uses: every test declares its own exchanges and queues. */
export function uniqueName(prefix: string): string {
  return uniqueNameIn(`test.${prefix}`);
}

/** Deletes what a test declared (queues with their retry and DLQ companions, exchanges). */
export const cleanup = deleteTopology;

export { eventually };
