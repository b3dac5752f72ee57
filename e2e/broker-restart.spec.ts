// Broker restart: the suite's own broker is stopped (SIGTERM) and started again with its data while orders are
// being placed. The services reconnect, the durable queues come back with what they held, the outbox relays
// what was written meanwhile, and every order settles. Local runtime: a bundled broker process of its own
// (a data dir, the same port again). Containers runtime: the stack's broker container on either broker,
// stopped as `docker stop` does and started again.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnBroker, type SpawnedBroker } from '../tools/testing/spawn-broker';
import { placeOrder, settled } from './support/orders';
import { brokers, eventually, http, runtime, Stack, type BrokerTarget } from './support/stack';

const ENV = { SAGA_STEP_TIMEOUT_MS: '60000', SAGA_SWEEP_INTERVAL_MS: '500' };

interface RestartableStack {
  stack: Stack;
  down(): Promise<void>;
  up(): Promise<void>;
  cleanup(): Promise<void>;
}

/** Local runtime: a bundled broker process with a data dir, restarted on the same port. */
async function localStack(): Promise<RestartableStack> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'warren-e2e-broker-'));
  const broker: SpawnedBroker = await spawnBroker({ dataDir });
  const stack = new Stack(broker.url, { ...ENV });
  await stack.start();
  let pid = broker.pid;
  return {
    stack,
    down: () => broker.stop('SIGTERM'),
    up: async () => {
      await broker.restart(); // same port, same data dir
      expect(broker.pid).not.toBe(pid);
      pid = broker.pid;
    },
    cleanup: async () => {
      await stack.stop();
      await broker.stop();
      stack.remove();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Containers runtime: the stack's broker container, stopped and started again. */
async function containerStack(target: BrokerTarget): Promise<RestartableStack> {
  const stack = new Stack(target.amqpUrl, { ...ENV });
  await stack.start();
  const broker = stack.broker;
  if (!broker) throw new Error('the containers runtime should have given the stack a broker of its own');
  return { stack, down: () => broker.pause(), up: () => broker.resume(), cleanup: () => stack.teardown() };
}

const targets: BrokerTarget[] = runtime() === 'containers' ? brokers() : brokers('bundled');

describe.each(targets)('broker restart ($name broker of its own)', (target) => {
  let s: RestartableStack;

  beforeAll(async () => {
    s = runtime() === 'containers' ? await containerStack(target) : await localStack();
  }, 180_000);
  afterAll(() => s?.cleanup());

  const connected = async (url: string): Promise<boolean> => {
    const res = await http('GET', `${url}/health`).catch(() => undefined);
    return res?.status === 200;
  };

  it('settles every order placed before, during and after a restart', async () => {
    const { stack } = s;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push(await placeOrder(stack, `before${i}@example.com`, [{ sku: 'SKU-010', quantity: 1 }]));

    await s.down();
    // orders keep being accepted while it is down (written with their outbox rows, relayed when it is back)
    for (let i = 0; i < 5; i++)
      ids.push(await placeOrder(stack, `during${i}@example.com`, [{ sku: 'SKU-010', quantity: 1 }]));
    await s.up();

    // every service reconnected (its /health includes the broker)
    for (const svc of stack.all())
      await eventually(`${svc.name} to reconnect`, () => connected(svc.url).then((ok) => ok || undefined), 60_000, 200);
    for (let i = 0; i < 5; i++)
      ids.push(await placeOrder(stack, `after${i}@example.com`, [{ sku: 'SKU-010', quantity: 1 }]));

    for (const id of ids) expect((await settled(stack, id, 60_000)).status).toBe('CONFIRMED');
    // nothing lost, nothing doubled: one capture per order
    const captures = (
      (await http('GET', `${stack.url('payments')}/payments?limit=1000`)).body as Array<{
        kind: string;
        orderId: string;
      }>
    ).filter((e) => e.kind === 'capture' && ids.includes(e.orderId));
    expect(captures.map((c) => c.orderId).sort()).toEqual([...ids].sort());
  }, 240_000);
});
