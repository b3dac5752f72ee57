// The connection's name in the broker's management views: the service name by default, or connectionName so
// several instances of one service can be told apart (payments, payments-2). The bundled broker with its
// management API, as the demo runs it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect } from 'amqplib';
import { eventually } from '../../../tools/testing/eventually';
import { Messaging } from '../src';

describe('the connection name', () => {
  let broker: ChildProcess;
  let dataDir: string;
  let amqpUrl: string;
  let managementUrl: string;

  beforeAll(async () => {
    const entry = process.env.WARREN_TEST_BROKER_ENTRY;
    if (!entry)
      throw new Error('WARREN_TEST_BROKER_ENTRY is not set: run through jest -c libs/messaging/jest.config.js');
    dataDir = mkdtempSync(path.join(tmpdir(), 'warren-connection-name-'));
    broker = spawn(
      process.execPath,
      [entry, '--host', '127.0.0.1', '--port', '0', '--management-port', '0', '--data-dir', dataDir],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    broker.stdout!.on('data', (d) => (out += d));
    const [amqpPort, httpPort] = await eventually('the broker and its management API to listen', () => {
      const amqp = /listening on amqp:\/\/[^:]+:(\d+)/.exec(out)?.[1];
      const http = /listening on http:\/\/[^:]+:(\d+) \(management API\)/.exec(out)?.[1];
      return amqp && http ? [amqp, http] : undefined;
    });
    amqpUrl = `amqp://guest:guest@127.0.0.1:${amqpPort}`;
    managementUrl = `http://127.0.0.1:${httpPort}`;
  });
  afterAll(async () => {
    if (broker && broker.exitCode === null) {
      const exited = new Promise((r) => broker.once('exit', r));
      broker.kill('SIGTERM');
      await exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  const names = async (): Promise<string[]> => {
    const res = await fetch(`${managementUrl}/api/connections`, {
      headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` },
    });
    return ((await res.json()) as Array<{ client_properties?: { connection_name?: string } }>).map(
      (c) => c.client_properties?.connection_name ?? '',
    );
  };

  it('is the service name by default and connectionName when given; what is published still names the service', async () => {
    const first = new Messaging({ url: amqpUrl, serviceName: 'payments' });
    const second = new Messaging({ url: amqpUrl, serviceName: 'payments', connectionName: 'payments-2' });
    try {
      await Promise.all([first.start(), second.start()]);
      await eventually('both connections listed', async () => {
        const listed = await names();
        return listed.includes('payments') && listed.includes('payments-2') ? true : undefined;
      });

      const conn = await connect(amqpUrl);
      const ch = await conn.createChannel();
      const { queue } = await ch.assertQueue('', { exclusive: true });
      await second.publish({ exchange: '', routingKey: queue, type: 'test.sent', payload: { n: 1 } });
      const got = await eventually('the message', async () => (await ch.get(queue, { noAck: true })) || undefined);
      expect(got.properties.appId).toBe('payments');
      await conn.close();
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });
});
