import * as P from '@warren/amqp-protocol';
import * as amqp from 'amqplib';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccessControl } from '../../src/access/access-control';
import { parseDefinitions } from '../../src/access/definitions-file';
import { RunningBroker, startBroker } from '../../src/testing';
import { RawClient } from '../support/raw-client';

/** The handshake as `user` into `vhost`; resolves with the connection.close the server sent, if any. */
async function refusal(
  port: number,
  user: string,
  password: string,
  vhost: string,
): Promise<P.ConnectionCloseArgs | undefined> {
  const client = await RawClient.connect(port);
  try {
    return await client.login({ user, password, vhost });
  } finally {
    client.close();
  }
}

describe('virtual hosts and who may open them', () => {
  let broker: RunningBroker;
  const url = (user: string, vhost: string) => `amqp://${user}@127.0.0.1:${broker.port}/${encodeURIComponent(vhost)}`;

  beforeAll(async () => {
    const access = AccessControl.withDefaults();
    access.addVhost('shop');
    access.putUser('clerk', { password: 'pw' }, []);
    access.setPermission('shop', 'clerk', { configure: '.*', write: '.*', read: '.*' });
    access.setPermission('shop', 'guest', { configure: '.*', write: '.*', read: '.*' });
    broker = await startBroker({ access });
  });
  afterAll(() => broker.close());

  it('keeps each vhost its own: the same queue name holds different messages in each', async () => {
    const a = await amqp.connect(url('guest:guest', '/'));
    const b = await amqp.connect(url('clerk:pw', 'shop'));
    const ca = await a.createChannel();
    const cb = await b.createChannel();
    await ca.assertQueue('vh-same', { exclusive: true });
    await cb.assertQueue('vh-same', { exclusive: true }); // no 405: it is another queue
    ca.sendToQueue('vh-same', Buffer.from('root'));
    cb.sendToQueue('vh-same', Buffer.from('shop'));
    await cb.assertExchange('amq.topic', 'topic'); // every vhost has its amq.* exchanges
    expect(((await ca.get('vh-same', { noAck: true })) || undefined)?.content.toString()).toBe('root');
    expect(((await cb.get('vh-same', { noAck: true })) || undefined)?.content.toString()).toBe('shop');
    await a.close();
    await b.close();
  });

  it('refuses a vhost the user has no permission in with 530, as RabbitMQ', async () => {
    expect(await refusal(broker.port, 'clerk', 'pw', '/')).toMatchObject({
      replyCode: 530,
      replyText: "NOT_ALLOWED - access to vhost '/' refused for user 'clerk'",
    });
    expect(await refusal(broker.port, 'clerk', 'pw', 'shop')).toBeUndefined();
  });

  it('refuses a vhost that does not exist with 530', async () => {
    expect(await refusal(broker.port, 'guest', 'guest', 'nowhere')).toMatchObject({
      replyCode: 530,
      replyText: 'NOT_ALLOWED - vhost nowhere not found',
    });
  });

  it('refuses a wrong password with 403 (authentication_failure_close)', async () => {
    expect(await refusal(broker.port, 'clerk', 'wrong', 'shop')).toMatchObject({
      replyCode: 403,
      replyText:
        'ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN. For details see the broker logfile.',
    });
  });
});

describe('definitions at start', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'warren-defs-'));
  // exported by RabbitMQ 3.10.8 (user warren-hash-probe, password s3cret), plus a topology in vhost 'shop'
  const definitions = parseDefinitions({
    users: [
      {
        name: 'warren-hash-probe',
        password_hash: 'J+5hdQ/CE1WIp5F5vYBC3e3BG1wUBA30nI8LHt9LaIs6zoGg',
        hashing_algorithm: 'rabbit_password_hashing_sha256',
        tags: ['monitoring'],
      },
    ],
    vhosts: [{ name: '/' }, { name: 'shop' }],
    permissions: [{ user: 'warren-hash-probe', vhost: 'shop', configure: '.*', write: '.*', read: '.*' }],
    exchanges: [
      {
        name: 'shop.events',
        vhost: 'shop',
        type: 'topic',
        durable: true,
        auto_delete: false,
        internal: false,
        arguments: {},
      },
    ],
    queues: [
      { name: 'shop.orders', vhost: 'shop', durable: true, auto_delete: false, arguments: { 'x-max-length': 10 } },
    ],
    bindings: [
      {
        source: 'shop.events',
        vhost: 'shop',
        destination: 'shop.orders',
        destination_type: 'queue',
        routing_key: 'order.*',
        arguments: {},
      },
    ],
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('loads users exported by RabbitMQ and declares the topology; durable messages in a vhost survive a restart', async () => {
    let broker = await startBroker({ dataDir, definitions });
    const url = `amqp://warren-hash-probe:s3cret@127.0.0.1:${broker.port}/shop`;
    let conn = await amqp.connect(url);
    const ch = await conn.createConfirmChannel();
    // declared as the definitions say: an equivalent declare is accepted, a different one is 406
    await ch.assertQueue('shop.orders', { durable: true, arguments: { 'x-max-length': { '!': 'long', value: 10 } } });
    ch.publish('shop.events', 'order.placed', Buffer.from('kept'), { persistent: true });
    await ch.waitForConfirms();
    await conn.close();
    await broker.close();

    broker = await startBroker({ dataDir, port: broker.port, definitions });
    conn = await amqp.connect(url);
    const again = await conn.createChannel();
    expect(((await again.get('shop.orders', { noAck: true })) || undefined)?.content.toString()).toBe('kept');
    await conn.close();
    await broker.close();
  });
});
