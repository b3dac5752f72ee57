import type { Channel, ConfirmChannel, Message } from 'amqplib';
import { area, attempt, Consumer, drain, routeAndDrain, waitForCount, type Ctx, closeOutcome } from '../harness';
import { deathHeaders } from '../dead-letter-headers';
import { QUORUM, quorumQueue } from '../quorum';

// Deliveries from a quorum queue as RabbitMQ 3.10 makes them (rabbit_fifo, rabbit_fifo_client): the
// x-delivery-count header and the redelivered flag, where a message goes when it comes back, x-delivery-limit
// and its dead-lettering, basic.get and purge.

/** What a delivery shows: body, redelivered, x-delivery-count (absent: '-'). */
const seen = (m: Message | false | null) => {
  if (!m) return 'none';
  const count = m.properties.headers?.['x-delivery-count'] as number | undefined;
  return `${m.content.toString()} ${m.fields.redelivered ? 'redelivered' : 'new'} ${count === undefined ? '-' : count}`;
};

const deaths = (m: Message) => ({
  body: m.content.toString(),
  headers: m.properties.headers,
});

async function publish(
  ch: ConfirmChannel,
  q: string,
  bodies: string[],
  headers?: Record<string, unknown>,
): Promise<void> {
  for (const body of bodies) ch.sendToQueue(q, Buffer.from(body), headers ? { headers } : {});
  await ch.waitForConfirms();
}

/** Ready messages in order, as a no-ack basic.get shows each. */
const ready = async (ch: Channel, q: string) => (await drain(ch, q)).map(seen);

type Back = 'nack' | 'reject' | 'recover' | 'close';

/** Takes `n` messages with basic.get on a channel of its own and gives them back by `how`; waits until they are back. */
async function takeAndGiveBack(
  ctx: Ctx,
  ch: Channel,
  q: string,
  n: number,
  how: Back,
  expectReady: number,
): Promise<string[]> {
  const conn = await ctx.connect();
  const holder = await conn.channel();
  const got: Message[] = [];
  for (let i = 0; i < n; i++) {
    const m = await holder.get(q, { noAck: false });
    if (m) got.push(m);
  }
  if (how === 'nack') holder.nack(got[got.length - 1], true, true);
  else if (how === 'reject') for (const m of got) holder.reject(m, true);
  else if (how === 'recover') await holder.recover();
  else await holder.close();
  await waitForCount(ch, q, expectReady);
  if (how !== 'close') await holder.close();
  return got.map(seen);
}

export default area('quorum-delivery', [
  {
    name: 'x-delivery-count: basic.get always carries it (0 at first); a consumer sees it once a message came back; redelivered when it is above 0',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const { q } = await quorumQueue(ctx, ch);
      await publish(ch, q, ['a'], { app: 'kept' });
      const gets: string[] = [];
      for (let i = 0; i < 3; i++) {
        const m = await ch.get(q, { noAck: false });
        gets.push(seen(m));
        if (i === 0 && m) gets.push(JSON.stringify(m.properties.headers));
        if (m) ch.nack(m, false, true);
        await waitForCount(ch, q, 1);
      }
      await publish(ch, q, ['b']);
      const consumed = await Consumer.start(ch, q, { noAck: true });
      const both = await consumed.waitFor(2);
      await consumed.cancel();
      return { gets, consumed: both.map(seen), headers: both.map((m) => m.properties.headers) };
    },
    check: (o) =>
      expect(o).toEqual({
        gets: ['a new 0', '{"app":"kept","x-delivery-count":0}', 'a redelivered 1', 'a redelivered 2'],
        consumed: ['a redelivered 3', 'b new -'],
        headers: [{ app: 'kept', 'x-delivery-count': 3 }, {}],
      }),
  },
  {
    name: 'every way back counts a delivery: nack, reject, basic.recover, channel close, consumer cancel then channel close',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const { q } = await quorumQueue(ctx, ch);
      await publish(ch, q, ['m']);
      const out: string[] = [];
      for (const how of ['nack', 'reject', 'recover', 'close'] as Back[])
        out.push(`${how}: ${(await takeAndGiveBack(ctx, ch, q, 1, how, 1)).join()}`);
      // a consumer that is cancelled keeps its unacknowledged message until its channel closes
      const conn = await ctx.connect();
      const cch = await conn.channel();
      const consumer = await Consumer.start(cch, q, { noAck: false });
      const [m] = await consumer.waitFor(1);
      await consumer.cancel();
      const whileCancelled = await ch.checkQueue(q);
      await cch.close();
      await waitForCount(ch, q, 1);
      out.push(`consumer: ${seen(m)}, ready after cancel ${whileCancelled.messageCount}`);
      out.push(`finally: ${(await ready(ch, q)).join()}`);
      return out;
    },
    check: (o) =>
      expect(o).toEqual([
        'nack: m new 0',
        'reject: m redelivered 1',
        'recover: m redelivered 2',
        'close: m redelivered 3',
        'consumer: m redelivered 4, ready after cancel 0',
        'finally: m redelivered 5',
      ]),
  },
  {
    name: 'without x-delivery-limit a requeue by the client goes to the back; messages of a closed channel go back to the head, in order',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const { q } = await quorumQueue(ctx, ch);
      const out: Record<string, string[]> = {};
      for (const how of ['nack', 'reject', 'recover', 'close'] as Back[]) {
        await publish(ch, q, ['1', '2', '3', '4']);
        await takeAndGiveBack(ctx, ch, q, 2, how, 4);
        out[how] = await ready(ch, q);
      }
      return out;
    },
    check: (o) =>
      expect(o).toEqual({
        nack: ['3 new 0', '4 new 0', '1 redelivered 1', '2 redelivered 1'],
        reject: ['3 new 0', '4 new 0', '1 redelivered 1', '2 redelivered 1'],
        recover: ['3 new 0', '4 new 0', '1 redelivered 1', '2 redelivered 1'],
        close: ['1 redelivered 1', '2 redelivered 1', '3 new 0', '4 new 0'],
      }),
  },
  {
    name: 'with x-delivery-limit every return goes to the head, in the order they come back, ahead of what is ready',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const { q } = await quorumQueue(ctx, ch, { 'x-delivery-limit': 10 });
      const out: Record<string, string[]> = {};
      for (const how of ['nack', 'reject', 'close'] as Back[]) {
        await publish(ch, q, ['1', '2', '3', '4']);
        await takeAndGiveBack(ctx, ch, q, 2, how, 4);
        out[how] = await ready(ch, q);
      }
      // given back one at a time, newest first: that is their order at the head
      await publish(ch, q, ['1', '2', '3']);
      const one = await ch.get(q, { noAck: false });
      const two = await ch.get(q, { noAck: false });
      if (!one || !two) throw new Error('basic.get found nothing');
      ch.nack(two, false, true);
      ch.nack(one, false, true);
      await waitForCount(ch, q, 3);
      out.reversed = await ready(ch, q);
      return out;
    },
    check: (o) =>
      expect(o).toEqual({
        nack: ['1 redelivered 1', '2 redelivered 1', '3 new 0', '4 new 0'],
        reject: ['1 redelivered 1', '2 redelivered 1', '3 new 0', '4 new 0'],
        close: ['1 redelivered 1', '2 redelivered 1', '3 new 0', '4 new 0'],
        reversed: ['2 redelivered 1', '1 redelivered 1', '3 new 0'],
      }),
  },
  {
    name: 'x-delivery-limit 2: a message is delivered three times, then dead-lettered with reason delivery_limit (x-death as RabbitMQ writes it)',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const { q, dlq } = await quorumQueue(ctx, ch, { 'x-delivery-limit': 2 }, { route: 'bound' });
      await publish(ch, q, ['a'], { h: 1 });
      await publish(ch, q, ['b']);
      const deliveries: string[] = [];
      for (let i = 0; i < 4; i++) {
        const m = await ch.get(q, { noAck: false });
        deliveries.push(seen(m));
        if (!m) break;
        if (m.content.toString() === 'b') ch.ack(m);
        else ch.nack(m, false, true);
        await ch.checkQueue(q);
      }
      const dead = (await drain(ch, dlq)).map(deaths);
      return { deliveries, dead, left: await ready(ch, q) };
    },
    check: (o) => {
      expect(o.deliveries).toEqual(['a new 0', 'a redelivered 1', 'a redelivered 2', 'b new 0']);
      expect(o.dead).toEqual([
        {
          body: 'a',
          headers: {
            h: 1,
            ...deathHeaders('delivery_limit'),
          },
        },
      ]);
      expect(o.left).toEqual([]);
    },
  },
  {
    name: 'the delivery limit counts closed channels too; without a dead-letter exchange the message is dropped; limit 0 drops at the first return',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const { q } = await quorumQueue(ctx, ch, { 'x-delivery-limit': 1 });
      await publish(ch, q, ['a', 'b']);
      const first = await takeAndGiveBack(ctx, ch, q, 1, 'close', 2);
      const second = await takeAndGiveBack(ctx, ch, q, 1, 'close', 1);
      const afterLimit = await ready(ch, q);
      const zero = ctx.name('zero');
      await ch.assertQueue(zero, { durable: true, arguments: { ...QUORUM, 'x-delivery-limit': 0 } });
      await publish(ch, zero, ['z']);
      await takeAndGiveBack(ctx, ch, zero, 1, 'nack', 0);
      return { first, second, afterLimit, zero: await ready(ch, zero) };
    },
    check: (o) =>
      expect(o).toEqual({ first: ['a new 0'], second: ['a redelivered 1'], afterLimit: ['b new 0'], zero: [] }),
  },
  {
    name: 'consumers: the limit applies to deliveries to consumers as to basic.get; the header counts returns',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const { q, dlq } = await quorumQueue(ctx, ch, { 'x-delivery-limit': 1 }, { route: 'bound' });
      await publish(ch, q, ['a']);
      const cch = await ctx.channel();
      const got: string[] = [];
      const consumer = await Consumer.start(cch, q, { noAck: false }, (m) => {
        got.push(seen(m));
        cch.nack(m, false, true);
      });
      await consumer.waitFor(2);
      await waitForCount(ch, dlq, 1);
      await consumer.cancel();
      const dead = (await drain(ch, dlq)).map(
        (m) => (m.properties.headers?.['x-death'] as Array<{ reason: string }>)[0].reason,
      );
      return { got, dead };
    },
    check: (o) => expect(o).toEqual({ got: ['a new -', 'a redelivered 1'], dead: ['delivery_limit'] }),
  },
  {
    name: 'reject without requeue dead-letters with reason rejected, as a classic queue does; basic.get counts and purge',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const { q, dlq } = await quorumQueue(ctx, ch, {}, { route: 'bound' });
      await publish(ch, q, ['a', 'b', 'c', 'd']);
      const a = await ch.get(q, { noAck: false });
      if (!a) throw new Error('basic.get found nothing');
      const getCount = a.fields.messageCount;
      ch.reject(a, false);
      await waitForCount(ch, dlq, 1);
      const dead = (await drain(ch, dlq)).map(deaths);
      const b = await ch.get(q, { noAck: false });
      const purged = await ch.purgeQueue(q);
      if (b) ch.nack(b, false, true);
      await waitForCount(ch, q, 1);
      return { getCount, dead, purged: purged.messageCount, afterPurge: await ready(ch, q), empty: await ch.get(q) };
    },
    check: (o) =>
      expect(o).toEqual({
        getCount: 3,
        dead: [
          {
            body: 'a',
            headers: deathHeaders('rejected'),
          },
        ],
        purged: 2,
        afterPurge: ['b redelivered 1'],
        empty: false,
      }),
  },
  {
    name: 'a channel with a global prefetch limit cannot consume from a quorum queue: 540 on the connection; basic.get is fine',
    compareText: true,
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const { q } = await quorumQueue(ctx, ch);
      await publish(ch, q, ['a']);
      const getter = await ctx.channel();
      await getter.prefetch(5, true);
      const got = seen(await getter.get(q, { noAck: true }));
      const conn = await ctx.connect();
      const consumer = await conn.channel();
      await consumer.prefetch(10, false);
      await consumer.prefetch(5, true);
      const refused = await attempt(
        consumer.consume(q, () => undefined),
        conn,
      );
      // a global limit of 0 is no limit
      const other = await ctx.channel();
      await other.prefetch(0, true);
      const unlimited = await attempt(other.consume(q, () => undefined));
      return { got, refused, unlimited };
    },
    check: (o) =>
      expect(o).toEqual({
        got: 'a new 0',
        refused: closeOutcome(
          'connection',
          540,
          60,
          20,
          "NOT_IMPLEMENTED - queue 'P-q' in vhost '/' does not support global qos",
        ),
        unlimited: { kind: 'ok' },
      }),
  },
  {
    name: 'quorum queues bound to a topic exchange take what it routes to them, CC keys included, as classic queues do',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const x = ctx.name('x');
      await ch.assertExchange(x, 'topic', { durable: false });
      return routeAndDrain(
        ctx,
        ch,
        x,
        { orders: ['order.*'], all: ['#'], none: ['nothing'] },
        ['order.placed', 'stock.low', { rk: 'stock.high', options: { headers: { CC: ['order.cc'] } } }],
        { durable: true, arguments: QUORUM },
      );
    },
    check: (o) =>
      expect(o).toEqual({
        orders: ['order.placed', 'stock.high'],
        all: ['order.placed', 'stock.low', 'stock.high'],
        none: [],
      }),
  },
]);
