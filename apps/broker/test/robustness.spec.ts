import * as P from '@warren/amqp-protocol';
import fc from 'fast-check';
import * as amqp from 'amqplib';
import { RunningBroker, startBroker } from '../src/testing';
import { RawClient } from './support/raw-client';

/** Bad input gets a clear error and never takes the broker (or anyone else's connection) down. */
describe('broker robustness', () => {
  let broker: RunningBroker;
  let bystander: amqp.ChannelModel;
  let bystanderChannel: amqp.Channel;

  beforeAll(async () => {
    broker = await startBroker();
    bystander = await amqp.connect(broker.url);
    bystanderChannel = await bystander.createChannel();
  });
  afterAll(async () => {
    await bystander.close();
    await broker.close();
  });

  /** The connection opened before the abuse still works. */
  async function bystanderStillServed(): Promise<void> {
    const q = await bystanderChannel.assertQueue('', { exclusive: true });
    bystanderChannel.sendToQueue(q.queue, Buffer.from('ping'));
    for (let i = 0; i < 100; i++) {
      const m = await bystanderChannel.get(q.queue, { noAck: true });
      if (m) return void expect(m.content.toString()).toBe('ping');
    }
    throw new Error('bystander got nothing back');
  }

  it('survives random bytes after a valid handshake', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 400 }), async (bytes) => {
        const client = await RawClient.open(broker.port);
        client.write(Buffer.from(bytes));
        // whatever the bytes were, the server either answers, closes, or waits; it must not die
        await client.waitFor((f) => f.method?.id === P.CONNECTION_CLOSE, 50);
        client.close();
      }),
      { numRuns: 60 },
    );
    await bystanderStillServed();
  });

  it('survives well-framed methods with random arguments', async () => {
    const ids = [
      P.QUEUE_DECLARE,
      P.QUEUE_BIND,
      P.EXCHANGE_DECLARE,
      P.BASIC_PUBLISH,
      P.BASIC_CONSUME,
      P.BASIC_ACK,
      P.BASIC_QOS,
    ];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ids), fc.uint8Array({ maxLength: 60 }), async (id, args) => {
        const client = await RawClient.open(broker.port);
        const payload = Buffer.concat([
          Buffer.from([id >>> 24, (id >>> 16) & 0xff, (id >>> 8) & 0xff, id & 0xff]),
          Buffer.from(args),
        ]);
        const frame = Buffer.alloc(payload.length + 8);
        frame.writeUInt8(P.FRAME_METHOD, 0);
        frame.writeUInt16BE(1, 1);
        frame.writeUInt32BE(payload.length, 3);
        payload.copy(frame, 7);
        frame.writeUInt8(P.FRAME_END, frame.length - 1);
        client.write(frame);
        await client.waitFor((f) => f.method !== undefined && f.method.id !== P.CHANNEL_OPEN_OK, 50);
        client.close();
      }),
      { numRuns: 60 },
    );
    await bystanderStillServed();
  });

  it('cuts a reply text that a long queue name pushes past 255 bytes', async () => {
    const owner = await RawClient.open(broker.port);
    const name = 'q'.repeat(255);
    owner.method(1, P.QUEUE_DECLARE, { queue: name, exclusive: true, arguments: new Map() });
    await owner.waitForMethod(P.QUEUE_DECLARE_OK);
    const other = await RawClient.open(broker.port);
    other.method(1, P.QUEUE_DECLARE, { queue: name, passive: true, arguments: new Map() });
    const close = await other.waitForMethod(P.CHANNEL_CLOSE);
    const args = close.method!.args as P.ChannelCloseArgs;
    expect(args.replyCode).toBe(405);
    expect(Buffer.byteLength(args.replyText)).toBeLessThanOrEqual(255);
    expect(args.replyText.startsWith("RESOURCE_LOCKED - cannot obtain exclusive access to locked queue 'qqq")).toBe(
      true,
    );
    owner.close();
    other.close();
    await bystanderStillServed();
  });

  it('closes with 501 when a frame is larger than the negotiated frame_max, and keeps serving others', async () => {
    const client = await RawClient.open(broker.port);
    const big = Buffer.alloc(200_000);
    big.writeUInt8(P.FRAME_BODY, 0);
    big.writeUInt16BE(1, 1);
    big.writeUInt32BE(big.length - 8, 3);
    big.writeUInt8(P.FRAME_END, big.length - 1);
    client.write(big);
    const close = await client.waitForMethod(P.CONNECTION_CLOSE);
    expect((close.method!.args as P.ConnectionCloseArgs).replyCode).toBe(501);
    expect(await client.waitClosed()).toBe(true);
    await bystanderStillServed();
  });

  it('refuses a message over the maximum size with 406 and loses nothing else', async () => {
    const small = await startBroker({ maxMessageSize: 1024 });
    try {
      const conn = await amqp.connect(small.url);
      const ch = await conn.createConfirmChannel();
      const q = await ch.assertQueue('', { exclusive: true });
      await new Promise<void>((resolve, reject) =>
        ch.sendToQueue(q.queue, Buffer.alloc(1024), {}, (e) => (e ? reject(e) : resolve())),
      );
      const closed = new Promise<{ code: number }>((resolve) => ch.once('error', resolve));
      ch.sendToQueue(q.queue, Buffer.alloc(1025));
      expect((await closed).code).toBe(406);
      const again = await conn.createChannel();
      expect((await again.checkQueue(q.queue)).messageCount).toBe(1);
      await conn.close();
    } finally {
      await small.close();
    }
  });
});
