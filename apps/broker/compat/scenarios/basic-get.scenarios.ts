import { area, attempt, summary, fillQueue, closeOutcome } from '../harness';

export default area('basic-get', [
  {
    name: 'get-ok carries the remaining message count; get-empty when the queue is empty',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const q = ctx.name();
      await ch.assertQueue(q, { durable: false });
      for (const b of ['a', 'b', 'c']) ch.sendToQueue(q, Buffer.from(b));
      await ch.waitForConfirms();
      const out = [];
      for (let i = 0; i < 4; i++) out.push(summary(await ch.get(q, { noAck: true }), { tag: true }));
      return out;
    },
    check: (o) =>
      expect(o).toEqual([
        { body: 'a', exchange: '', routingKey: 'P-q', redelivered: false, messageCount: 2, deliveryTag: 1 },
        { body: 'b', exchange: '', routingKey: 'P-q', redelivered: false, messageCount: 1, deliveryTag: 2 },
        { body: 'c', exchange: '', routingKey: 'P-q', redelivered: false, messageCount: 0, deliveryTag: 3 },
        false,
      ]),
  },
  {
    name: 'get without no-ack: the message is unacked until ack; nack requeue makes it redelivered',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const q = await fillQueue(ch, ctx.name(), ['m']);
      const first = await ch.get(q, { noAck: false });
      const whileUnacked = await ch.checkQueue(q);
      if (first) ch.nack(first, false, true);
      const second = await ch.get(q, { noAck: false });
      if (second) ch.ack(second);
      const third = await ch.get(q, { noAck: false });
      return {
        first: summary(first, { tag: true }),
        ready: whileUnacked.messageCount,
        second: summary(second, { tag: true }),
        third,
      };
    },
    check: (o) =>
      expect(o).toEqual({
        first: { body: 'm', exchange: '', routingKey: 'P-q', redelivered: false, messageCount: 0, deliveryTag: 1 },
        ready: 0,
        second: { body: 'm', exchange: '', routingKey: 'P-q', redelivered: true, messageCount: 0, deliveryTag: 2 },
        third: false,
      }),
  },
  {
    name: 'get from a missing queue: channel.close 404',
    compareText: true,
    run: async (ctx) => {
      const { conn, ch } = await ctx.open();
      return attempt(ch.get(ctx.name('missing')), conn);
    },
    check: (o) =>
      expect(o).toEqual(closeOutcome('channel', 404, 60, 70, "NOT_FOUND - no queue 'P-missing' in vhost '/'")),
  },
  {
    name: 'get and consume share delivery tags on a channel',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const q = await fillQueue(ch, ctx.name(), ['1', '2']);
      const g = await ch.get(q, { noAck: false });
      const tags: number[] = [];
      await new Promise<void>((resolve) => {
        void ch.consume(q, (m) => {
          if (m) {
            tags.push(m.fields.deliveryTag);
            resolve();
          }
        });
      });
      return { get: g && g.fields.deliveryTag, consume: tags };
    },
    check: (o) => expect(o).toEqual({ get: 1, consume: [2] }),
  },
]);
