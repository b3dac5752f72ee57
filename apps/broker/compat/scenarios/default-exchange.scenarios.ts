import { area, attempt, bodies, closeOutcome } from '../harness';

export default area('default-exchange', [
  {
    name: 'publishing to "" routes by queue name; unknown names are dropped',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const q1 = ctx.name('q1');
      const q2 = ctx.name('q2');
      await ch.assertQueue(q1, { durable: false });
      await ch.assertQueue(q2, { durable: false });
      ch.publish('', q1, Buffer.from('to-q1'));
      ch.publish('', q2, Buffer.from('to-q2'));
      ch.publish('', ctx.name('none'), Buffer.from('lost'));
      await ch.waitForConfirms();
      const m = await ch.get(q1, { noAck: true });
      return {
        first: m && { exchange: m.fields.exchange, routingKey: m.fields.routingKey },
        q1: await bodies(ch, q1),
        q2: await bodies(ch, q2),
      };
    },
    check: (o) => expect(o).toEqual({ first: { exchange: '', routingKey: 'P-q1' }, q1: [], q2: ['to-q2'] }),
  },
  {
    name: 'queue.bind to the default exchange: channel.close 403 ACCESS_REFUSED',
    compareText: true,
    run: async (ctx) => {
      const { conn, ch } = await ctx.open();
      const q = ctx.name();
      await ch.assertQueue(q, { durable: false });
      return attempt(ch.bindQueue(q, '', 'k'), conn);
    },
    check: (o) =>
      expect(o).toEqual(
        closeOutcome('channel', 403, 50, 20, 'ACCESS_REFUSED - operation not permitted on the default exchange'),
      ),
  },
  {
    name: 'queue.unbind from the default exchange: channel.close 403 ACCESS_REFUSED',
    run: async (ctx) => {
      const { conn, ch } = await ctx.open();
      const q = ctx.name();
      await ch.assertQueue(q, { durable: false });
      return attempt(ch.unbindQueue(q, '', q), conn);
    },
    check: (o) => expect(o).toMatchObject({ kind: 'error', level: 'channel', code: 403, classId: 50, methodId: 50 }),
  },
  {
    name: 'exchange.bind with the default exchange as source or destination: 403',
    run: async (ctx) => {
      const { conn } = await ctx.open();
      const x = ctx.name('x');
      let ch = await conn.channel();
      await ch.assertExchange(x, 'fanout', { durable: false });
      const asSource = await attempt(ch.bindExchange(x, '', 'k'), conn);
      ch = await conn.channel();
      const asDestination = await attempt(ch.bindExchange('', x, 'k'), conn);
      return { asSource, asDestination };
    },
    check: (o) =>
      expect(o).toMatchObject({
        asSource: { kind: 'error', level: 'channel', code: 403, classId: 40, methodId: 30 },
        asDestination: { kind: 'error', level: 'channel', code: 403, classId: 40, methodId: 30 },
      }),
  },
  {
    name: 'exchange.declare/delete of the default exchange',
    run: async (ctx) => {
      const { conn } = await ctx.open();
      let ch = await conn.channel();
      const passive = await attempt(ch.checkExchange(''), conn);
      ch = await conn.channel();
      const declare = await attempt(ch.assertExchange('', 'direct', { durable: true }), conn);
      ch = await conn.channel();
      const del = await attempt(ch.deleteExchange(''), conn);
      ch = await conn.channel();
      const declareAmqDefault = await attempt(ch.assertExchange('amq.default', 'direct', { durable: true }), conn);
      ch = await conn.channel();
      const passiveAmqDefault = await attempt(ch.checkExchange('amq.default'), conn);
      return { passive, declare, del, declareAmqDefault, passiveAmqDefault };
    },
    // even a passive declare of "" is refused; "amq.default" is not an exchange name in 3.10
    check: (o) =>
      expect(o).toEqual({
        passive: closeOutcome(
          'channel',
          403,
          40,
          10,
          'ACCESS_REFUSED - operation not permitted on the default exchange',
        ),
        declare: closeOutcome(
          'channel',
          403,
          40,
          10,
          'ACCESS_REFUSED - operation not permitted on the default exchange',
        ),
        del: closeOutcome('channel', 403, 40, 20, 'ACCESS_REFUSED - operation not permitted on the default exchange'),
        declareAmqDefault: closeOutcome(
          'channel',
          403,
          40,
          10,
          "ACCESS_REFUSED - exchange name 'amq.default' contains reserved prefix 'amq.*'",
        ),
        passiveAmqDefault: closeOutcome('channel', 404, 40, 10, "NOT_FOUND - no exchange 'amq.default' in vhost '/'"),
      }),
  },
  {
    name: 'publishing to "amq.default": channel.close 404 (it is not an alias of "")',
    run: async (ctx) => {
      const { conn, ch } = await ctx.open();
      const q = ctx.name();
      await ch.assertQueue(q, { durable: false });
      ch.publish('amq.default', q, Buffer.from('m'));
      return conn.waitChannelError(ch);
    },
    check: (o) => expect(o).toMatchObject({ kind: 'error', level: 'channel', code: 404, classId: 60, methodId: 40 }),
  },
  {
    name: 'publishing to "" with the name of a deleted queue: unroutable (mandatory returns 312 NO_ROUTE before the ack)',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const q = ctx.name();
      await ch.assertQueue(q, { durable: false });
      await ch.deleteQueue(q);
      const events: string[] = [];
      ch.on('return', (m) => events.push(`return:${(m.fields as any).replyCode}:${(m.fields as any).replyText}`));
      ch.publish('', q, Buffer.from('m'), { mandatory: true }, (err) => events.push(err ? 'nack' : 'ack'));
      await ch.waitForConfirms();
      return events;
    },
    check: (o) => expect(o).toEqual(['return:312:NO_ROUTE', 'ack']),
  },
]);
