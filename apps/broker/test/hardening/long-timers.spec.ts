import * as P from '@warren/amqp-protocol';
import * as amqp from 'amqplib';
import { RunningBroker, startBroker } from '../../src/testing';
import { RawClient } from '../support/raw-client';
import { eventually } from '../../../../tools/testing/eventually';

// Node's timers fire at once past 2^31 - 1 ms. Every timer a client can set (x-expires, x-message-ttl,
// per-message expiration) must wait, whatever its length. Each test sets a short control timer next to the
// long ones and waits for the control to fire: by then an overflowed timer (1 ms) would have fired too.
const LIMIT = 2 ** 31 - 1;
const TEN_YEARS = 315_360_000_000;

describe('timers at and past the 2^31 - 1 ms limit', () => {
  let broker: RunningBroker;
  let conn: amqp.ChannelModel;

  beforeAll(async () => {
    broker = await startBroker();
    conn = await amqp.connect(broker.url);
  });
  afterAll(async () => {
    await conn.close();
    await broker.close();
  });

  async function exists(queue: string): Promise<number | undefined> {
    const ch = await conn.createChannel();
    ch.on('error', () => undefined);
    try {
      return (await ch.checkQueue(queue)).messageCount;
    } catch {
      return undefined;
    } finally {
      await ch.close().catch(() => undefined);
    }
  }

  it('keeps queues whose x-expires is at or past the limit (up to ten years)', async () => {
    const ch = await conn.createChannel();
    const long = [LIMIT, LIMIT + 1, 2 ** 32 - 1, 2 ** 32, TEN_YEARS];
    for (const ms of long) await ch.assertQueue(`hard-expires-${ms}`, { arguments: { 'x-expires': ms } });
    await ch.assertQueue('hard-expires-control', { arguments: { 'x-expires': 30 } });
    // a passive declare counts as use and restarts x-expires: poll less often than the control's timeout
    await eventually(
      'the control queue to expire',
      async () => ((await exists('hard-expires-control')) === undefined ? true : undefined),
      10_000,
      100,
    );
    for (const ms of long) expect(await exists(`hard-expires-${ms}`)).toBe(0);
    for (const ms of long) await ch.deleteQueue(`hard-expires-${ms}`);
    await ch.close();
  });

  it('refuses x-expires and x-message-ttl past ten years with 406, as RabbitMQ 3.10', async () => {
    for (const arg of ['x-expires', 'x-message-ttl']) {
      const ch = await conn.createChannel();
      const closed = new Promise<{ code: number; message: string }>((resolve) => ch.once('error', resolve));
      await expect(ch.assertQueue('hard-too-long', { arguments: { [arg]: TEN_YEARS + 1 } })).rejects.toThrow();
      const error = await closed;
      expect(error.code).toBe(406);
      expect(error.message).toContain(`{value_too_large,${TEN_YEARS + 1}}`);
    }
  });

  it('refuses a per-message expiration past ten years with 406, as RabbitMQ 3.10', async () => {
    const ch = await conn.createChannel();
    const closed = new Promise<{ code: number; message: string }>((resolve) => ch.once('error', resolve));
    ch.sendToQueue('nowhere', Buffer.from('x'), { expiration: String(TEN_YEARS + 1) });
    const error = await closed;
    expect(error.code).toBe(406);
    expect(error.message).toContain(`invalid expiration '${TEN_YEARS + 1}': {value_too_large,${TEN_YEARS + 1}}`);
  });

  it('keeps messages whose x-message-ttl or expiration is at or past the limit', async () => {
    const ch = await conn.createConfirmChannel();
    const ttls = [LIMIT, LIMIT + 1, 2 ** 32, TEN_YEARS];
    for (const ms of ttls) {
      await ch.assertQueue(`hard-ttl-${ms}`, { arguments: { 'x-message-ttl': ms } });
      ch.sendToQueue(`hard-ttl-${ms}`, Buffer.from('kept'));
    }
    const expirations = [String(LIMIT), String(LIMIT + 1), String(2 ** 32), String(TEN_YEARS)];
    await ch.assertQueue('hard-expiration');
    for (const expiration of expirations) ch.sendToQueue('hard-expiration', Buffer.from(expiration), { expiration });
    await ch.assertQueue('hard-ttl-control', { arguments: { 'x-message-ttl': 30 } });
    ch.sendToQueue('hard-ttl-control', Buffer.from('expires'));
    await ch.waitForConfirms();
    await eventually('the control message to expire', async () =>
      (await exists('hard-ttl-control')) === 0 ? true : undefined,
    );
    for (const ms of ttls) expect(await exists(`hard-ttl-${ms}`)).toBe(1);
    expect(await exists('hard-expiration')).toBe(expirations.length);
    for (const ms of ttls) await ch.deleteQueue(`hard-ttl-${ms}`);
    await ch.deleteQueue('hard-expiration');
    await ch.deleteQueue('hard-ttl-control');
    await ch.close();
  });

  it('negotiates the longest heartbeat a client can ask for (65535 s) and keeps the connection', async () => {
    // 65535 s / 2 is below the limit; this pins that the interval stays a valid timer
    const client = await RawClient.connect(broker.port);
    expect(await client.login({ heartbeat: 65535 })).toBeUndefined();
    const ch = await conn.createChannel();
    await ch.assertQueue('hard-heartbeat-control', { arguments: { 'x-expires': 30 } });
    await eventually(
      'the control queue to expire',
      async () => ((await exists('hard-heartbeat-control')) === undefined ? true : undefined),
      10_000,
      100,
    );
    client.method(1, P.CHANNEL_OPEN, {});
    await client.waitForMethod(P.CHANNEL_OPEN_OK);
    expect(client.closed).toBe(false);
    client.close();
    await ch.close();
  });
});
