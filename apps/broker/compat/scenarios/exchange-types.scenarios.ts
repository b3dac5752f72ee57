import { area, attempt, routeAndDrain, summary, closeOutcome } from '../harness';

/** The exchanges every vhost has, by type (the default exchange aside). */
const PREDECLARED_TYPES: Record<string, string> = {
  'amq.direct': 'direct',
  'amq.fanout': 'fanout',
  'amq.topic': 'topic',
  'amq.headers': 'headers',
  'amq.match': 'headers',
};
const PREDECLARED = Object.keys(PREDECLARED_TYPES);

export default area('exchange-types', [
  {
    name: 'direct: exact routing-key match, several queues per key, several keys per queue',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const x = ctx.name('x');
      await ch.assertExchange(x, 'direct', { durable: false });
      return routeAndDrain(ctx, ch, x, { q1: ['a'], q2: ['a', 'b'], q3: ['c'], q4: [''] }, [
        'a',
        'b',
        'c',
        'd',
        '',
        'A',
        'a ',
      ]);
    },
    check: (o) => expect(o).toEqual({ q1: ['a'], q2: ['a', 'b'], q3: ['c'], q4: [''] }),
  },
  {
    name: 'direct: a queue bound with two keys gets one copy when CC names both',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const x = ctx.name('x');
      await ch.assertExchange(x, 'direct', { durable: false });
      return routeAndDrain(ctx, ch, x, { q: ['a', 'b'] }, [
        { rk: 'a', body: 'm1', options: { CC: ['b'] } },
        { rk: 'b', body: 'm2' },
      ]);
    },
    check: (o) => expect(o).toEqual({ q: ['m1', 'm2'] }),
  },
  {
    name: 'fanout: routing key and binding key are ignored',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const x = ctx.name('x');
      await ch.assertExchange(x, 'fanout', { durable: false });
      return routeAndDrain(ctx, ch, x, { q1: [''], q2: ['whatever'], q3: ['a', 'b'] }, ['a', 'zzz', '']);
    },
    check: (o) => expect(o).toEqual({ q1: ['a', 'zzz', ''], q2: ['a', 'zzz', ''], q3: ['a', 'zzz', ''] }),
  },
  {
    name: 'predeclared amq.* exchanges exist (passive declare succeeds)',
    run: async (ctx) => {
      const { conn } = await ctx.open();
      const out: Record<string, unknown> = {};
      for (const x of [...PREDECLARED, 'amq.rabbitmq.trace']) {
        const ch = await conn.channel();
        out[x] = await attempt(ch.checkExchange(x), conn);
      }
      return out;
    },
    check: (o) => {
      for (const x of [...PREDECLARED, 'amq.rabbitmq.trace']) expect(o[x]).toEqual({ kind: 'ok' });
    },
  },
  {
    name: 'predeclared exchanges: redeclare with their type is ok (no amq.* 403), another type is 406',
    run: async (ctx) => {
      const { conn } = await ctx.open();
      const out: Record<string, unknown> = {};
      for (const [x, t] of Object.entries(PREDECLARED_TYPES)) {
        let ch = await conn.channel();
        const same = await attempt(ch.assertExchange(x, t, { durable: true }), conn);
        ch = await conn.channel();
        const other = await attempt(
          ch.assertExchange(x, t === 'fanout' ? 'direct' : 'fanout', { durable: true }),
          conn,
        );
        out[x] = { same, other };
      }
      return out;
    },
    compareText: true,
    check: (o) => {
      for (const [x, t] of Object.entries(PREDECLARED_TYPES)) {
        const received = t === 'fanout' ? 'direct' : 'fanout';
        expect(o[x]).toEqual({
          same: { kind: 'ok' },
          other: closeOutcome(
            'channel',
            406,
            40,
            10,
            `PRECONDITION_FAILED - inequivalent arg 'type' for exchange '${x}' in vhost '/': received '${received}' but current is '${t}'`,
          ),
        });
      }
    },
  },
  {
    name: 'predeclared exchanges route: amq.direct, amq.fanout, amq.topic, amq.headers, amq.match',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const out: Record<string, unknown> = {};
      out.direct = await routeAndDrain(ctx, ch, 'amq.direct', { d: ['k'] }, ['k', 'other']);
      out.fanout = await routeAndDrain(ctx, ch, 'amq.fanout', { f: [''] }, ['any']);
      out.topic = await routeAndDrain(ctx, ch, 'amq.topic', { t: ['a.*'] }, ['a.b', 'b.a']);
      out.headers = await routeAndDrain(ctx, ch, 'amq.headers', { h: [['', { 'x-match': 'all', k: 'v' }]] }, [
        { rk: 'yes', options: { headers: { k: 'v' } } },
        { rk: 'no', options: { headers: { k: 'w' } } },
      ]);
      out.match = await routeAndDrain(ctx, ch, 'amq.match', { m: [['', { 'x-match': 'any', k: 'v', j: 'u' }]] }, [
        { rk: 'yes', options: { headers: { j: 'u' } } },
        { rk: 'no', options: { headers: { z: 'v' } } },
      ]);
      return out;
    },
    check: (o) =>
      expect(o).toEqual({
        direct: { d: ['k'] },
        fanout: { f: ['any'] },
        topic: { t: ['a.b'] },
        headers: { h: ['yes'] },
        match: { m: ['yes'] },
      }),
  },
  {
    name: 'sender-selected distribution: CC and BCC add routing keys, BCC is stripped',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const x = ctx.name('x');
      await ch.assertExchange(x, 'direct', { durable: false });
      const qs = { a: ctx.name('a'), b: ctx.name('b'), c: ctx.name('c') };
      for (const [k, q] of Object.entries(qs)) {
        await ch.assertQueue(q, { durable: false });
        await ch.bindQueue(q, x, k);
      }
      ch.publish(x, 'a', Buffer.from('m'), { CC: ['b'], BCC: ['c'], headers: { keep: 1 } });
      await ch.waitForConfirms();
      const out: Record<string, unknown> = {};
      for (const [k, q] of Object.entries(qs)) {
        const m = await ch.get(q, { noAck: true });
        out[k] = m && { ...summary(m), headers: m.properties.headers };
      }
      return out;
    },
    check: (o) =>
      expect(o).toEqual({
        a: {
          body: 'm',
          exchange: 'P-x',
          routingKey: 'a',
          redelivered: false,
          messageCount: 0,
          headers: { keep: 1, CC: ['b'] },
        },
        b: {
          body: 'm',
          exchange: 'P-x',
          routingKey: 'a',
          redelivered: false,
          messageCount: 0,
          headers: { keep: 1, CC: ['b'] },
        },
        c: {
          body: 'm',
          exchange: 'P-x',
          routingKey: 'a',
          redelivered: false,
          messageCount: 0,
          headers: { keep: 1, CC: ['b'] },
        },
      }),
  },
  {
    name: 'publish to a missing exchange: channel.close 404 NOT_FOUND (basic.publish)',
    compareText: true,
    run: async (ctx) => {
      const { conn, ch } = await ctx.open();
      ch.publish(ctx.name('nope'), 'k', Buffer.from('m'));
      const err = await conn.waitChannelError(ch);
      const other = await conn.channel();
      const stillOpen = await attempt(other.checkExchange('amq.direct'), conn);
      return { err, stillOpen };
    },
    check: (o) =>
      expect(o).toEqual({
        err: closeOutcome('channel', 404, 60, 40, "NOT_FOUND - no exchange 'P-nope' in vhost '/'"),
        stillOpen: { kind: 'ok' },
      }),
  },
  {
    name: 'unroutable message without mandatory is dropped silently (confirm ack, no return)',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const x = ctx.name('x');
      await ch.assertExchange(x, 'direct', { durable: false });
      const events: string[] = [];
      ch.on('return', () => events.push('return'));
      ch.publish(x, 'nobody', Buffer.from('m'), {}, (err) => events.push(err ? 'nack' : 'ack'));
      await ch.waitForConfirms();
      return events;
    },
    check: (o) => expect(o).toEqual(['ack']),
  },
]);
