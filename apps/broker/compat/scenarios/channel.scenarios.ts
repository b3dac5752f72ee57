import * as P from '@warren/amqp-protocol';
import { area, attempt, Consumer, rawOpen, rpc, sendMethod, closeOutcome } from '../harness';

export default area('channel', [
  {
    name: 'channel.flow active=true is answered with flow-ok active=true',
    run: async (ctx) => {
      const { conn, ch } = await ctx.open();
      return attempt(() => rpc(ch, 'ChannelFlow', { active: true }, 'ChannelFlowOk'), conn).then(async (r) => ({
        r,
        reply: r.kind === 'ok' ? await rpc(ch, 'ChannelFlow', { active: true }, 'ChannelFlowOk') : null,
      }));
    },
    check: (o) => expect(o).toEqual({ r: { kind: 'ok' }, reply: { active: true } }),
  },
  {
    name: 'channel.flow active=false: connection.close 540 NOT_IMPLEMENTED',
    compareText: true,
    run: async (ctx) => {
      const { conn, ch } = await ctx.open();
      return attempt(rpc(ch, 'ChannelFlow', { active: false }, 'ChannelFlowOk'), conn);
    },
    check: (o) => expect(o).toEqual(closeOutcome('connection', 540, 20, 20, 'NOT_IMPLEMENTED - active=false')),
  },
  {
    name: 'channel.open on an already open channel: connection.close 504 CHANNEL_ERROR',
    compareText: true,
    run: async (ctx) => {
      const { conn, ch } = await ctx.open();
      sendMethod(ch, 'ChannelOpen', { outOfBand: '' });
      return conn.waitClosed();
    },
    check: (o) =>
      expect(o).toEqual(closeOutcome('connection', 504, 20, 10, "CHANNEL_ERROR - second 'channel.open' seen")),
  },
  {
    name: 'a method on a channel that was never opened: connection.close 504 CHANNEL_ERROR',
    compareText: true,
    run: async (ctx) => {
      const r = await rawOpen(ctx);
      r.method(5, P.QUEUE_DECLARE, { queue: ctx.name() });
      return r.awaitClose();
    },
    check: (o) => expect(o).toEqual(closeOutcome('connection', 504, 50, 10, "CHANNEL_ERROR - expected 'channel.open'")),
  },
  {
    name: 'channel.close on a channel that was never opened: connection.close 504 CHANNEL_ERROR',
    run: async (ctx) => {
      const r = await rawOpen(ctx);
      r.method(7, P.CHANNEL_CLOSE, { replyCode: 200, replyText: 'bye' });
      const f = await r.next(1000);
      return f && f.type === 1 ? { classId: f.classId, methodId: f.methodId, channel: f.channel, args: f.args } : f;
    },
    check: (o) =>
      expect(o).toEqual({
        classId: 10,
        methodId: 50,
        channel: 0,
        args: { replyCode: 504, replyText: "CHANNEL_ERROR - expected 'channel.open'", classId: 20, methodId: 40 },
      }),
  },
  {
    name: 'channel numbers can be reused after close; close-ok received',
    run: async (ctx) => {
      const r = await rawOpen(ctx);
      r.method(1, P.CHANNEL_CLOSE, { replyCode: 200, replyText: 'bye' });
      const closeOk = await r.expectMethod(20, 41);
      const reopened = await r.openChannel(1);
      return { closeOk: !!closeOk, reopened };
    },
    check: (o) => expect(o).toEqual({ closeOk: true, reopened: true }),
  },
  {
    name: 'after the server sends channel.close, methods are ignored until close-ok; then the channel can be reopened',
    run: async (ctx) => {
      const r = await rawOpen(ctx);
      r.method(1, P.QUEUE_DECLARE, { queue: ctx.name('missing'), passive: true });
      const close = await r.expectMethod(20, 40);
      // ignored while closing:
      r.method(1, P.QUEUE_DECLARE, { queue: ctx.name('ignored') });
      r.method(1, P.CHANNEL_CLOSE_OK, {});
      const reopened = await r.openChannel(1);
      // if the ignored declare had been executed, a passive declare would now find the queue
      r.method(1, P.QUEUE_DECLARE, { queue: ctx.name('ignored'), passive: true });
      const f = await r.next(2000);
      return {
        close: close && close.args,
        reopened,
        ignoredDeclare: f && f.classId === 20 && f.methodId === 40 ? 'not executed' : 'executed',
      };
    },
    check: (o) =>
      expect(o).toEqual({
        close: {
          replyCode: 404,
          replyText: "NOT_FOUND - no queue 'P-missing' in vhost '/'",
          classId: 50,
          methodId: 10,
        },
        reopened: true,
        ignoredDeclare: 'not executed',
      }),
  },
  {
    name: 'a channel error on ch1 disturbs neither ch2 (with a live consumer) nor another connection',
    run: async (ctx) => {
      const { conn, ch } = await ctx.open();
      const q = ctx.name();
      await ch.assertQueue(q, { durable: false });
      const ch2 = await conn.channel();
      const c = await Consumer.start(ch2, q, { noAck: true });
      const other = await ctx.connect();
      const och = await other.confirmChannel();
      const ch1 = await conn.channel();
      const err = await attempt(ch1.checkQueue(ctx.name('missing')), conn);
      och.sendToQueue(q, Buffer.from('after-error'));
      await och.waitForConfirms();
      await c.waitFor(1);
      const ch2Ok = await attempt(ch2.checkQueue(q), conn);
      const otherOk = await attempt(och.checkQueue(q), other);
      return {
        err,
        ch2Ok,
        otherOk,
        delivered: c.messages.map((m) => m.content.toString()),
        connOpen: !conn.closed && !other.closed,
      };
    },
    check: (o) =>
      expect(o).toMatchObject({
        err: { kind: 'error', level: 'channel', code: 404 },
        ch2Ok: { kind: 'ok' },
        otherOk: { kind: 'ok' },
        delivered: ['after-error'],
        connOpen: true,
      }),
  },
  {
    name: 'a connection error closes every channel on that connection but not other connections',
    run: async (ctx) => {
      const { conn, ch } = await ctx.open();
      const ch2 = await conn.channel();
      const other = await ctx.connect();
      const och = await other.channel();
      await rpc(ch, 'BasicQos', { prefetchSize: 1, prefetchCount: 0, global: false }, 'BasicQosOk').catch(
        () => undefined,
      );
      const closed = await conn.waitClosed();
      const ch2r = await attempt(async () => ch2.checkExchange('amq.direct'), conn);
      const otherOk = await attempt(och.checkExchange('amq.direct'), other);
      return { closed, ch2: ch2r.kind, otherOk };
    },
    check: (o) =>
      expect(o).toMatchObject({
        closed: { kind: 'error', level: 'connection', code: 540 },
        ch2: 'error',
        otherOk: { kind: 'ok' },
      }),
  },
]);
