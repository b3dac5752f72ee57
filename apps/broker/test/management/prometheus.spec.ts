// GET /metrics in rabbitmq_prometheus's names: every metric family the bundled broker exposes is one RabbitMQ's
// plugin exposes, with the same type (when RABBITMQ_PROMETHEUS_URL is set; CI enables the plugin), and the
// counters move by exactly what a client did.
import * as amqp from 'amqplib';
import { parsePrometheusText, samplesByKey } from '../../../../tools/testing/prometheus';
import { RunningBroker, startBroker } from '../../src/testing';

const RABBIT = process.env.RABBITMQ_PROMETHEUS_URL; // e.g. http://127.0.0.1:15692

async function scrape(
  base: string,
  path = '/metrics',
): Promise<{ types: Map<string, string>; samples: Map<string, number> }> {
  const response = await fetch(`${base}${path}`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/plain');
  // the shared parser refuses what Prometheus would refuse, so a malformed line fails here instead of going missing
  const families = parsePrometheusText(await response.text());
  const types = new Map([...families.values()].map((f) => [f.name, f.type]));
  return { types, samples: samplesByKey(families) };
}

describe('Prometheus metrics', () => {
  let broker: RunningBroker;
  const base = () => `http://127.0.0.1:${broker.broker.prometheusPort}`;

  beforeAll(async () => {
    broker = await startBroker({ prometheusPort: 0 });
  });
  afterAll(() => broker.close());

  it("names every family as RabbitMQ's rabbitmq_prometheus does, with the same type", async () => {
    const ours = await scrape(base());
    expect(ours.types.size).toBeGreaterThan(15);
    if (!RABBIT) return;
    const theirs = await scrape(RABBIT);
    const perObjectTheirs = await scrape(RABBIT, '/metrics/per-object');
    for (const [name, type] of ours.types)
      expect([name, theirs.types.get(name) ?? perObjectTheirs.types.get(name)]).toEqual([name, type]);
    const perObject = await scrape(base(), '/metrics/per-object');
    for (const [name, type] of perObject.types)
      expect([name, perObjectTheirs.types.get(name) ?? theirs.types.get(name)]).toEqual([name, type]);
  });

  it('counts what clients do: published, routed, returned, confirmed, delivered, redelivered, acknowledged', async () => {
    const before = (await scrape(base())).samples;
    const conn = await amqp.connect(broker.url);
    const ch = await conn.createConfirmChannel();
    const q = (await ch.assertQueue('', { exclusive: true })).queue;
    for (let i = 0; i < 5; i++) ch.sendToQueue(q, Buffer.from(`m${i}`));
    ch.publish('amq.direct', 'nowhere', Buffer.from('returned'), { mandatory: true });
    ch.publish('amq.direct', 'nowhere', Buffer.from('dropped'));
    await ch.waitForConfirms();
    const first = await ch.get(q);
    if (first) ch.nack(first, false, true); // back, to be redelivered
    for (let i = 0; i < 5; i++) {
      const m = await ch.get(q);
      if (m) ch.ack(m);
    }
    const held = await ch.get(q, { noAck: false }); // nothing left
    expect(held).toBe(false);
    const after = (await scrape(base())).samples;
    const delta = (key: string) => (after.get(key) ?? 0) - (before.get(key) ?? 0);
    expect({
      received: delta('rabbitmq_global_messages_received_total{protocol="amqp091"}'),
      routed: delta('rabbitmq_global_messages_routed_total{protocol="amqp091"}'),
      returned: delta('rabbitmq_global_messages_unroutable_returned_total{protocol="amqp091"}'),
      dropped: delta('rabbitmq_global_messages_unroutable_dropped_total{protocol="amqp091"}'),
      confirmed: delta('rabbitmq_global_messages_confirmed_total{protocol="amqp091"}'),
      delivered: delta(
        'rabbitmq_global_messages_delivered_total{protocol="amqp091",queue_type="rabbit_classic_queue"}',
      ),
      redelivered: delta(
        'rabbitmq_global_messages_redelivered_total{protocol="amqp091",queue_type="rabbit_classic_queue"}',
      ),
      acknowledged: delta(
        'rabbitmq_global_messages_acknowledged_total{protocol="amqp091",queue_type="rabbit_classic_queue"}',
      ),
      queues: after.get('rabbitmq_queues'),
      connections: after.get('rabbitmq_connections'),
    }).toEqual({
      received: 7,
      routed: 5,
      returned: 1,
      dropped: 1,
      confirmed: 7,
      delivered: 6,
      redelivered: 1,
      acknowledged: 5,
      queues: 1,
      connections: 1,
    });
    const perObject = (await scrape(base(), '/metrics/per-object')).samples;
    expect(perObject.get(`rabbitmq_queue_messages_ready{vhost="/",queue="${q}"}`)).toBe(0);
    await conn.close();
  });

  it('answers 404 for anything but the two metric paths', async () => {
    expect((await fetch(`${base()}/nope`)).status).toBe(404);
    expect((await fetch(`${base()}/metrics`, { method: 'POST' })).status).toBe(404);
  });
});
