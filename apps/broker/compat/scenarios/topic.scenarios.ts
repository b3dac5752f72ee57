import { area, bodies, type Ctx, routeAndDrain, boundQueue } from '../harness';

/** Bind one queue per pattern to a fresh topic exchange, publish every key, report which keys each pattern got. */
async function matrix(ctx: Ctx, patterns: string[], keys: string[]): Promise<Record<string, string[]>> {
  const { ch } = await ctx.openConfirm();
  const x = ctx.name('x');
  await ch.assertExchange(x, 'topic', { durable: false });
  const bindings: Record<string, string[]> = {};
  patterns.forEach((p, i) => (bindings[`p${i}`] = [p]));
  const got = await routeAndDrain(
    ctx,
    ch,
    x,
    bindings,
    keys.map((k) => ({ rk: k, body: JSON.stringify(k) })),
  );
  const out: Record<string, string[]> = {};
  patterns.forEach((p, i) => (out[JSON.stringify(p)] = got[`p${i}`].map((b) => JSON.parse(b))));
  return out;
}

export default area('topic', [
  {
    name: "'*' matches exactly one word (an empty word counts; the empty key has no words)",
    run: (ctx) =>
      matrix(ctx, ['*', 'a.*', '*.b', '*.*', 'a.*.c'], ['', 'a', 'b', 'a.b', 'a.', '.b', 'a.b.c', 'a..c', 'x.y']),
    check: (o) =>
      expect(o).toEqual({
        '"*"': ['a', 'b'],
        '"a.*"': ['a.b', 'a.'],
        '"*.b"': ['a.b', '.b'],
        '"*.*"': ['a.b', 'a.', '.b', 'x.y'],
        '"a.*.c"': ['a.b.c', 'a..c'],
      }),
  },
  {
    name: "'#' matches zero or more words; '#' alone matches everything",
    run: (ctx) =>
      matrix(
        ctx,
        ['#', 'a.#', '#.b', 'a.#.b', '#.#'],
        ['', 'a', 'b', 'a.b', 'a.x.b', 'a.x.y.b', 'b.a', 'a.b.c', '.', 'a.'],
      ),
    check: (o) =>
      expect(o).toEqual({
        '"#"': ['', 'a', 'b', 'a.b', 'a.x.b', 'a.x.y.b', 'b.a', 'a.b.c', '.', 'a.'],
        '"a.#"': ['a', 'a.b', 'a.x.b', 'a.x.y.b', 'a.b.c', 'a.'],
        '"#.b"': ['b', 'a.b', 'a.x.b', 'a.x.y.b'],
        '"a.#.b"': ['a.b', 'a.x.b', 'a.x.y.b'],
        '"#.#"': ['', 'a', 'b', 'a.b', 'a.x.b', 'a.x.y.b', 'b.a', 'a.b.c', '.', 'a.'],
      }),
  },
  {
    name: 'empty words, empty pattern and literal patterns',
    run: (ctx) =>
      matrix(
        ctx,
        ['', 'a..b', 'a.b', '.', 'a.*.#', '#.*', '*.#.*'],
        ['', 'a', 'a.b', 'a..b', '.', '..', 'a.b.c', 'a.b.'],
      ),
    check: (o) =>
      expect(o).toEqual({
        '""': [''],
        '"a..b"': ['a..b'],
        '"a.b"': ['a.b'],
        '"."': ['.'],
        '"a.*.#"': ['a.b', 'a..b', 'a.b.c', 'a.b.'],
        '"#.*"': ['a', 'a.b', 'a..b', '.', '..', 'a.b.c', 'a.b.'],
        '"*.#.*"': ['a.b', 'a..b', '.', '..', 'a.b.c', 'a.b.'],
      }),
  },
  {
    name: 'one copy per queue when several of its patterns match',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const x = ctx.name('x');
      await ch.assertExchange(x, 'topic', { durable: false });
      return routeAndDrain(ctx, ch, x, { q: ['a.*', '#', 'a.b', '*.b'] }, ['a.b', 'c.d']);
    },
    check: (o) => expect(o).toEqual({ q: ['a.b', 'c.d'] }),
  },
  {
    name: 'patterns are case-sensitive and match whole words only',
    run: (ctx) =>
      matrix(ctx, ['a.b', 'A.*', 'ab.*', 'a*.b', 'a#'], ['a.b', 'A.b', 'ab.c', 'a.bc', 'a*.b', 'a#', 'abc.b']),
    check: (o) =>
      expect(o).toEqual({
        '"a.b"': ['a.b'],
        '"A.*"': ['A.b'],
        '"ab.*"': ['ab.c'],
        '"a*.b"': ['a*.b'],
        '"a#"': ['a#'],
      }),
  },
  {
    name: 'unbinding a topic pattern stops routing for it only',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const x = ctx.name('x');
      await ch.assertExchange(x, 'topic', { durable: false });
      const q = await boundQueue(ctx, ch, x, 'a.*');
      await ch.bindQueue(q, x, '#.z');
      await ch.unbindQueue(q, x, 'a.*');
      for (const k of ['a.b', 'a.z', 'b.z']) ch.publish(x, k, Buffer.from(k));
      await ch.waitForConfirms();
      return bodies(ch, q);
    },
    check: (o) => expect(o).toEqual(['a.z', 'b.z']),
  },
]);
