import { area, attempt, bodies, rpc, type Conn, type Ctx, closeOutcome, boundQueue, publishAll } from '../harness';
import type { Channel } from 'amqplib';

/** Declare then redeclare with different options; returns the redeclare outcome. */
async function redeclare(ctx: Ctx, type: string, first: any, second: any, secondType = type) {
  const { conn, ch } = await ctx.open();
  const x = ctx.name('x');
  await ch.assertExchange(x, type, first);
  return attempt(ch.assertExchange(x, secondType, second), conn);
}

async function exists(conn: Conn, x: string): Promise<boolean> {
  const ch: Channel = await conn.channel();
  const r = await attempt(ch.checkExchange(x), conn);
  if (r.kind === 'ok') await ch.close();
  return r.kind === 'ok';
}

/** exchange.declare of P-x again with its argument `arg` different (406): `detail` says how. */
const inequivalentExchange = (arg: string, detail: string) =>
  closeOutcome(
    'channel',
    406,
    40,
    10,
    `PRECONDITION_FAILED - inequivalent arg '${arg}' for exchange 'P-x' in vhost '/': ${detail}`,
  );

export default area('exchange-declare', [
  {
    name: 'declare each type; equivalent redeclare is ok',
    run: async (ctx) => {
      const { conn, ch } = await ctx.open();
      const out: Record<string, unknown> = {};
      for (const t of ['direct', 'fanout', 'topic', 'headers']) {
        const x = ctx.name(t);
        out[t] = [
          await attempt(ch.assertExchange(x, t, { durable: false }), conn),
          await attempt(ch.assertExchange(x, t, { durable: false }), conn),
        ];
      }
      return out;
    },
    check: (o) => {
      for (const t of ['direct', 'fanout', 'topic', 'headers']) expect(o[t]).toEqual([{ kind: 'ok' }, { kind: 'ok' }]);
    },
  },
  {
    name: 'passive declare of a missing exchange: channel.close 404',
    compareText: true,
    run: async (ctx) => {
      const { conn, ch } = await ctx.open();
      return attempt(ch.checkExchange(ctx.name('missing')), conn);
    },
    check: (o) =>
      expect(o).toEqual(closeOutcome('channel', 404, 40, 10, "NOT_FOUND - no exchange 'P-missing' in vhost '/'")),
  },
  {
    name: 'redeclare with a different type: 406 inequivalent arg type',
    compareText: true,
    run: (ctx) => redeclare(ctx, 'direct', { durable: false }, { durable: false }, 'fanout'),
    check: (o) => expect(o).toEqual(inequivalentExchange('type', "received 'fanout' but current is 'direct'")),
  },
  {
    name: 'redeclare with a different durable flag: 406 inequivalent arg durable',
    compareText: true,
    run: (ctx) => redeclare(ctx, 'direct', { durable: false }, { durable: true }),
    check: (o) => expect(o).toEqual(inequivalentExchange('durable', "received 'true' but current is 'false'")),
  },
  {
    name: 'redeclare with a different auto-delete flag: 406',
    run: (ctx) => redeclare(ctx, 'direct', { durable: false, autoDelete: false }, { durable: false, autoDelete: true }),
    check: (o) => expect(o).toMatchObject({ kind: 'error', level: 'channel', code: 406, classId: 40, methodId: 10 }),
  },
  {
    name: 'redeclare with a different internal flag: 406',
    run: (ctx) => redeclare(ctx, 'direct', { durable: false, internal: false }, { durable: false, internal: true }),
    check: (o) => expect(o).toMatchObject({ kind: 'error', level: 'channel', code: 406, classId: 40, methodId: 10 }),
  },
  {
    name: 'redeclare with a different alternate-exchange argument: 406',
    run: (ctx) =>
      redeclare(
        ctx,
        'direct',
        { durable: false, alternateExchange: 'ae1' },
        { durable: false, alternateExchange: 'ae2' },
      ),
    compareText: true,
    check: (o) => expect(o).toEqual(inequivalentExchange('alternate-exchange', "received 'ae2' but current is 'ae1'")),
  },
  {
    name: 'redeclare with an extra unknown argument is accepted',
    run: (ctx) => redeclare(ctx, 'direct', { durable: false }, { durable: false, arguments: { 'x-whatever': 1 } }),
    check: (o) => expect(o).toEqual({ kind: 'ok' }),
  },
  {
    name: "declaring an exchange named 'amq.*': channel.close 403 ACCESS_REFUSED",
    compareText: true,
    run: async (ctx) => {
      const { conn, ch } = await ctx.open();
      return attempt(ch.assertExchange('amq.foo', 'direct', { durable: false }), conn);
    },
    check: (o) =>
      expect(o).toEqual(
        closeOutcome(
          'channel',
          403,
          40,
          10,
          "ACCESS_REFUSED - exchange name 'amq.foo' contains reserved prefix 'amq.*'",
        ),
      ),
  },
  {
    name: 'unknown exchange type: connection.close 503 COMMAND_INVALID',
    compareText: true,
    run: async (ctx) => {
      const { conn, ch } = await ctx.open();
      return attempt(ch.assertExchange(ctx.name('x'), 'no-such-type', { durable: false }), conn);
    },
    check: (o) =>
      expect(o).toEqual(
        closeOutcome('connection', 503, 40, 10, "COMMAND_INVALID - unknown exchange type 'no-such-type'"),
      ),
  },
  {
    name: 'internal exchange: publishing to it is 403, routing into it via exchange binding works',
    run: async (ctx) => {
      const { conn, ch } = await ctx.openConfirm();
      const internal = ctx.name('internal');
      const front = ctx.name('front');
      await ch.assertExchange(internal, 'fanout', { durable: false, internal: true });
      await ch.assertExchange(front, 'fanout', { durable: false });
      const q = await boundQueue(ctx, ch, internal, '');
      await ch.bindExchange(internal, front, '');
      await publishAll(ch, front, [{ rk: 'k', body: 'via-front' }]);
      const routed = await bodies(ch, q);
      ch.publish(internal, 'k', Buffer.from('direct'));
      const err = await conn.waitChannelError(ch);
      return { routed, err };
    },
    compareText: true,
    check: (o) =>
      expect(o).toEqual({
        routed: ['via-front'],
        err: closeOutcome(
          'channel',
          403,
          60,
          40,
          "ACCESS_REFUSED - cannot publish to internal exchange 'P-internal' in vhost '/'",
        ),
      }),
  },
  {
    name: 'auto-delete exchange: kept while never bound, deleted when its last queue binding is removed',
    run: async (ctx) => {
      const { conn, ch } = await ctx.open();
      const x = ctx.name('x');
      const q = ctx.name();
      await ch.assertExchange(x, 'direct', { durable: false, autoDelete: true });
      const beforeBind = await exists(conn, x);
      await ch.assertQueue(q, { durable: false });
      await ch.bindQueue(q, x, 'a');
      await ch.bindQueue(q, x, 'b');
      await ch.unbindQueue(q, x, 'a');
      const afterFirstUnbind = await exists(conn, x);
      await ch.unbindQueue(q, x, 'b');
      const afterLastUnbind = await exists(conn, x);
      return { beforeBind, afterFirstUnbind, afterLastUnbind };
    },
    check: (o) => expect(o).toEqual({ beforeBind: true, afterFirstUnbind: true, afterLastUnbind: false }),
  },
  {
    name: 'auto-delete exchange: deleted when its bound queue is deleted',
    run: async (ctx) => {
      const { conn, ch } = await ctx.open();
      const x = ctx.name('x');
      await ch.assertExchange(x, 'fanout', { durable: false, autoDelete: true });
      const q = await boundQueue(ctx, ch, x, '');
      await ch.deleteQueue(q);
      return { exists: await exists(conn, x) };
    },
    check: (o) => expect(o).toEqual({ exists: false }),
  },
  {
    name: 'auto-delete exchange: exchange-to-exchange bindings count (as source only)',
    run: async (ctx) => {
      const { conn, ch } = await ctx.open();
      const src = ctx.name('src');
      const dst = ctx.name('dst');
      await ch.assertExchange(src, 'fanout', { durable: false, autoDelete: true });
      await ch.assertExchange(dst, 'fanout', { durable: false, autoDelete: true });
      await ch.bindExchange(dst, src, '');
      await ch.unbindExchange(dst, src, '');
      return { src: await exists(conn, src), dst: await exists(conn, dst) };
    },
    check: (o) => expect(o).toEqual({ src: false, dst: true }),
  },
  {
    name: 'exchange.delete if-unused with bindings: 406; without: ok',
    run: async (ctx) => {
      const { conn } = await ctx.open();
      let ch = await conn.channel();
      const x = ctx.name('x');
      await ch.assertExchange(x, 'direct', { durable: false });
      const q = await boundQueue(ctx, ch, x, 'k');
      const inUse = await attempt(ch.deleteExchange(x, { ifUnused: true }), conn);
      ch = await conn.channel();
      await ch.unbindQueue(q, x, 'k');
      const unused = await attempt(ch.deleteExchange(x, { ifUnused: true }), conn);
      return { inUse, unused, exists: await exists(conn, x) };
    },
    compareText: true,
    check: (o) =>
      expect(o).toEqual({
        inUse: closeOutcome('channel', 406, 40, 20, "PRECONDITION_FAILED - exchange 'P-x' in vhost '/' in use"),
        unused: { kind: 'ok' },
        exists: false,
      }),
  },
  {
    name: 'exchange.delete if-unused when the exchange is only a binding destination',
    run: async (ctx) => {
      const { conn, ch } = await ctx.open();
      const src = ctx.name('src');
      const dst = ctx.name('dst');
      await ch.assertExchange(src, 'fanout', { durable: false });
      await ch.assertExchange(dst, 'fanout', { durable: false });
      await ch.bindExchange(dst, src, '');
      return attempt(ch.deleteExchange(dst, { ifUnused: true }), conn);
    },
    check: (o) => expect(o).toEqual({ kind: 'ok' }),
  },
  {
    name: 'exchange.delete of a missing exchange is ok',
    run: async (ctx) => {
      const { conn, ch } = await ctx.open();
      return attempt(ch.deleteExchange(ctx.name('missing')), conn);
    },
    check: (o) => expect(o).toEqual({ kind: 'ok' }),
  },
  {
    name: 'exchange.delete of amq.* exchanges: 403 ACCESS_REFUSED',
    run: async (ctx) => {
      const { conn, ch } = await ctx.open();
      return attempt(ch.deleteExchange('amq.direct'), conn);
    },
    compareText: true,
    check: (o) =>
      expect(o).toEqual(
        closeOutcome(
          'channel',
          403,
          40,
          20,
          "ACCESS_REFUSED - deletion of system exchange 'amq.direct' in vhost '/' not allowed",
        ),
      ),
  },
  {
    name: 'deleting an exchange removes its bindings (re-declared exchange routes nowhere)',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const x = ctx.name('x');
      await ch.assertExchange(x, 'fanout', { durable: false });
      const q = await boundQueue(ctx, ch, x, '');
      await ch.deleteExchange(x);
      await ch.assertExchange(x, 'fanout', { durable: false });
      await publishAll(ch, x, [{ rk: '', body: 'm' }]);
      return bodies(ch, q);
    },
    check: (o) => expect(o).toEqual([]),
  },
  {
    name: 'passive declare ignores type and flags of an existing exchange',
    run: async (ctx) => {
      const { conn, ch } = await ctx.open();
      const x = ctx.name('x');
      await ch.assertExchange(x, 'topic', { durable: false, autoDelete: true });
      return attempt(
        rpc(
          ch,
          'ExchangeDeclare',
          {
            exchange: x,
            type: 'fanout',
            passive: true,
            durable: true,
            autoDelete: false,
            internal: true,
            nowait: false,
            arguments: {},
          },
          'ExchangeDeclareOk',
        ),
        conn,
      );
    },
    check: (o) => expect(o).toEqual({ kind: 'ok' }),
  },
]);
