import { area, bodies, boundQueue, publishAll } from '../harness';

export default area('alternate-exchange', [
  {
    name: 'unroutable messages go to the alternate exchange (original exchange and key kept); mandatory not returned',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const x = ctx.name('x');
      const ae = ctx.name('ae');
      const aeq = ctx.name('aeq');
      await ch.assertExchange(ae, 'fanout', { durable: false });
      await ch.assertExchange(x, 'direct', { durable: false, alternateExchange: ae });
      await ch.assertQueue(aeq, { durable: false });
      const q = await boundQueue(ctx, ch, x, 'known');
      await ch.bindQueue(aeq, ae, '');
      const returns: string[] = [];
      ch.on('return', (m) => returns.push(m.content.toString()));
      ch.publish(x, 'known', Buffer.from('routed'), { mandatory: true });
      ch.publish(x, 'unknown', Buffer.from('to-ae'), { mandatory: true });
      await ch.waitForConfirms();
      const m = await ch.get(aeq, { noAck: true });
      return {
        returns,
        q: await bodies(ch, q),
        ae: m && { body: m.content.toString(), exchange: m.fields.exchange, routingKey: m.fields.routingKey },
        aeRest: await bodies(ch, aeq),
      };
    },
    check: (o) =>
      expect(o).toEqual({
        returns: [],
        q: ['routed'],
        ae: { body: 'to-ae', exchange: 'P-x', routingKey: 'unknown' },
        aeRest: [],
      }),
  },
  {
    name: 'alternate exchange that does not exist: message dropped, mandatory returns 312',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const x = ctx.name('x');
      await ch.assertExchange(x, 'direct', { durable: false, alternateExchange: ctx.name('missing-ae') });
      const events: string[] = [];
      ch.on('return', (m) => events.push(`return:${(m.fields as any).replyCode}:${m.fields.exchange === x}`));
      ch.publish(x, 'k', Buffer.from('m'), { mandatory: true }, (err) => events.push(err ? 'nack' : 'ack'));
      await ch.waitForConfirms();
      return events;
    },
    check: (o) => expect(o).toEqual(['return:312:true', 'ack']),
  },
  {
    name: 'alternate exchange chains: x -> ae1 (unroutable too) -> ae2',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const x = ctx.name('x');
      const ae1 = ctx.name('ae1');
      const ae2 = ctx.name('ae2');
      await ch.assertExchange(ae2, 'fanout', { durable: false });
      await ch.assertExchange(ae1, 'direct', { durable: false, alternateExchange: ae2 });
      await ch.assertExchange(x, 'direct', { durable: false, alternateExchange: ae1 });
      const q = await boundQueue(ctx, ch, ae2, '');
      await publishAll(ch, x, [{ rk: 'k', body: 'm' }]);
      return bodies(ch, q);
    },
    check: (o) => expect(o).toEqual(['m']),
  },
  {
    name: 'alternate exchange cycle terminates; mandatory message is returned',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const x = ctx.name('x');
      const y = ctx.name('y');
      await ch.assertExchange(x, 'direct', { durable: false, alternateExchange: y });
      await ch.assertExchange(y, 'direct', { durable: false, alternateExchange: x });
      const events: string[] = [];
      ch.on('return', (m) => events.push(`return:${(m.fields as any).replyCode}`));
      ch.publish(x, 'k', Buffer.from('m'), { mandatory: true }, (err) => events.push(err ? 'nack' : 'ack'));
      await ch.waitForConfirms();
      return events;
    },
    check: (o) => expect(o).toEqual(['return:312', 'ack']),
  },
  {
    name: 'alternate exchange of an exchange reached through an exchange-to-exchange binding is used',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const src = ctx.name('src');
      const dst = ctx.name('dst');
      const ae = ctx.name('ae');
      await ch.assertExchange(ae, 'fanout', { durable: false });
      await ch.assertExchange(src, 'fanout', { durable: false });
      await ch.assertExchange(dst, 'direct', { durable: false, alternateExchange: ae });
      const aeq = await boundQueue(ctx, ch, ae, '', 'aeq');
      await ch.bindExchange(dst, src, '');
      await publishAll(ch, src, [{ rk: 'nomatch', body: 'm' }]);
      return bodies(ch, aeq);
    },
    check: (o) => expect(o).toEqual(['m']),
  },
  {
    name: 'alternate exchange on a fanout with no bindings',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const x = ctx.name('x');
      const ae = ctx.name('ae');
      await ch.assertExchange(ae, 'topic', { durable: false });
      await ch.assertExchange(x, 'fanout', { durable: false, alternateExchange: ae });
      const q = await boundQueue(ctx, ch, ae, 'a.*');
      await publishAll(ch, x, [
        { rk: 'a.b', body: '1' },
        { rk: 'b.b', body: '2' },
      ]);
      return bodies(ch, q);
    },
    check: (o) => expect(o).toEqual(['1']),
  },
]);
