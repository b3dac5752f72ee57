// The console's graph from the management API: first from documents shaped as both brokers serve them, then
// from a live bundled broker (and RabbitMQ, when RABBITMQ_MANAGEMENT_URL is set) with a real work queue, its
// retry and dead-letter companions and a consumer, so the shapes are the brokers' own, not remembered ones.
import { randomBytes } from 'node:crypto';
import { connect, type ChannelModel } from 'amqplib';
import { ZodError } from 'zod';
import { getJson } from '../src/server/shared-source';
import { buildTopology, type ManagementSnapshot } from '../src/server/topology';
import { eventually } from '../../../tools/testing/eventually';
import { startBroker, type LiveBroker } from './support/broker';

const stats = (publish: number, deliver = 0) => ({
  publish_details: { rate: publish },
  deliver_get_details: { rate: deliver },
  ack_details: { rate: deliver },
});

const snapshot: ManagementSnapshot = {
  exchanges: [
    { name: '', vhost: '/', type: 'direct' },
    { name: 'amq.direct', vhost: '/', type: 'direct' },
    { name: 'warren.events', vhost: '/', type: 'topic', message_stats: { publish_in_details: { rate: 12.5 } } },
    { name: 'warren.commands', vhost: '/', type: 'topic', extra_field_from_one_broker: true },
    { name: 'elsewhere', vhost: 'other', type: 'fanout' },
  ],
  queues: [
    {
      name: 'payments.commands',
      vhost: '/',
      messages_ready: 3,
      messages_unacknowledged: 2,
      consumers: 2,
      message_stats: stats(4, 3.5),
    },
    { name: 'payments.commands.retry.2', vhost: '/', messages_ready: 1, messages_unacknowledged: 0, consumers: 0 },
    { name: 'payments.commands.retry.1', vhost: '/', messages_ready: 0, messages_unacknowledged: 0, consumers: 0 },
    { name: 'payments.commands.dlq', vhost: '/', messages_ready: 7, messages_unacknowledged: 0, consumers: 0 },
    {
      name: 'notifications.order-events',
      vhost: '/',
      messages_ready: 0,
      messages_unacknowledged: 1,
      consumers: 1,
      message_stats: stats(2, 2),
    },
    { name: 'orphan.dlq', vhost: '/', messages_ready: 0, consumers: 0 },
  ],
  bindings: [
    {
      source: '',
      vhost: '/',
      destination: 'payments.commands',
      destination_type: 'queue',
      routing_key: 'payments.commands',
    },
    {
      source: 'warren.commands',
      vhost: '/',
      destination: 'payments.commands',
      destination_type: 'queue',
      routing_key: 'payment.capture',
    },
    {
      source: 'warren.commands',
      vhost: '/',
      destination: 'payments.commands',
      destination_type: 'queue',
      routing_key: 'payment.refund',
    },
    {
      source: 'warren.events',
      vhost: '/',
      destination: 'notifications.order-events',
      destination_type: 'queue',
      routing_key: 'order.#',
    },
  ],
  consumers: [
    {
      queue: { name: 'payments.commands', vhost: '/' },
      consumer_tag: 'ctag-1',
      channel_details: { connection_name: '127.0.0.1:50001 -> 127.0.0.1:5672' },
    },
    {
      queue: { name: 'payments.commands', vhost: '/' },
      consumer_tag: 'ctag-2',
      channel_details: { connection_name: '127.0.0.1:50002 -> 127.0.0.1:5672' },
    },
    {
      queue: { name: 'notifications.order-events', vhost: '/' },
      consumer_tag: 'ctag-3',
      channel_details: { connection_name: '127.0.0.1:50003 -> 127.0.0.1:5672' },
    },
  ],
  connections: [
    { name: '127.0.0.1:50001 -> 127.0.0.1:5672', client_properties: { connection_name: 'payments' } },
    { name: '127.0.0.1:50002 -> 127.0.0.1:5672', client_properties: { connection_name: 'payments' } },
    { name: '127.0.0.1:50003 -> 127.0.0.1:5672', client_properties: {} },
  ],
};

describe('buildTopology', () => {
  const t = buildTopology(snapshot);

  it('draws the named exchanges that route or are used, not the default one nor unused amq.* ones, nor other vhosts', () => {
    expect(t.exchanges.map((e) => e.name).sort()).toEqual(['warren.commands', 'warren.events']);
    expect(t.exchanges.find((e) => e.name === 'warren.events')?.publishRate).toBe(12.5);
  });

  it('groups retry and dead-letter queues with their work queue, in order, and marks each role', () => {
    expect(t.groups).toEqual([
      {
        id: 'payments.commands',
        queues: [
          'payments.commands',
          'payments.commands.retry.1',
          'payments.commands.retry.2',
          'payments.commands.dlq',
        ],
      },
    ]);
    const role = (n: string) => t.queues.find((q) => q.name === n)?.role;
    expect([
      role('payments.commands'),
      role('payments.commands.retry.1'),
      role('payments.commands.dlq'),
      role('notifications.order-events'),
      role('orphan.dlq'),
    ]).toEqual(['work', 'retry', 'dead-letter', 'work', 'other']);
    expect(t.queues.find((q) => q.name === 'payments.commands')).toMatchObject({
      ready: 3,
      unacked: 2,
      consumers: 2,
      publishRate: 4,
      deliverRate: 3.5,
    });
  });

  it('names each consumer by the service holding it, else by its connection', () => {
    expect(t.consumers.map((c) => [c.queue, c.holder])).toEqual([
      ['payments.commands', 'payments'],
      ['payments.commands', 'payments'],
      ['notifications.order-events', '127.0.0.1:50003 -> 127.0.0.1:5672'],
    ]);
  });

  it('puts a rate on an edge only where the API gives it unshared: one binding in, one consumer out', () => {
    const edge = (from: string, to: string) => t.edges.find((e) => e.from === from && e.to === to);
    expect(edge('exchange:warren.events', 'queue:notifications.order-events')).toMatchObject({
      kind: 'binding',
      routingKey: 'order.#',
      rate: 2,
    });
    expect(t.edges.filter((e) => e.to === 'queue:payments.commands').map((e) => [e.routingKey, e.rate])).toEqual([
      ['payment.capture', undefined],
      ['payment.refund', undefined],
    ]);
    expect(t.edges.find((e) => e.kind === 'consumer' && e.from === 'queue:notifications.order-events')?.rate).toBe(2);
    expect(
      t.edges
        .filter((e) => e.kind === 'consumer' && e.from === 'queue:payments.commands')
        .every((e) => e.rate === undefined),
    ).toBe(true);
    expect(t.edges.some((e) => e.from === 'exchange:')).toBe(false);
  });

  it('refuses a document that is not the management API shape, naming the field', () => {
    expect(() => buildTopology({ ...snapshot, queues: [{ name: 'q', vhost: '/', messages_ready: 'three' }] })).toThrow(
      ZodError,
    );
    expect(() => buildTopology({ ...snapshot, queues: [{ name: 'q', vhost: '/', messages_ready: 'three' }] })).toThrow(
      /messages_ready/,
    );
  });
});

const live: Array<[string, () => Promise<LiveBroker>]> = [['bundled', startBroker]];
if (process.env.RABBITMQ_URL && process.env.RABBITMQ_MANAGEMENT_URL)
  live.push([
    'rabbitmq',
    async () => ({
      amqpUrl: process.env.RABBITMQ_URL!,
      managementUrl: process.env.RABBITMQ_MANAGEMENT_URL!,
      stop: async () => undefined,
    }),
  ]);

describe.each(live)('buildTopology on a live broker (%s)', (_name, start) => {
  const ns = `console-${randomBytes(3).toString('hex')}`;
  const work = `${ns}.payments.commands`;
  let broker: LiveBroker;
  let conn: ChannelModel;

  beforeAll(async () => {
    broker = await start();
    conn = await connect(broker.amqpUrl, { clientProperties: { connection_name: `${ns}-payments` } });
    const ch = await conn.createChannel();
    await ch.assertExchange(`${ns}.commands`, 'topic', { durable: false, autoDelete: true });
    for (const q of [work, `${work}.retry.1`, `${work}.dlq`])
      await ch.assertQueue(q, { durable: false, autoDelete: false });
    await ch.bindQueue(work, `${ns}.commands`, 'payment.capture');
    ch.publish(`${ns}.commands`, 'payment.capture', Buffer.from('{}'));
    ch.sendToQueue(`${work}.dlq`, Buffer.from('{}'));
    await ch.consume(work, () => undefined, { noAck: false, consumerTag: `${ns}-ctag` });
  });
  afterAll(async () => {
    const ch = await conn.createChannel();
    for (const q of [work, `${work}.retry.1`, `${work}.dlq`]) await ch.deleteQueue(q).catch(() => undefined);
    await conn.close();
    await broker.stop();
  });

  it('builds the graph from the management API itself: group, roles, depths, the consumer named by its connection', async () => {
    const api = (p: string) => getJson(`${broker.managementUrl}/api/${p}`);
    // RabbitMQ's management API reports queue statistics and the consumer list apart: wait for both
    const t = await eventually(
      'the unacked message, the parked one and the consumer to show',
      async () => {
        const graph = buildTopology({
          exchanges: await api('exchanges'),
          queues: await api('queues'),
          bindings: await api('bindings'),
          consumers: await api('consumers'),
          connections: await api('connections'),
        });
        const q = graph.queues.find((x) => x.name === work);
        const dlq = graph.queues.find((x) => x.name === `${work}.dlq`);
        return q?.unacked === 1 && dlq?.ready === 1 && graph.consumers.some((c) => c.queue === work)
          ? graph
          : undefined;
      },
      15_000,
      250,
    );
    expect(t.groups.find((g) => g.id === work)).toEqual({ id: work, queues: [work, `${work}.retry.1`, `${work}.dlq`] });
    expect(t.queues.filter((q) => q.group === work).map((q) => q.role)).toEqual(
      expect.arrayContaining(['work', 'retry', 'dead-letter']),
    );
    expect(t.consumers.filter((c) => c.queue === work)).toEqual([
      expect.objectContaining({ tag: `${ns}-ctag`, holder: `${ns}-payments` }),
    ]);
    expect(t.edges).toContainEqual(
      expect.objectContaining({
        from: `exchange:${ns}.commands`,
        to: `queue:${work}`,
        kind: 'binding',
        routingKey: 'payment.capture',
      }),
    );
  });
});
