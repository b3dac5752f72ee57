import { area, attempt, bodies, publishConfirmed, type Ctx, boundQueue } from '../harness';

async function fill(ctx: Ctx, args: Record<string, unknown>, messages: string[], opts: { mandatory?: boolean } = {}) {
  const { ch } = await ctx.openConfirm();
  const q = ctx.name();
  await ch.assertQueue(q, { durable: false, arguments: args });
  const returns: string[] = [];
  ch.on('return', (m) => returns.push(m.content.toString()));
  const confirms = await Promise.all(
    messages.map((m) => publishConfirmed(ch, '', q, m, { mandatory: opts.mandatory })),
  );
  return { confirms, returns, queue: await bodies(ch, q) };
}

export default area('queue-args-length', [
  {
    name: 'x-max-length with default overflow (drop-head) keeps the newest',
    run: (ctx) => fill(ctx, { 'x-max-length': 3 }, ['1', '2', '3', '4', '5']),
    check: (o) =>
      expect(o).toEqual({ confirms: ['ack', 'ack', 'ack', 'ack', 'ack'], returns: [], queue: ['3', '4', '5'] }),
  },
  {
    name: 'x-max-length 0 drops everything',
    run: (ctx) => fill(ctx, { 'x-max-length': 0 }, ['1', '2']),
    check: (o) => expect(o).toEqual({ confirms: ['ack', 'ack'], returns: [], queue: [] }),
  },
  {
    name: 'x-max-length-bytes counts body bytes (drop-head)',
    run: (ctx) => fill(ctx, { 'x-max-length-bytes': 10 }, ['aaaa', 'bbbb', 'cccc', 'dddd', 'eeeeeeeeeee']),
    check: (o) => expect(o).toEqual({ confirms: ['ack', 'ack', 'ack', 'ack', 'ack'], returns: [], queue: [] }),
  },
  {
    name: 'x-max-length-bytes keeps what fits',
    run: (ctx) => fill(ctx, { 'x-max-length-bytes': 10 }, ['aaaa', 'bbbb', 'cccc', '', 'dd']),
    check: (o) =>
      expect(o).toEqual({
        confirms: ['ack', 'ack', 'ack', 'ack', 'ack'],
        returns: [],
        queue: ['bbbb', 'cccc', '', 'dd'],
      }),
  },
  {
    name: 'x-overflow reject-publish: excess publishes are nacked and not enqueued',
    run: (ctx) => fill(ctx, { 'x-max-length': 2, 'x-overflow': 'reject-publish' }, ['1', '2', '3', '4']),
    check: (o) => expect(o).toEqual({ confirms: ['ack', 'ack', 'nack', 'nack'], returns: [], queue: ['1', '2'] }),
  },
  {
    name: 'x-overflow reject-publish with mandatory: nack, no basic.return',
    run: (ctx) => fill(ctx, { 'x-max-length': 1, 'x-overflow': 'reject-publish' }, ['1', '2'], { mandatory: true }),
    check: (o) => expect(o).toEqual({ confirms: ['ack', 'nack'], returns: [], queue: ['1'] }),
  },
  {
    name: 'x-overflow reject-publish by bytes',
    run: (ctx) => fill(ctx, { 'x-max-length-bytes': 5, 'x-overflow': 'reject-publish' }, ['aaa', 'bb', 'c', '']),
    check: (o) => expect(o).toEqual({ confirms: ['ack', 'ack', 'nack', 'ack'], returns: [], queue: ['aaa', 'bb', ''] }),
  },
  {
    name: 'x-overflow reject-publish without confirms: excess silently dropped',
    run: async (ctx) => {
      const { ch } = await ctx.open();
      const q = ctx.name();
      await ch.assertQueue(q, { durable: false, arguments: { 'x-max-length': 1, 'x-overflow': 'reject-publish' } });
      ch.sendToQueue(q, Buffer.from('1'));
      ch.sendToQueue(q, Buffer.from('2'));
      await ch.checkQueue(q);
      return bodies(ch, q);
    },
    check: (o) => expect(o).toEqual(['1']),
  },
  {
    name: 'reject-publish on one of two fanout queues: the other still gets it, the confirm is a nack',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const x = ctx.name('x');
      const full = ctx.name('full');
      await ch.assertExchange(x, 'fanout', { durable: false });
      await ch.assertQueue(full, { durable: false, arguments: { 'x-max-length': 0, 'x-overflow': 'reject-publish' } });
      await ch.bindQueue(full, x, '');
      const open = await boundQueue(ctx, ch, x, '', 'open');
      const confirm = await publishConfirmed(ch, x, '', 'm');
      return { confirm, full: await bodies(ch, full), open: await bodies(ch, open) };
    },
    check: (o) => expect(o).toEqual({ confirm: 'nack', full: [], open: ['m'] }),
  },
  {
    name: 'unacked messages do not count towards x-max-length',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const q = ctx.name();
      await ch.assertQueue(q, { durable: false, arguments: { 'x-max-length': 2, 'x-overflow': 'reject-publish' } });
      const a = [await publishConfirmed(ch, '', q, '1'), await publishConfirmed(ch, '', q, '2')];
      const held1 = await ch.get(q, { noAck: false });
      const held2 = await ch.get(q, { noAck: false });
      const b = [
        await publishConfirmed(ch, '', q, '3'),
        await publishConfirmed(ch, '', q, '4'),
        await publishConfirmed(ch, '', q, '5'),
      ];
      const ready = (await ch.checkQueue(q)).messageCount;
      return {
        confirms: [...a, ...b],
        held: [held1 && held1.content.toString(), held2 && held2.content.toString()],
        ready,
      };
    },
    check: (o) => expect(o).toEqual({ confirms: ['ack', 'ack', 'ack', 'ack', 'nack'], held: ['1', '2'], ready: 2 }),
  },
  {
    name: 'invalid length arguments: 406 on queue.declare',
    run: async (ctx) => {
      const { conn } = await ctx.open();
      const cases: Record<string, Record<string, unknown>> = {
        negativeMaxLength: { 'x-max-length': -1 },
        stringMaxLength: { 'x-max-length': '10' },
        negativeMaxLengthBytes: { 'x-max-length-bytes': -1 },
        bogusOverflow: { 'x-overflow': 'bogus' },
        overflowNotString: { 'x-overflow': 1 },
      };
      const out: Record<string, unknown> = {};
      for (const [k, args] of Object.entries(cases)) {
        const ch = await conn.channel();
        out[k] = await attempt(ch.assertQueue(ctx.name(k), { durable: false, arguments: args }), conn);
      }
      return out;
    },
    compareText: true,
    check: (o) => {
      for (const v of Object.values(o))
        expect(v).toMatchObject({ kind: 'error', level: 'channel', code: 406, classId: 50, methodId: 10 });
    },
  },
]);
