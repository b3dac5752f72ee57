import { area, attempt, bodies, boundQueue, declareExchanges, publishAll, closeOutcome } from '../harness';

export default area('e2e-bindings', [
  {
    name: 'exchange-to-exchange: publish to source reaches queues bound to destination',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const { src, dst } = await declareExchanges(ctx, ch, { src: 'direct', dst: 'fanout' });
      const q = await boundQueue(ctx, ch, dst, '');
      await ch.bindExchange(dst, src, 'k');
      await publishAll(ch, src, [
        { rk: 'k', body: 'match' },
        { rk: 'other', body: 'no-match' },
      ]);
      const m = await ch.get(q, { noAck: true });
      return {
        first: m && { body: m.content.toString(), exchange: m.fields.exchange, routingKey: m.fields.routingKey },
        rest: await bodies(ch, q),
      };
    },
    check: (o) => expect(o).toEqual({ first: { body: 'match', exchange: 'P-src', routingKey: 'k' }, rest: [] }),
  },
  {
    name: 'topic source to topic destination: both patterns apply to the original routing key',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const { src, dst } = await declareExchanges(ctx, ch, { src: 'topic', dst: 'topic' });
      await ch.bindExchange(dst, src, 'a.#');
      const q = await boundQueue(ctx, ch, dst, '*.b');
      await publishAll(ch, src, ['a.b', 'a.c', 'x.b', 'a.b.c']);
      return bodies(ch, q);
    },
    check: (o) => expect(o).toEqual(['a.b']),
  },
  {
    name: 'cycles: x1 <-> x2 both bound to one queue deliver one copy',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const { x1, x2 } = await declareExchanges(ctx, ch, { x1: 'fanout', x2: 'fanout' });
      await ch.bindExchange(x2, x1, '');
      await ch.bindExchange(x1, x2, '');
      const q = await boundQueue(ctx, ch, x1, '');
      await ch.bindQueue(q, x2, '');
      await publishAll(ch, x1, [{ rk: '', body: 'one' }]);
      return bodies(ch, q);
    },
    check: (o) => expect(o).toEqual(['one']),
  },
  {
    name: 'a queue reachable through two exchange paths gets one copy',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const { src, a, b } = await declareExchanges(ctx, ch, { src: 'fanout', a: 'fanout', b: 'fanout' });
      await ch.bindExchange(a, src, '');
      await ch.bindExchange(b, src, '');
      const q = await boundQueue(ctx, ch, a, '');
      await ch.bindQueue(q, b, '');
      await ch.bindQueue(q, src, '');
      await publishAll(ch, src, [{ rk: '', body: 'one' }]);
      return bodies(ch, q);
    },
    check: (o) => expect(o).toEqual(['one']),
  },
  {
    name: 'exchange.unbind stops routing; unbinding a missing binding is ok',
    run: async (ctx) => {
      const { conn, ch } = await ctx.openConfirm();
      const { src, dst } = await declareExchanges(ctx, ch, { src: 'fanout', dst: 'fanout' });
      const q = await boundQueue(ctx, ch, dst, '');
      await ch.bindExchange(dst, src, '');
      await ch.unbindExchange(dst, src, '');
      const again = await attempt(ch.unbindExchange(dst, src, ''), conn);
      await publishAll(ch, src, [{ rk: '', body: 'm' }]);
      return { again, q: await bodies(ch, q) };
    },
    check: (o) => expect(o).toEqual({ again: { kind: 'ok' }, q: [] }),
  },
  {
    name: 'exchange.bind with a missing source or destination: 404',
    compareText: true,
    run: async (ctx) => {
      const { conn } = await ctx.open();
      const x = ctx.name('x');
      let ch = await conn.channel();
      await ch.assertExchange(x, 'fanout', { durable: false });
      const missingSource = await attempt(ch.bindExchange(x, ctx.name('nosrc'), ''), conn);
      ch = await conn.channel();
      const missingDestination = await attempt(ch.bindExchange(ctx.name('nodst'), x, ''), conn);
      return { missingSource, missingDestination };
    },
    check: (o) =>
      expect(o).toEqual({
        missingSource: closeOutcome('channel', 404, 40, 30, "NOT_FOUND - no exchange 'P-nosrc' in vhost '/'"),
        missingDestination: closeOutcome('channel', 404, 40, 30, "NOT_FOUND - no exchange 'P-nodst' in vhost '/'"),
      }),
  },
  {
    name: 'mandatory through an exchange chain: routed to a queue downstream is not returned; dead end is',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const { src, dst, dead } = await declareExchanges(ctx, ch, { src: 'direct', dst: 'fanout', dead: 'fanout' });
      await ch.bindExchange(dst, src, 'to-q');
      const q = await boundQueue(ctx, ch, dst, '');
      await ch.bindExchange(dead, src, 'to-dead');
      const returns: string[] = [];
      ch.on('return', (m) => returns.push(m.fields.routingKey));
      ch.publish(src, 'to-q', Buffer.from('a'), { mandatory: true });
      ch.publish(src, 'to-dead', Buffer.from('b'), { mandatory: true });
      await ch.waitForConfirms();
      return { returns, q: await bodies(ch, q) };
    },
    check: (o) => expect(o).toEqual({ returns: ['to-dead'], q: ['a'] }),
  },
  {
    name: 'deleting the destination exchange removes the exchange binding',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const { src, dst } = await declareExchanges(ctx, ch, { src: 'fanout', dst: 'fanout' });
      await ch.bindExchange(dst, src, '');
      await ch.deleteExchange(dst);
      await ch.assertExchange(dst, 'fanout', { durable: false });
      const q = await boundQueue(ctx, ch, dst, '');
      await publishAll(ch, src, [{ rk: '', body: 'm' }]);
      return bodies(ch, q);
    },
    check: (o) => expect(o).toEqual([]),
  },
]);
