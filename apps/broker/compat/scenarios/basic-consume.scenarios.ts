import {
  area,
  attempt,
  bodies,
  Consumer,
  quiet,
  roundTrip,
  waitUntil,
  fillQueue,
  numbered,
  closeOutcome,
} from '../harness';

export default area('basic-consume', [
  {
    name: 'server-generated consumer tag has the amq.ctag- form; a client tag is echoed; deliveries carry it',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const q = ctx.name();
      await ch.assertQueue(q, { durable: false });
      const gen = await Consumer.start(ch, q, { noAck: true });
      await gen.cancel();
      const mine = await Consumer.start(ch, q, { noAck: true, consumerTag: 'my-tag' });
      ch.sendToQueue(q, Buffer.from('m'));
      const [m] = await mine.waitFor(1);
      return {
        shape: /^amq\.ctag-[A-Za-z0-9_-]{22}$/.test(gen.tag),
        gen: gen.tag,
        mine: mine.tag,
        deliveryTag: m.fields.consumerTag,
      };
    },
    check: (o) => expect(o).toEqual({ shape: true, gen: 'amq.ctag-*', mine: 'my-tag', deliveryTag: 'my-tag' }),
  },
  {
    name: 'duplicate consumer tag on a channel: connection.close 530 NOT_ALLOWED',
    compareText: true,
    run: async (ctx) => {
      const { conn, ch } = await ctx.open();
      const q = ctx.name();
      await ch.assertQueue(q, { durable: false });
      await ch.consume(q, () => undefined, { consumerTag: 'dup' });
      return attempt(
        ch.consume(q, () => undefined, { consumerTag: 'dup' }),
        conn,
      );
    },
    check: (o) =>
      expect(o).toEqual(closeOutcome('connection', 530, 60, 20, "NOT_ALLOWED - attempt to reuse consumer tag 'dup'")),
  },
  {
    name: 'the same consumer tag on different channels is fine',
    run: async (ctx) => {
      const { conn, ch } = await ctx.open();
      const q = ctx.name();
      await ch.assertQueue(q, { durable: false });
      await ch.consume(q, () => undefined, { consumerTag: 'same' });
      const ch2 = await conn.channel();
      return attempt(
        ch2.consume(q, () => undefined, { consumerTag: 'same' }),
        conn,
      );
    },
    check: (o) => expect(o).toEqual({ kind: 'ok' }),
  },
  {
    name: 'exclusive consumer: another consumer is refused with 403 ACCESS_REFUSED (and exclusive after a consumer too)',
    compareText: true,
    run: async (ctx) => {
      const { conn, ch } = await ctx.open();
      const q1 = ctx.name('q1');
      const q2 = ctx.name('q2');
      await ch.assertQueue(q1, { durable: false });
      await ch.assertQueue(q2, { durable: false });
      await ch.consume(q1, () => undefined, { exclusive: true });
      const other = await ctx.connect();
      const second = await attempt(async () => (await other.channel()).consume(q1, () => undefined), other);
      const sameChannel = await attempt(
        ch.consume(q1, () => undefined),
        conn,
      );
      const ch3 = await conn.channel();
      await ch3.consume(q2, () => undefined);
      const exclusiveAfter = await attempt(
        async () => (await other.channel()).consume(q2, () => undefined, { exclusive: true }),
        other,
      );
      return { second, sameChannel, exclusiveAfter };
    },
    check: (o) =>
      expect(o).toEqual({
        second: closeOutcome('channel', 403, 60, 20, "ACCESS_REFUSED - queue 'P-q1' in vhost '/' in exclusive use"),
        sameChannel: closeOutcome(
          'channel',
          403,
          60,
          20,
          "ACCESS_REFUSED - queue 'P-q1' in vhost '/' in exclusive use",
        ),
        exclusiveAfter: closeOutcome(
          'channel',
          403,
          60,
          20,
          "ACCESS_REFUSED - queue 'P-q2' in vhost '/' in exclusive use",
        ),
      }),
  },
  {
    name: 'consume on a missing queue: channel.close 404',
    run: async (ctx) => {
      const { conn, ch } = await ctx.open();
      return attempt(
        ch.consume(ctx.name('missing'), () => undefined),
        conn,
      );
    },
    check: (o) => expect(o).toMatchObject({ kind: 'error', level: 'channel', code: 404, classId: 60, methodId: 20 }),
  },
  {
    name: 'consumers on one queue get messages round-robin',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const q = ctx.name();
      await ch.assertQueue(q, { durable: false });
      const cch = await ctx.channel();
      const a = await Consumer.start(cch, q, { noAck: true, consumerTag: 'a' });
      const b = await Consumer.start(cch, q, { noAck: true, consumerTag: 'b' });
      const c = await Consumer.start(cch, q, { noAck: true, consumerTag: 'c' });
      for (let i = 0; i < 6; i++) ch.sendToQueue(q, Buffer.from(`${i}`));
      await ch.waitForConfirms();
      await waitUntil(() => a.messages.length + b.messages.length + c.messages.length === 6);
      const got = (x: Consumer) => x.messages.map((m) => m.content.toString());
      return { a: got(a), b: got(b), c: got(c) };
    },
    check: (o) => expect(o).toEqual({ a: ['0', '3'], b: ['1', '4'], c: ['2', '5'] }),
  },
  {
    name: 'consuming from a queue that already has messages delivers them in order with delivery tags 1..n',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const q = await fillQueue(ch, ctx.name(), numbered(3));
      const cch = await ctx.channel();
      const c = await Consumer.start(cch, q, { noAck: false });
      const ms = await c.waitFor(3);
      return ms.map((m) => [
        m.content.toString(),
        m.fields.deliveryTag,
        m.fields.redelivered,
        m.fields.exchange,
        m.fields.routingKey,
      ]);
    },
    check: (o) =>
      expect(o).toEqual([
        ['0', 1, false, '', 'P-q'],
        ['1', 2, false, '', 'P-q'],
        ['2', 3, false, '', 'P-q'],
      ]),
  },
  {
    name: 'basic.cancel stops deliveries; unacked messages stay unacked until the channel closes',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const q = ctx.name();
      await ch.assertQueue(q, { durable: false });
      const cch = await ctx.channel();
      const c = await Consumer.start(cch, q, { noAck: false });
      ch.sendToQueue(q, Buffer.from('a'));
      await c.waitFor(1);
      await c.cancel();
      ch.sendToQueue(q, Buffer.from('b'));
      await ch.waitForConfirms();
      await quiet();
      const whileCancelled = { delivered: c.messages.length, ready: (await roundTrip(ch, q)).messageCount };
      await cch.close();
      await waitUntil(async () => (await roundTrip(ch, q)).messageCount === 2, 2000);
      const after = [];
      for (;;) {
        const m = await ch.get(q, { noAck: true });
        if (!m) break;
        after.push([m.content.toString(), m.fields.redelivered]);
      }
      return { whileCancelled, after };
    },
    check: (o) =>
      expect(o).toEqual({
        whileCancelled: { delivered: 1, ready: 1 },
        after: [
          ['a', true],
          ['b', false],
        ],
      }),
  },
  {
    name: 'basic.cancel of an unknown consumer tag is answered with cancel-ok',
    run: async (ctx) => {
      const { conn, ch } = await ctx.open();
      return attempt(ch.cancel('no-such-consumer'), conn);
    },
    check: (o) => expect(o).toEqual({ kind: 'ok' }),
  },
  {
    name: 'queue deletion sends basic.cancel to its consumers (consumer callback gets null)',
    run: async (ctx) => {
      const { ch } = await ctx.open();
      const q = ctx.name();
      await ch.assertQueue(q, { durable: false });
      const cch = await ctx.channel();
      const c = await Consumer.start(cch, q, { noAck: true });
      const cancelEvents: string[] = [];
      cch.on('cancel', (f: { consumerTag: string }) => cancelEvents.push(f.consumerTag));
      await ch.deleteQueue(q);
      await waitUntil(() => c.cancelledByServer, 2000);
      // the channel stays usable
      const ok = await attempt(cch.checkExchange('amq.direct'));
      return { cancelled: c.cancelledByServer, tagMatches: cancelEvents[0] === c.tag, channelOk: ok };
    },
    check: (o) => expect(o).toEqual({ cancelled: true, tagMatches: true, channelOk: { kind: 'ok' } }),
  },
  {
    name: 'no-ack consumer: messages are gone once delivered (not requeued on channel close)',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const q = ctx.name();
      await ch.assertQueue(q, { durable: false });
      const cch = await ctx.channel();
      const c = await Consumer.start(cch, q, { noAck: true });
      for (const b of ['a', 'b']) ch.sendToQueue(q, Buffer.from(b));
      await ch.waitForConfirms();
      await c.waitFor(2);
      await cch.close();
      return {
        delivered: c.messages.map((m) => [m.content.toString(), m.fields.deliveryTag]),
        left: await bodies(ch, q),
      };
    },
    check: (o) =>
      expect(o).toEqual({
        delivered: [
          ['a', 1],
          ['b', 2],
        ],
        left: [],
      }),
  },
  {
    name: 'exclusive queue consumed by its own connection on another channel',
    run: async (ctx) => {
      const { conn, ch } = await ctx.openConfirm();
      const q = ctx.name();
      await ch.assertQueue(q, { durable: false, exclusive: true });
      const ch2 = await conn.channel();
      const c = await Consumer.start(ch2, q, { noAck: true });
      ch.sendToQueue(q, Buffer.from('m'));
      await c.waitFor(1);
      return c.messages.map((m) => m.content.toString());
    },
    check: (o) => expect(o).toEqual(['m']),
  },
]);
