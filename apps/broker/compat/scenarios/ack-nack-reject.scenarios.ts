import type { Channel, Message } from 'amqplib';
import {
  area,
  attempt,
  Consumer,
  sendMethod,
  waitForCount,
  type Conn,
  type Ctx,
  closeOutcome,
  drainRedelivered,
} from '../harness';

async function loaded(ctx: Ctx, n: number) {
  const { conn, ch } = await ctx.openConfirm();
  const q = ctx.name();
  await ch.assertQueue(q, { durable: false });
  for (let i = 1; i <= n; i++) ch.sendToQueue(q, Buffer.from(`${i}`));
  await ch.waitForConfirms();
  return { conn, ch, q };
}

async function getN(ch: Channel, q: string, n: number): Promise<Message[]> {
  const out: Message[] = [];
  for (let i = 0; i < n; i++) {
    const m = await ch.get(q, { noAck: false });
    if (m) out.push(m);
  }
  return out;
}

/** Run fn (which sends something without a reply), then use a round trip on the same channel as a sync point. */
async function asyncError(conn: Conn, ch: Channel, fn: () => void) {
  fn();
  const r = await attempt(ch.checkExchange('amq.direct'), conn);
  return r.kind === 'ok' ? 'no error' : r;
}

export default area('ack-nack-reject', [
  {
    name: 'requeued messages return to their original position, flagged redelivered',
    run: async (ctx) => {
      const { ch, q } = await loaded(ctx, 4);
      const [m1, m2] = await getN(ch, q, 2);
      ch.reject(m2, true);
      ch.reject(m1, true);
      return drainRedelivered(ch, q);
    },
    check: (o) =>
      expect(o).toEqual([
        ['1', true],
        ['2', true],
        ['3', false],
        ['4', false],
      ]),
  },
  {
    name: 'requeue order with a consumer: nack of a middle message puts it back at its position',
    run: async (ctx) => {
      const { ch, q } = await loaded(ctx, 3);
      const [m1, m2, m3] = await getN(ch, q, 3);
      ch.nack(m2, false, true);
      ch.ack(m1);
      ch.nack(m3, false, true);
      return drainRedelivered(ch, q);
    },
    check: (o) =>
      expect(o).toEqual([
        ['2', true],
        ['3', true],
      ]),
  },
  {
    name: 'ack multiple acknowledges everything up to the tag',
    run: async (ctx) => {
      const { ch, q } = await loaded(ctx, 4);
      const ms = await getN(ch, q, 4);
      ch.ack(ms[2], true);
      await ch.close();
      const ch2 = await ctx.channel();
      await waitForCount(ch2, q, 1);
      return drainRedelivered(ch2, q);
    },
    check: (o) => expect(o).toEqual([['4', true]]),
  },
  {
    name: 'nack multiple requeue=true requeues everything up to the tag in order',
    run: async (ctx) => {
      const { ch, q } = await loaded(ctx, 4);
      const ms = await getN(ch, q, 3);
      ch.nack(ms[1], true, true);
      ch.ack(ms[2]);
      return drainRedelivered(ch, q);
    },
    check: (o) =>
      expect(o).toEqual([
        ['1', true],
        ['2', true],
        ['4', false],
      ]),
  },
  {
    name: 'ack with delivery tag 0 and multiple=true acknowledges all outstanding',
    run: async (ctx) => {
      const { ch, q } = await loaded(ctx, 3);
      await getN(ch, q, 3);
      ch.ackAll();
      await ch.close();
      const ch2 = await ctx.channel();
      return drainRedelivered(ch2, q);
    },
    check: (o) => expect(o).toEqual([]),
  },
  {
    name: 'nack requeue=false without a dead-letter exchange drops the message',
    run: async (ctx) => {
      const { ch, q } = await loaded(ctx, 2);
      const [m1] = await getN(ch, q, 1);
      ch.nack(m1, false, false);
      return drainRedelivered(ch, q);
    },
    check: (o) => expect(o).toEqual([['2', false]]),
  },
  {
    name: 'ack of an unknown delivery tag: channel.close 406 PRECONDITION_FAILED',
    compareText: true,
    run: async (ctx) => {
      const { conn, ch } = await loaded(ctx, 1);
      return asyncError(conn, ch, () => sendMethod(ch, 'BasicAck', { deliveryTag: 99, multiple: false }));
    },
    check: (o) =>
      expect(o).toEqual(closeOutcome('channel', 406, 60, 80, 'PRECONDITION_FAILED - unknown delivery tag 99')),
  },
  {
    name: 'double ack: channel.close 406 unknown delivery tag',
    compareText: true,
    run: async (ctx) => {
      const { conn, ch, q } = await loaded(ctx, 1);
      const [m] = await getN(ch, q, 1);
      return asyncError(conn, ch, () => {
        ch.ack(m);
        ch.ack(m);
      });
    },
    check: (o) =>
      expect(o).toEqual(closeOutcome('channel', 406, 60, 80, 'PRECONDITION_FAILED - unknown delivery tag 1')),
  },
  {
    name: 'reject and nack of unknown tags: 406 with their own class/method ids',
    run: async (ctx) => {
      const { conn } = await loaded(ctx, 0);
      const ch1 = await conn.channel();
      const reject = await asyncError(conn, ch1, () =>
        sendMethod(ch1, 'BasicReject', { deliveryTag: 5, requeue: true }),
      );
      const ch2 = await conn.channel();
      const nack = await asyncError(conn, ch2, () =>
        sendMethod(ch2, 'BasicNack', { deliveryTag: 5, multiple: false, requeue: true }),
      );
      const ch3 = await conn.channel();
      const nackMultiple = await asyncError(conn, ch3, () =>
        sendMethod(ch3, 'BasicNack', { deliveryTag: 5, multiple: true, requeue: true }),
      );
      return { reject, nack, nackMultiple };
    },
    check: (o) => {
      expect(o.reject).toMatchObject({ kind: 'error', level: 'channel', code: 406, classId: 60, methodId: 90 });
      expect(o.nack).toMatchObject({ kind: 'error', level: 'channel', code: 406, classId: 60, methodId: 120 });
      expect(o.nackMultiple).toMatchObject({ kind: 'error', level: 'channel', code: 406, classId: 60, methodId: 120 });
    },
  },
  {
    name: 'ack with tag 0 and multiple=false, and ack-all with nothing outstanding',
    run: async (ctx) => {
      const { conn } = await loaded(ctx, 0);
      const ch1 = await conn.channel();
      const zeroSingle = await asyncError(conn, ch1, () =>
        sendMethod(ch1, 'BasicAck', { deliveryTag: 0, multiple: false }),
      );
      const ch2 = await conn.channel();
      const zeroMultipleNothing = await asyncError(conn, ch2, () =>
        sendMethod(ch2, 'BasicAck', { deliveryTag: 0, multiple: true }),
      );
      return { zeroSingle, zeroMultipleNothing };
    },
    check: (o) =>
      expect(o).toEqual({
        zeroSingle: closeOutcome('channel', 406, 60, 80, 'PRECONDITION_FAILED - unknown delivery tag 0'),
        zeroMultipleNothing: 'no error',
      }),
  },
  {
    name: 'acking a message delivered with no-ack: 406 unknown delivery tag',
    run: async (ctx) => {
      const { conn, ch, q } = await loaded(ctx, 1);
      const m = await ch.get(q, { noAck: true });
      return asyncError(conn, ch, () => m && ch.ack(m));
    },
    check: (o) => expect(o).toMatchObject({ kind: 'error', level: 'channel', code: 406, classId: 60, methodId: 80 }),
  },
  {
    name: 'acking on a different channel than the delivery: 406',
    run: async (ctx) => {
      const { conn, ch, q } = await loaded(ctx, 1);
      const m = await ch.get(q, { noAck: false });
      const other = await conn.channel();
      return asyncError(conn, other, () => m && other.ack(m));
    },
    check: (o) => expect(o).toMatchObject({ kind: 'error', level: 'channel', code: 406, classId: 60, methodId: 80 }),
  },
  {
    name: "a 406 on ack requeues the channel's other unacked messages",
    run: async (ctx) => {
      const { conn, ch, q } = await loaded(ctx, 2);
      await getN(ch, q, 2);
      await asyncError(conn, ch, () => sendMethod(ch, 'BasicAck', { deliveryTag: 42, multiple: false }));
      const ch2 = await conn.channel();
      await waitForCount(ch2, q, 2);
      return drainRedelivered(ch2, q);
    },
    check: (o) =>
      expect(o).toEqual([
        ['1', true],
        ['2', true],
      ]),
  },
  {
    name: 'unacked consumer deliveries are requeued in order on channel close, redelivered to the next consumer',
    run: async (ctx) => {
      const { ch, q } = await loaded(ctx, 3);
      const c1ch = await ctx.channel();
      const c1 = await Consumer.start(c1ch, q, { noAck: false });
      await c1.waitFor(3);
      c1ch.ack(c1.messages[1]);
      await c1ch.close();
      const c2 = await Consumer.start(ch, q, { noAck: true });
      const ms = await c2.waitFor(2);
      return ms.map((m) => [m.content.toString(), m.fields.redelivered]);
    },
    check: (o) =>
      expect(o).toEqual([
        ['1', true],
        ['3', true],
      ]),
  },
]);
