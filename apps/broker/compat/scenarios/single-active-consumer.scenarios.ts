import { area, attempt, Consumer, quiet, waitUntil } from '../harness';

export default area('single-active-consumer', [
  {
    name: 'only the first consumer receives; the next one takes over when it cancels',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const q = ctx.name();
      await ch.assertQueue(q, { durable: false, arguments: { 'x-single-active-consumer': true } });
      const c1 = await Consumer.start(await ctx.channel(), q, { noAck: true });
      const c2 = await Consumer.start(await ctx.channel(), q, { noAck: true });
      for (const b of ['1', '2', '3']) ch.sendToQueue(q, Buffer.from(b));
      await ch.waitForConfirms();
      await c1.waitFor(3);
      await c1.cancel();
      for (const b of ['4', '5']) ch.sendToQueue(q, Buffer.from(b));
      await ch.waitForConfirms();
      await c2.waitFor(2);
      const consumers = (await ch.checkQueue(q)).consumerCount;
      return {
        c1: c1.messages.map((m) => m.content.toString()),
        c2: c2.messages.map((m) => m.content.toString()),
        consumers,
      };
    },
    check: (o) => expect(o).toEqual({ c1: ['1', '2', '3'], c2: ['4', '5'], consumers: 1 }),
  },
  {
    name: "the active consumer's unacked messages are requeued to the next when its channel closes",
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const q = ctx.name();
      await ch.assertQueue(q, { durable: false, arguments: { 'x-single-active-consumer': true } });
      const ch1 = await ctx.channel();
      const c1 = await Consumer.start(ch1, q, { noAck: false });
      const c2 = await Consumer.start(await ctx.channel(), q, { noAck: true });
      ch.sendToQueue(q, Buffer.from('a'));
      ch.sendToQueue(q, Buffer.from('b'));
      await ch.waitForConfirms();
      await c1.waitFor(2);
      ch1.ack(c1.messages[0]);
      await ch1.close();
      await c2.waitFor(1);
      await quiet();
      return { c2: c2.messages.map((m) => [m.content.toString(), m.fields.redelivered]) };
    },
    check: (o) => expect(o).toEqual({ c2: [['b', true]] }),
  },
  {
    name: 'x-single-active-consumer must be a boolean',
    run: async (ctx) => {
      const { conn, ch } = await ctx.open();
      return attempt(
        ch.assertQueue(ctx.name(), { durable: false, arguments: { 'x-single-active-consumer': 'yes' } }),
        conn,
      );
    },
    check: (o) => expect(o).toMatchObject({ kind: 'error', level: 'channel', code: 406, classId: 50, methodId: 10 }),
  },
  {
    name: 'a waiting consumer gets nothing even while the active one is at its prefetch limit',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const q = ctx.name();
      await ch.assertQueue(q, { durable: false, arguments: { 'x-single-active-consumer': true } });
      const ch1 = await ctx.channel();
      await ch1.prefetch(1);
      const c1 = await Consumer.start(ch1, q, { noAck: false });
      const c2 = await Consumer.start(await ctx.channel(), q, { noAck: true });
      for (const b of ['1', '2', '3']) ch.sendToQueue(q, Buffer.from(b));
      await ch.waitForConfirms();
      await c1.waitFor(1);
      await quiet();
      await waitUntil(async () => (await ch.checkQueue(q)).messageCount === 2, 1000);
      return { c1: c1.messages.length, c2: c2.messages.length, ready: (await ch.checkQueue(q)).messageCount };
    },
    check: (o) => expect(o).toEqual({ c1: 1, c2: 0, ready: 2 }),
  },
]);
