import {
  area,
  attempt,
  collect,
  Consumer,
  quiet,
  roundTrip,
  rpc,
  waitUntil,
  type Ctx,
  fillQueue,
  numbered,
  closeOutcome,
} from '../harness';

export default area('qos', [
  {
    name: 'per-consumer prefetch: a consumer holds at most N unacked; acking releases the next',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const q = await fillQueue(ch, ctx.name(), numbered(5));
      const cch = await ctx.channel();
      await cch.prefetch(2);
      const c = await Consumer.start(cch, q, { noAck: false });
      await c.waitFor(2);
      await quiet();
      const held = c.messages.length;
      cch.ack(c.messages[0]);
      await c.waitFor(3);
      await quiet();
      const afterOneAck = c.messages.length;
      cch.ack(c.messages[2], true);
      await c.waitFor(5);
      return { held, afterOneAck, total: c.messages.map((m) => m.content.toString()) };
    },
    check: (o) => expect(o).toEqual({ held: 2, afterOneAck: 3, total: ['0', '1', '2', '3', '4'] }),
  },
  {
    name: 'per-consumer prefetch applies to each consumer on the channel separately',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const q1 = await fillQueue(ch, ctx.name('q1'), numbered(3, 'a'));
      const q2 = await fillQueue(ch, ctx.name('q2'), numbered(3, 'b'));
      const cch = await ctx.channel();
      await cch.prefetch(1);
      const a = await Consumer.start(cch, q1, { noAck: false });
      const b = await Consumer.start(cch, q2, { noAck: false });
      await a.waitFor(1);
      await b.waitFor(1);
      await quiet();
      return { a: a.messages.length, b: b.messages.length };
    },
    check: (o) => expect(o).toEqual({ a: 1, b: 1 }),
  },
  {
    name: 'global prefetch is shared by all consumers on the channel',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const q1 = await fillQueue(ch, ctx.name('q1'), numbered(3, 'a'));
      const q2 = await fillQueue(ch, ctx.name('q2'), numbered(3, 'b'));
      const cch = await ctx.channel();
      await cch.prefetch(3, true);
      const a = await Consumer.start(cch, q1, { noAck: false });
      const b = await Consumer.start(cch, q2, { noAck: false });
      await waitUntil(() => a.messages.length + b.messages.length === 3);
      await quiet();
      const total = a.messages.length + b.messages.length;
      cch.ack(a.messages[0]);
      await waitUntil(() => a.messages.length + b.messages.length === 4);
      await quiet();
      return { total, afterAck: a.messages.length + b.messages.length, a: a.messages.length };
    },
    check: (o) => expect(o).toEqual({ total: 3, afterAck: 4, a: 3 }),
  },
  ...(['per-consumer then global', 'global then per-consumer'] as const).map((order) => ({
    name:
      order === 'per-consumer then global'
        ? 'qos per-consumer 2 then global 3: both limits apply'
        : 'qos global 3 then per-consumer 2: the per-consumer basic.qos clears the global limit',
    run: async (ctx: Ctx) => {
      const { ch } = await ctx.openConfirm();
      const q1 = await fillQueue(ch, ctx.name('q1'), numbered(5, 'a'));
      const q2 = await fillQueue(ch, ctx.name('q2'), numbered(5, 'b'));
      const cch = await ctx.channel();
      if (order === 'per-consumer then global') {
        await cch.prefetch(2, false);
        await cch.prefetch(3, true);
      } else {
        await cch.prefetch(3, true);
        await cch.prefetch(2, false);
      }
      const a = await Consumer.start(cch, q1, { noAck: false });
      await a.waitFor(2);
      const b = await Consumer.start(cch, q2, { noAck: false });
      await b.waitFor(1);
      await quiet();
      return { a: a.messages.length, b: b.messages.length };
    },
    check: (o: any) => expect(o).toEqual(order === 'per-consumer then global' ? { a: 2, b: 1 } : { a: 2, b: 2 }),
  })),
  {
    name: 'prefetch 0 means unlimited',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const q = await fillQueue(ch, ctx.name(), numbered(20));
      const cch = await ctx.channel();
      await cch.prefetch(1);
      await cch.prefetch(0);
      const c = await Consumer.start(cch, q, { noAck: false });
      await c.waitFor(20);
      return c.messages.length;
    },
    check: (o) => expect(o).toBe(20),
  },
  {
    name: 'basic.qos affects consumers created after it only',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const q1 = await fillQueue(ch, ctx.name('q1'), numbered(3, 'a'));
      const q2 = await fillQueue(ch, ctx.name('q2'), numbered(3, 'b'));
      const cch = await ctx.channel();
      await cch.prefetch(1);
      const a = await Consumer.start(cch, q1, { noAck: false });
      await cch.prefetch(3);
      const b = await Consumer.start(cch, q2, { noAck: false });
      await a.waitFor(1);
      await b.waitFor(3);
      await quiet();
      return { a: a.messages.length, b: b.messages.length };
    },
    check: (o) => expect(o).toEqual({ a: 1, b: 3 }),
  },
  {
    name: 'basic.get is not limited by prefetch',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const q = await fillQueue(ch, ctx.name(), numbered(3));
      await ch.prefetch(1);
      const got = [];
      for (let i = 0; i < 3; i++) got.push(!!(await ch.get(q, { noAck: false })));
      return { got, ready: (await roundTrip(ch, q)).messageCount };
    },
    check: (o) => expect(o).toEqual({ got: [true, true, true], ready: 0 }),
  },
  {
    name: 'no-ack consumers ignore prefetch',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const q = await fillQueue(ch, ctx.name(), numbered(5));
      const cch = await ctx.channel();
      await cch.prefetch(1);
      const got = await collect(cch, q, 5, { noAck: true, timeoutMs: 2000 });
      return got.length;
    },
    check: (o) => expect(o).toBe(5),
  },
  {
    name: 'basic.qos with prefetch_size > 0: connection.close 540 NOT_IMPLEMENTED',
    compareText: true,
    run: async (ctx) => {
      const { conn, ch } = await ctx.open();
      return attempt(rpc(ch, 'BasicQos', { prefetchSize: 1000, prefetchCount: 1, global: false }, 'BasicQosOk'), conn);
    },
    check: (o) =>
      expect(o).toEqual(closeOutcome('connection', 540, 60, 10, 'NOT_IMPLEMENTED - prefetch_size!=0 (1000)')),
  },
]);
