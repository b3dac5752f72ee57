import * as amqp from 'amqplib';
import { startBroker, RunningBroker } from '../src/testing';

describe('bundled broker smoke', () => {
  let broker: RunningBroker;
  beforeAll(async () => {
    broker = await startBroker();
  });
  afterAll(() => broker.close());

  it('publishes and consumes through a queue', async () => {
    const conn = await amqp.connect(broker.url);
    const ch = await conn.createConfirmChannel();
    const q = await ch.assertQueue('', { exclusive: true });
    const got = new Promise<amqp.ConsumeMessage>((resolve) => void ch.consume(q.queue, (m) => m && resolve(m)));
    ch.publish('', q.queue, Buffer.from('hello'), { headers: { a: 1 }, messageId: 'm1' });
    await ch.waitForConfirms();
    const m = await got;
    expect(m.content.toString()).toBe('hello');
    expect(m.properties.headers).toEqual({ a: 1 });
    expect(m.properties.messageId).toBe('m1');
    ch.ack(m);
    await conn.close();
  });
});
