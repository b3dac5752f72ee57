import { area, attempt, bodies, rpc } from '../harness';

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
      return { first: m && { exchange: m.fields.exchange, routingKey: m.fields.routingKey }, q1: await bodies(ch, q1), q2: await bodies(ch, q2) };
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
      expect(o).toEqual({
        kind: 'error',
        level: 'channel',
        code: 403,
        classId: 50,
        methodId: 20,
        text: "ACCESS_REFUSED - operation not permitted on the default exchange",
      }),
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
  },
  {
    name: 'publishing to "amq.default" is the same as publishing to ""',
    run: async (ctx) => {
      const { conn, ch } = await ctx.openConfirm();
      const q = ctx.name();
      await ch.assertQueue(q, { durable: false });
      ch.publish('amq.default', q, Buffer.from('m'));
      const r = await attempt(ch.waitForConfirms(), conn);
      const m = r.kind === 'ok' ? await ch.get(q, { noAck: true }) : false;
      return { r, m: m && { body: m.content.toString(), exchange: m.fields.exchange } };
    },
  },
  {
    name: 'queue.declare passive after queue deleted: default-exchange publish is dropped',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const q = ctx.name();
      await ch.assertQueue(q, { durable: false });
      await ch.deleteQueue(q);
      const events: string[] = [];
      ch.on('return', (m) => events.push(`return:${m.fields.replyCode}:${m.fields.replyText}`));
      ch.publish('', q, Buffer.from('m'), { mandatory: true }, (err) => events.push(err ? 'nack' : 'ack'));
      await ch.waitForConfirms();
      return events;
    },
    check: (o) => expect(o).toEqual(['return:312:NO_ROUTE', 'ack']),
  },
  {
    name: 'default exchange through the raw method: exchange.declare passive on "" with type direct',
    run: async (ctx) => {
      const { conn, ch } = await ctx.open();
      return attempt(
        rpc(ch, 'ExchangeDeclare', { exchange: '', type: 'direct', passive: true, durable: false, autoDelete: false, internal: false, nowait: false, arguments: {} }, 'ExchangeDeclareOk'),
        conn,
      );
    },
    check: (o) => expect(o).toEqual({ kind: 'ok' }),
  },
]);
