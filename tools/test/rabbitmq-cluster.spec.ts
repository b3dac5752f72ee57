// The local RabbitMQ cluster (tools/scripts/rabbitmq-cluster.mjs, tools/testing/rabbitmq-cluster.ts): a quorum
// queue keeps every confirmed message when the node that leads it stops, and the node rejoins when started
// again. On the cluster CI started (RABBITMQ_CLUSTER_URLS), else on one this suite starts (Debian's
// rabbitmq-server installed). The script's refusals need no RabbitMQ at all.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as amqp from 'amqplib';
import { eventually } from '../testing/eventually';
import { RabbitCluster } from '../testing/rabbitmq-cluster';

const ROOT = path.resolve(__dirname, '../..');
const MESSAGES = 200;

function runScript(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(ROOT, 'tools/scripts/rabbitmq-cluster.mjs'), ...args],
      { cwd: ROOT, timeout: 60_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` });
      },
    );
  });
}

describe('rabbitmq-cluster.mjs: what it refuses, before starting anything', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'warren-cluster-args-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses ports a RabbitMQ on this machine uses, naming the node and the port', async () => {
    const r = await runScript(['start', '--base-port', '5671', '--dir', dir]); // node 1's AMQP port would be 5672
    expect(r.code).toBe(1);
    expect(r.out).toContain('warren1-5671@localhost: AMQP port 5672 is one a RabbitMQ on this machine uses');
  });

  it('refuses ports in the range tests take from the OS', async () => {
    const r = await runScript(['start', '--base-port', '20000', '--dir', dir]); // distribution ports 40001…
    expect(r.code).toBe(1);
    expect(r.out).toContain('warren1-20000@localhost: distribution port 40001 is outside 1024-32767');
  });

  it('says where no cluster was started, and which node numbers exist', async () => {
    const none = await runScript(['stop-node', '2', '--dir', dir]);
    expect(none.code).toBe(1);
    expect(none.out).toContain(`no cluster was started in ${dir}`);
    const usage = await runScript(['stop-node', '--dir', dir]);
    expect(usage.code).toBe(2);
    expect(usage.out).toContain('stop-node needs a node number');
  });
});

const clusterAvailable =
  Boolean(process.env.RABBITMQ_CLUSTER_URLS) || existsSync('/usr/lib/rabbitmq/bin/rabbitmq-server');

(clusterAvailable ? describe : describe.skip)('a three-node RabbitMQ cluster on this machine', () => {
  let cluster: RabbitCluster;
  const connections: amqp.ChannelModel[] = [];
  const queue = `warren-cluster-test-${randomUUID()}`;

  async function connect(node: number): Promise<amqp.ChannelModel> {
    const conn = await amqp.connect(cluster.amqpUrls[node]);
    conn.on('error', () => undefined); // the node may be stopped under it; the test checks what arrives
    connections.push(conn);
    return conn;
  }

  beforeAll(async () => {
    const started = Date.now();
    cluster = await RabbitCluster.start();
    process.stdout.write(
      `rabbitmq cluster ready in ${((Date.now() - started) / 1000).toFixed(1)} s (${cluster.amqpUrls.join(', ')})\n`,
    );
  }, 300_000);

  afterAll(async () => {
    for (const conn of connections) await conn.close().catch(() => undefined);
    if (!cluster) return;
    try {
      const conn = await amqp.connect(cluster.amqpUrls[cluster.runningNodes()[0]]);
      await (await conn.createChannel()).deleteQueue(queue);
      await conn.close();
    } finally {
      await cluster.stop();
    }
  }, 300_000);

  it('lists every node running and clustered', async () => {
    const status = await cluster.status();
    expect(status.map((n) => [n.index, n.running, n.clustered])).toEqual([
      [0, true, true],
      [1, true, true],
      [2, true, true],
    ]);
  });

  it('keeps every confirmed message of a quorum queue when its leader stops, and the node rejoins', async () => {
    // declared on node 0, published with confirms on node 1
    const declare = await (await connect(0)).createChannel();
    await declare.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    const publisher = await (await connect(1)).createConfirmChannel();
    const sent = Array.from({ length: MESSAGES }, (_, i) => `m-${i}`);
    for (const id of sent) publisher.sendToQueue(queue, Buffer.from(id), { persistent: true, messageId: id });
    await publisher.waitForConfirms();

    const leader = await cluster.leaderOf(queue);
    await cluster.stopNode(leader);
    expect(cluster.stoppedNodes()).toEqual([leader]);
    const status = await cluster.status();
    expect(status.filter((n) => !n.running).map((n) => n.index)).toEqual([leader]);
    // the two members left elect a new leader among themselves
    const newLeader = await eventually(
      'a new leader',
      async () => {
        const now = await cluster.leaderOf(queue);
        return now !== leader ? now : undefined;
      },
      60_000,
      500,
    );
    expect(cluster.runningNodes()).toContain(newLeader);

    // consumed on a node still running: every message, once
    const consumerNode = cluster.runningNodes()[0];
    const consumer = await (await connect(consumerNode)).createChannel();
    await consumer.prefetch(50);
    const received: string[] = [];
    await consumer.consume(queue, (msg) => {
      if (!msg) return;
      received.push(msg.properties.messageId as string);
      consumer.ack(msg);
    });
    await eventually(
      `${MESSAGES} messages on node ${consumerNode}`,
      () => (received.length >= MESSAGES ? true : undefined),
      60_000,
      100,
    );
    expect([...received].sort()).toEqual([...sent].sort());

    // back with its data: in the cluster again, and a member of the queue (leaderOf answers from any node)
    await cluster.startNode(leader);
    expect(cluster.stoppedNodes()).toEqual([]);
    expect((await cluster.status()).every((n) => n.running && n.clustered)).toBe(true);
    const checked = await (await (await connect(leader)).createChannel()).checkQueue(queue);
    expect(checked.messageCount).toBe(0);
  }, 300_000);
});
