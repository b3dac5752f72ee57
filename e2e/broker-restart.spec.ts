// Broker restart: a bundled broker of the suite's own (a process with a data dir) is stopped (SIGTERM) and
// started again on the same port while orders are being placed. The services reconnect, the durable queues
// come back with what they held, the outbox relays what was written meanwhile, and every order settles.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnBroker, type SpawnedBroker } from '../tools/testing/spawn-broker';
import { placeOrder, settled } from './support/orders';
import { brokers, eventually, http, runtime, Stack } from './support/stack';

const bundledHere = runtime() === 'local' && brokers('bundled').length > 0;

(bundledHere ? describe : describe.skip)('broker restart (bundled broker of its own)', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'warren-e2e-broker-'));
  let broker: SpawnedBroker;
  let stack: Stack;

  beforeAll(async () => {
    broker = await spawnBroker({ dataDir });
    stack = new Stack(broker.url, { SAGA_STEP_TIMEOUT_MS: '60000', SAGA_SWEEP_INTERVAL_MS: '500' });
    await stack.start();
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
    await broker?.stop();
    stack?.remove();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const connected = async (url: string): Promise<boolean> => {
    const res = await http('GET', `${url}/health`).catch(() => undefined);
    return res?.status === 200;
  };

  it('settles every order placed before, during and after a restart', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await placeOrder(stack, `before${i}@example.com`, [{ sku: 'SKU-010', quantity: 1 }]));

    const pid = broker.pid;
    await broker.stop('SIGTERM');
    // orders keep being accepted while it is down (written with their outbox rows, relayed when it is back)
    for (let i = 0; i < 5; i++) ids.push(await placeOrder(stack, `during${i}@example.com`, [{ sku: 'SKU-010', quantity: 1 }]));
    await broker.restart(); // starts it again: same port, same data dir
    expect(broker.pid).not.toBe(pid);

    // every service reconnected (its /health includes the broker)
    for (const s of stack.all()) await eventually(`${s.name} to reconnect`, () => connected(s.url).then((ok) => ok || undefined), 30_000, 200);
    for (let i = 0; i < 5; i++) ids.push(await placeOrder(stack, `after${i}@example.com`, [{ sku: 'SKU-010', quantity: 1 }]));

    for (const id of ids) expect((await settled(stack, id, 60_000)).status).toBe('CONFIRMED');
    // nothing lost, nothing doubled: one capture per order
    const captures = ((await http('GET', `${stack.url('payments')}/payments?limit=1000`)).body as Array<{ kind: string; orderId: string }>).filter((e) => e.kind === 'capture' && ids.includes(e.orderId));
    expect(captures.map((c) => c.orderId).sort()).toEqual([...ids].sort());
  });
});
