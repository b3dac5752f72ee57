import { area, attempt, routeAndDrain, type Ctx, type PublishSpec, closeOutcome } from '../harness';

async function headersRoute(
  ctx: Ctx,
  bindings: Record<string, Record<string, unknown>>,
  messages: Array<[string, Record<string, unknown> | undefined]>,
) {
  const { ch } = await ctx.openConfirm();
  const x = ctx.name('x');
  await ch.assertExchange(x, 'headers', { durable: false });
  const b: Record<string, Array<[string, Record<string, unknown>]>> = {};
  for (const [k, args] of Object.entries(bindings)) b[k] = [['ignored-key', args]];
  const msgs: PublishSpec[] = messages.map(([body, headers]) => ({
    rk: 'rk',
    body,
    options: headers ? { headers } : {},
  }));
  return routeAndDrain(ctx, ch, x, b, msgs);
}

export default area('headers-exchange', [
  {
    name: 'x-match all (and the default when x-match is absent)',
    run: (ctx) =>
      headersRoute(ctx, { all: { 'x-match': 'all', a: '1', b: 'x' }, dflt: { a: '1', b: 'x' } }, [
        ['both', { a: '1', b: 'x' }],
        ['both+extra', { a: '1', b: 'x', c: 'z' }],
        ['only-a', { a: '1' }],
        ['wrong-b', { a: '1', b: 'y' }],
        ['none', undefined],
      ]),
    check: (o) => expect(o).toEqual({ all: ['both', 'both+extra'], dflt: ['both', 'both+extra'] }),
  },
  {
    name: 'x-match any',
    run: (ctx) =>
      headersRoute(ctx, { any: { 'x-match': 'any', a: '1', b: 'x' } }, [
        ['both', { a: '1', b: 'x' }],
        ['only-a', { a: '1' }],
        ['only-b', { b: 'x' }],
        ['wrong-both', { a: '2', b: 'y' }],
        ['none', undefined],
      ]),
    check: (o) => expect(o).toEqual({ any: ['both', 'only-a', 'only-b'] }),
  },
  {
    name: 'all/any ignore x- headers; all-with-x/any-with-x match them',
    run: (ctx) =>
      headersRoute(
        ctx,
        {
          all: { 'x-match': 'all', 'x-k': 'v', a: '1' },
          allx: { 'x-match': 'all-with-x', 'x-k': 'v', a: '1' },
          any: { 'x-match': 'any', 'x-k': 'v' },
          anyx: { 'x-match': 'any-with-x', 'x-k': 'v' },
        },
        [
          ['a', { a: '1' }],
          ['a+xk', { a: '1', 'x-k': 'v' }],
          ['xk', { 'x-k': 'v' }],
          ['a+xk-wrong', { a: '1', 'x-k': 'w' }],
        ],
      ),
    check: (o) =>
      expect(o).toEqual({
        all: ['a', 'a+xk', 'a+xk-wrong'],
        allx: ['a+xk'],
        any: [],
        anyx: ['a+xk', 'xk'],
      }),
  },
  {
    name: 'binding with no match headers: all matches everything, any matches nothing',
    run: (ctx) =>
      headersRoute(ctx, { all: { 'x-match': 'all' }, any: { 'x-match': 'any' }, bare: {} }, [
        ['with', { a: '1' }],
        ['without', undefined],
      ]),
    check: (o) => expect(o).toEqual({ all: ['with', 'without'], any: [], bare: ['with', 'without'] }),
  },
  {
    name: 'a void binding value matches on presence of the header',
    run: (ctx) =>
      headersRoute(ctx, { v: { 'x-match': 'all', a: null } }, [
        ['str', { a: 'anything' }],
        ['num', { a: 5 }],
        ['void', { a: null }],
        ['absent', { b: 1 }],
      ]),
    check: (o) => expect(o).toEqual({ v: ['str', 'num', 'void'] }),
  },
  {
    name: 'value comparison across field types (byte/int/long/double/string/bool)',
    run: (ctx) =>
      headersRoute(
        ctx,
        { one: { 'x-match': 'all', n: 1 }, str: { 'x-match': 'all', n: '1' }, tru: { 'x-match': 'all', n: true } },
        [
          ['byte', { n: 1 }],
          ['short', { n: { '!': 'int16', value: 1 } }],
          ['int', { n: { '!': 'int32', value: 1 } }],
          ['long', { n: { '!': 'int64', value: 1 } }],
          ['double', { n: { '!': 'double', value: 1 } }],
          ['float', { n: { '!': 'float', value: 1 } }],
          ['string', { n: '1' }],
          ['bool', { n: true }],
          ['bytes', { n: Buffer.from('1') }],
        ],
      ),
    // numbers compare by value whatever their wire type; longstr and byte array compare equal
    check: (o) =>
      expect(o).toEqual({
        one: ['byte', 'short', 'int', 'long', 'double', 'float'],
        str: ['string', 'bytes'],
        tru: ['bool'],
      }),
  },
  {
    name: 'invalid x-match value: channel.close 406 on queue.bind',
    run: async (ctx) => {
      const { conn, ch } = await ctx.open();
      const x = ctx.name('x');
      const q = ctx.name();
      await ch.assertExchange(x, 'headers', { durable: false });
      await ch.assertQueue(q, { durable: false });
      return attempt(ch.bindQueue(q, x, '', { 'x-match': 'some' }), conn);
    },
    compareText: true,
    check: (o) =>
      expect(o).toEqual(
        closeOutcome(
          'channel',
          406,
          50,
          20,
          'PRECONDITION_FAILED - Invalid x-match field value <<"some">>; expected all, any, all-with-x, or any-with-x',
        ),
      ),
  },
  {
    name: 'nested table and array header values compare structurally',
    run: (ctx) =>
      headersRoute(ctx, { t: { 'x-match': 'all', t: { k: 'v' } }, a: { 'x-match': 'all', a: ['x', 'y'] } }, [
        ['same-table', { t: { k: 'v' } }],
        ['other-table', { t: { k: 'w' } }],
        ['same-array', { a: ['x', 'y'] }],
        ['reordered-array', { a: ['y', 'x'] }],
      ]),
    check: (o) => expect(o).toEqual({ t: ['same-table'], a: ['same-array'] }),
  },
  {
    name: 'unbind with the same arguments removes a headers binding',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const x = ctx.name('x');
      await ch.assertExchange(x, 'headers', { durable: false });
      const q = ctx.name();
      await ch.assertQueue(q, { durable: false });
      await ch.bindQueue(q, x, '', { 'x-match': 'any', a: '1' });
      await ch.bindQueue(q, x, '', { 'x-match': 'any', b: '1' });
      await ch.unbindQueue(q, x, '', { 'x-match': 'any', a: '1' });
      ch.publish(x, '', Buffer.from('a'), { headers: { a: '1' } });
      ch.publish(x, '', Buffer.from('b'), { headers: { b: '1' } });
      await ch.waitForConfirms();
      const got = [];
      for (;;) {
        const m = await ch.get(q, { noAck: true });
        if (!m) break;
        got.push(m.content.toString());
      }
      return got;
    },
    check: (o) => expect(o).toEqual(['b']),
  },
]);
