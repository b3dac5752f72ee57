import { area, attempt, Consumer, rpc, sendMethod, fillQueue, closeOutcome } from '../harness';

export default area('recover', [
  {
    name: 'basic.recover requeue=true redelivers unacked messages with redelivered=true',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const q = ctx.name();
      await ch.assertQueue(q, { durable: false });
      for (const b of ['a', 'b']) ch.sendToQueue(q, Buffer.from(b));
      await ch.waitForConfirms();
      const cch = await ctx.channel();
      const c = await Consumer.start(cch, q, { noAck: false });
      await c.waitFor(2);
      await cch.recover();
      const ms = await c.waitFor(4);
      return ms.map((m) => [m.content.toString(), m.fields.redelivered, m.fields.deliveryTag]);
    },
    check: (o) =>
      expect(o).toEqual([
        ['a', false, 1],
        ['b', false, 2],
        ['a', true, 3],
        ['b', true, 4],
      ]),
  },
  {
    name: 'basic.recover requeue=false: connection.close 540 NOT_IMPLEMENTED',
    compareText: true,
    run: async (ctx) => {
      const { conn, ch } = await ctx.openConfirm();
      const q = await fillQueue(ch, ctx.name(), ['a']);
      const cch = await conn.channel();
      const c = await Consumer.start(cch, q, { noAck: false });
      await c.waitFor(1);
      const r = await attempt(rpc(cch, 'BasicRecover', { requeue: false }, 'BasicRecoverOk'), conn);
      const after =
        r.kind === 'ok'
          ? await c.waitFor(2, 1000).then(
              (ms) => ms.map((m) => [m.content.toString(), m.fields.redelivered]),
              () => 'nothing',
            )
          : null;
      return { r, after };
    },
    check: (o) =>
      expect(o).toEqual({
        r: closeOutcome('connection', 540, 60, 110, 'NOT_IMPLEMENTED - requeue=false'),
        after: null,
      }),
  },
  {
    name: 'basic.recover on a channel with get-ed unacked messages requeues them to the queue',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const q = await fillQueue(ch, ctx.name(), ['a']);
      await ch.get(q, { noAck: false });
      await ch.recover();
      const m = await ch.get(q, { noAck: true });
      return m && [m.content.toString(), m.fields.redelivered];
    },
    check: (o) => expect(o).toEqual(['a', true]),
  },
  {
    name: 'basic.recover-async (deprecated) requeues without a reply',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const q = await fillQueue(ch, ctx.name(), ['a']);
      await ch.get(q, { noAck: false });
      sendMethod(ch, 'BasicRecoverAsync', { requeue: true });
      const r = await attempt(ch.checkQueue(q), undefined);
      const m = await ch.get(q, { noAck: true });
      return { r, m: m && [m.content.toString(), m.fields.redelivered] };
    },
    check: (o) => expect(o).toEqual({ r: { kind: 'ok' }, m: ['a', true] }),
  },
]);
