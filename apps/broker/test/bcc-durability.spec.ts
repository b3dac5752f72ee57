import * as amqp from 'amqplib';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBroker } from '../src/testing';

/**
 * BCC keys are kept with a persistent message in a durable queue's log (storage/record.ts): after a restart the
 * recovered message, dead-lettered without x-dead-letter-routing-key, is routed again by them, as RabbitMQ does
 * (it stores the whole message record, routing keys included).
 */
describe('BCC keys across a broker restart', () => {
  let dataDir: string;
  beforeEach(() => (dataDir = mkdtempSync(join(tmpdir(), 'warren-bcc-'))));
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  async function withBroker<T>(run: (ch: amqp.ConfirmChannel) => Promise<T>): Promise<T> {
    const broker = await startBroker({ dataDir });
    const conn = await amqp.connect(broker.url);
    try {
      return await run(await conn.createConfirmChannel());
    } finally {
      await conn.close().catch(() => undefined);
      await broker.close();
    }
  }

  async function getWithin(ch: amqp.Channel, queue: string, ms = 3000): Promise<amqp.GetMessage | false> {
    const deadline = Date.now() + ms;
    for (;;) {
      const m = await ch.get(queue, { noAck: true });
      if (m || Date.now() > deadline) return m;
      await new Promise((r) => setImmediate(r));
    }
  }

  it('a recovered message with BCC keys, rejected, reaches the BCC-bound dead-letter queues; the BCC header stays gone', async () => {
    const KEYS = ['work', 'cc1', 'bcc1', 'bcc2', 'other'];
    await withBroker(async (ch) => {
      await ch.assertExchange('dlx', 'direct', { durable: true });
      for (const key of KEYS) {
        await ch.assertQueue(`dl-${key}`, { durable: true });
        await ch.bindQueue(`dl-${key}`, 'dlx', key);
      }
      await ch.assertQueue('work', { durable: true, arguments: { 'x-dead-letter-exchange': 'dlx' } });
      ch.publish('', 'work', Buffer.from('plain'), { persistent: true });
      ch.publish('', 'work', Buffer.from('m'), { persistent: true, headers: { CC: ['cc1'], BCC: ['bcc1', 'bcc2'] } });
      await ch.waitForConfirms();
    });

    await withBroker(async (ch) => {
      for (const body of ['plain', 'm']) {
        const m = await ch.get('work', { noAck: false });
        expect(m && m.content.toString()).toBe(body);
        if (m) ch.reject(m, false);
      }
      const want: Record<string, string[]> = { work: ['plain', 'm'], cc1: ['m'], bcc1: ['m'], bcc2: ['m'], other: [] };
      const got: Record<string, unknown[]> = {};
      for (const key of KEYS) {
        got[key] = [];
        for (const _ of want[key]) {
          const m = await getWithin(ch, `dl-${key}`);
          got[key].push(
            m && {
              body: m.content.toString(),
              routingKey: m.fields.routingKey,
              cc: m.properties.headers?.CC,
              bcc: m.properties.headers?.BCC,
            },
          );
        }
        expect(await ch.get(`dl-${key}`, { noAck: true })).toBe(false); // and nothing more
      }
      const m = { body: 'm', routingKey: 'work', cc: ['cc1'], bcc: undefined };
      expect(got).toEqual({
        work: [{ body: 'plain', routingKey: 'work', cc: undefined, bcc: undefined }, m],
        cc1: [m],
        bcc1: [m],
        bcc2: [m],
        other: [],
      });
    });
  });
});
