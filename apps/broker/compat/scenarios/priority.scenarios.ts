import { area, attempt, bodies, Consumer, type Ctx, drainRedelivered } from '../harness';
import { invalidArg } from '../queue-declare-refusals';

async function prioQueue(ctx: Ctx, max: unknown, msgs: Array<[string, number | undefined]>) {
  const { ch } = await ctx.openConfirm();
  const q = ctx.name();
  await ch.assertQueue(q, { durable: false, arguments: { 'x-max-priority': max } });
  for (const [b, p] of msgs) ch.sendToQueue(q, Buffer.from(b), p === undefined ? {} : { priority: p });
  await ch.waitForConfirms();
  return bodies(ch, q);
}

export default area('priority', [
  {
    name: 'x-max-priority: higher priority first, FIFO within a priority, none = 0',
    run: (ctx) =>
      prioQueue(ctx, 10, [
        ['p0-a', undefined],
        ['p5-a', 5],
        ['p1', 1],
        ['p5-b', 5],
        ['p0-b', 0],
        ['p9', 9],
      ]),
    check: (o) => expect(o).toEqual(['p9', 'p5-a', 'p5-b', 'p1', 'p0-a', 'p0-b']),
  },
  {
    name: 'priorities above x-max-priority are treated as the maximum',
    run: (ctx) =>
      prioQueue(ctx, 3, [
        ['p3', 3],
        ['p200', 200],
        ['p7', 7],
        ['p2', 2],
      ]),
    check: (o) => expect(o).toEqual(['p3', 'p200', 'p7', 'p2']),
  },
  {
    name: 'without x-max-priority the priority property is ignored (FIFO)',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const q = ctx.name();
      await ch.assertQueue(q, { durable: false });
      ch.sendToQueue(q, Buffer.from('low'), { priority: 1 });
      ch.sendToQueue(q, Buffer.from('high'), { priority: 9 });
      await ch.waitForConfirms();
      const m = await ch.get(q, { noAck: true });
      return { first: m && m.content.toString(), priority: m && m.properties.priority, rest: await bodies(ch, q) };
    },
    check: (o) => expect(o).toEqual({ first: 'low', priority: 1, rest: ['high'] }),
  },
  {
    name: 'requeued messages go back into their priority level',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const q = ctx.name();
      await ch.assertQueue(q, { durable: false, maxPriority: 5 });
      ch.sendToQueue(q, Buffer.from('low'), { priority: 1 });
      ch.sendToQueue(q, Buffer.from('high'), { priority: 5 });
      await ch.waitForConfirms();
      const high = await ch.get(q, { noAck: false });
      if (high) ch.nack(high, false, true);
      return drainRedelivered(ch, q);
    },
    check: (o) =>
      expect(o).toEqual([
        ['high', true],
        ['low', false],
      ]),
  },
  {
    name: 'x-max-priority: 0..255 accepted; above 255, negative or non-integer is 406',
    compareText: true,
    run: async (ctx) => {
      const { conn } = await ctx.open();
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries({ tooLarge: 256, negative: -1, string: '5', zero: 0, max: 255 })) {
        const ch = await conn.channel();
        out[k] = await attempt(
          ch.assertQueue(ctx.name(k), { durable: false, arguments: { 'x-max-priority': v } }),
          conn,
        );
      }
      return out;
    },
    check: (o) => {
      expect(o.max).toEqual({ kind: 'ok' });
      expect(o.zero).toEqual({ kind: 'ok' });
      expect(o.tooLarge).toEqual(invalidArg('x-max-priority', 'P-tooLarge', '{max_value_exceeded,256}'));
      expect(o.negative).toEqual(invalidArg('x-max-priority', 'P-negative', '{value_negative,-1}'));
      expect(o.string).toEqual(invalidArg('x-max-priority', 'P-string', '"expected integer, got longstr"'));
    },
  },
  {
    name: 'consumer priorities (x-priority): the higher-priority consumer gets messages while it has capacity',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const q = ctx.name();
      await ch.assertQueue(q, { durable: false });
      const cch = await ctx.channel();
      await cch.prefetch(2);
      const low = await Consumer.start(cch, q, { noAck: false, priority: 1 });
      const high = await Consumer.start(cch, q, { noAck: false, arguments: { 'x-priority': 10 } });
      for (let i = 0; i < 5; i++) ch.sendToQueue(q, Buffer.from(`m${i}`));
      await ch.waitForConfirms();
      await high.waitFor(2);
      await low.waitFor(2);
      const firstHigh = high.messages.map((m) => m.content.toString());
      const firstLow = low.messages.map((m) => m.content.toString());
      return { high: firstHigh, low: firstLow };
    },
    check: (o) => expect(o).toEqual({ high: ['m0', 'm1'], low: ['m2', 'm3'] }),
  },
]);
