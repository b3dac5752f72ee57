import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { CapturePayment, PaymentCaptured } from '@warren/contracts';
import { Messaging, type IncomingMessage } from '@warren/messaging';
import { topologyNames } from '@warren/service-kit';
import { deleteTopology, recordMessages } from '@warren/messaging/testing';
import { serviceEnvironment, testTargets } from '../../../tools/testing/service-env';
import { eventually } from '../../../tools/testing/eventually';
import { bundleEntry } from '../../../tools/testing/bundle';

const root = path.resolve(__dirname, '../../..');
let buildDir: string;
let entry: string;

// the bundled build, once for the file (npm packages stay external: it must live under the repo to find node_modules)
beforeAll(async () => {
  buildDir = mkdtempSync(path.join(root, 'tmp', 'test-payments-'));
  entry = await bundleEntry('apps/payments/src/main.ts', path.join(buildDir, 'main.js'));
});

afterAll(() => {
  if (buildDir) rmSync(buildDir, { recursive: true, force: true });
});

/** Two payments processes (the bundled build, as deployed) on one queue and one database: competing consumers. */
describe.each(testTargets())('payments, two instances ($name)', (target) => {
  let env: Awaited<ReturnType<typeof serviceEnvironment>>;
  let names: ReturnType<typeof topologyNames>;
  let client: Messaging;
  const instances: Array<{ child: ChildProcess; url: string }> = [];
  let answers: IncomingMessage<{ orderId: string; paymentId: string }>[] = [];

  async function startInstance(instance: string): Promise<{ child: ChildProcess; url: string }> {
    // a little gateway latency widens the window in which the two instances race on one order
    const child = spawn(process.execPath, [entry], {
      env: { ...process.env, PAYMENTS_LATENCY_MS: '20', WARREN_INSTANCE: instance },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const url = await eventually('the instance to listen', () => {
      if (child.exitCode !== null) throw new Error(`payments exited with ${child.exitCode}:\n${output}`);
      return /listening on (http:\/\/[\d.:]+)/.exec(output)?.[1];
    });
    return { child, url };
  }

  beforeAll(async () => {
    env = await serviceEnvironment(target, 'payments');
    names = topologyNames();
    // one first, so the migrations run once; then the second
    instances.push(await startInstance('payments'));
    instances.push(await startInstance('payments-2'));
    client = new Messaging({
      url: target.brokerUrl,
      serviceName: 'payments-test',
      eventsExchange: names.eventsExchange,
      commandsExchange: names.commandsExchange,
    });
    await client.start();
    answers = await recordMessages(client, names.queue('test.payments-answers'), 'payment.#');
  }, 30_000);

  afterAll(async () => {
    await client?.close();
    await Promise.all(
      instances
        .filter(({ child }) => child.exitCode === null)
        .map(async ({ child }) => {
          const exited = once(child, 'exit');
          child.kill('SIGTERM');
          await exited;
        }),
    );
    if (names)
      await deleteTopology(target.brokerUrl, {
        queues: [names.queue('payments.commands'), names.queue('payments.rpc'), names.queue('test.payments-answers')],
        exchanges: [names.eventsExchange, names.commandsExchange],
      });
    await env?.restore();
  });

  const health = async (url: string) => {
    const res = await fetch(`${url}/health`);
    return {
      status: res.status,
      consumed: ((await res.json()) as { details: { broker: { counters: { consumed: number } } } }).details.broker
        .counters.consumed,
    };
  };

  it('shares the work and charges every order once, whichever instance gets each copy of a capture', async () => {
    for (const i of instances) expect((await health(i.url)).status).toBe(200);
    const orders = Array.from({ length: 30 }, (_, n) => ({
      orderId: randomUUID(),
      amount: 1000 + n,
      asksAgain: n % 3 === 0,
    }));
    await Promise.all(
      orders.flatMap((o) => {
        const command = {
          exchange: names.commandsExchange,
          routingKey: CapturePayment.type,
          type: CapturePayment.type,
          payload: { orderId: o.orderId, amount: o.amount, customerEmail: 'ada@example.com' },
          messageId: randomUUID(),
        };
        // every command delivered twice (same message id), and every third order asked for again (a new message)
        return [
          client.publish(command),
          client.publish(command),
          ...(o.asksAgain ? [client.send(CapturePayment, command.payload)] : []),
        ];
      }),
    );
    const expected = orders.length + orders.filter((o) => o.asksAgain).length;
    await eventually(
      `${expected} payment.captured answers`,
      () => (answers.filter((a) => a.type === PaymentCaptured.type).length >= expected ? true : undefined),
      20_000,
    );

    const ledger = (await (await fetch(`${instances[1]!.url}/payments?limit=1000`)).json()) as Array<{
      orderId: string;
      amount: number;
      id: string;
      instance?: string;
    }>;
    expect(ledger).toHaveLength(orders.length);
    // each capture names the instance (WARREN_INSTANCE) that made it, and both made some
    const by = (name: string) => ledger.filter((l) => l.instance === name).length;
    // every capture names the instance that made it; which one wins the race for the two copies of a command
    // is up to the scheduler (both consume: see the health counters below), so no share is asserted here
    expect(by('payments') + by('payments-2')).toBe(orders.length);
    for (const o of orders) {
      const rows = ledger.filter((l) => l.orderId === o.orderId);
      expect(rows).toEqual([expect.objectContaining({ amount: o.amount })]);
      const mine = answers.filter((a) => a.payload.orderId === o.orderId);
      expect(mine).toHaveLength(o.asksAgain ? 2 : 1);
      for (const a of mine) expect(a.payload.paymentId).toBe(rows[0]!.id);
    }
    const consumed = await Promise.all(instances.map((i) => health(i.url)));
    for (const c of consumed) expect(c.consumed).toBeGreaterThan(0);
    expect(consumed.reduce((s, c) => s + c.consumed, 0)).toBeGreaterThanOrEqual(
      orders.length * 2 + orders.filter((o) => o.asksAgain).length,
    );
  });
});
