import * as P from '@warren/amqp-protocol';
import {
  area,
  attempt,
  bodyFrame,
  encodeProps,
  headerFrame,
  rawFrame,
  RawBytes,
  rawOpen,
  closeOutcome,
} from '../harness';

export default area('errors', [
  {
    name: 'basic.publish with immediate=true: connection.close 540 NOT_IMPLEMENTED',
    compareText: true,
    run: async (ctx) => {
      const { conn, ch } = await ctx.open();
      (ch as any).sendMessage(
        { exchange: '', routingKey: 'x', mandatory: false, immediate: true, ticket: 0 },
        {},
        Buffer.from('m'),
      );
      return conn.waitClosed();
    },
    check: (o) => expect(o).toEqual(closeOutcome('connection', 540, 60, 40, 'NOT_IMPLEMENTED - immediate=true')),
  },
  {
    name: 'frame with a bad frame-end octet: connection.close 501 FRAME_ERROR',
    timeoutMs: 10_000,
    run: async (ctx) => {
      const r = await rawOpen(ctx);
      r.write(rawFrame(P.FRAME_METHOD, 1, P.encodeMethod(P.QUEUE_DECLARE, { queue: ctx.name() }), 0x00));
      return r.awaitClose(5000);
    },
    check: (o) => expect(o).toMatchObject({ kind: 'error', level: 'connection', code: 501 }),
  },
  {
    name: 'unknown frame type: connection.close 501 FRAME_ERROR',
    run: async (ctx) => {
      const r = await rawOpen(ctx);
      r.write(rawFrame(9, 1, Buffer.from('hello')));
      return r.awaitClose(5000);
    },
    check: (o) => expect(o).toMatchObject({ kind: 'error', level: 'connection', code: 501 }),
  },
  {
    name: 'content header without a preceding basic.publish: connection.close 505 UNEXPECTED_FRAME',
    run: async (ctx) => {
      const r = await rawOpen(ctx);
      r.write(headerFrame(1, 3));
      return r.awaitClose(5000);
    },
    check: (o) => expect(o).toMatchObject({ kind: 'error', level: 'connection', code: 505 }),
  },
  {
    name: 'body frame without a content header: connection.close 505 UNEXPECTED_FRAME',
    run: async (ctx) => {
      const r = await rawOpen(ctx);
      r.write(bodyFrame(1, Buffer.from('abc')));
      return r.awaitClose(5000);
    },
    check: (o) => expect(o).toMatchObject({ kind: 'error', level: 'connection', code: 505 }),
  },
  {
    name: 'a method frame where a content header is expected: connection.close 505 UNEXPECTED_FRAME',
    run: async (ctx) => {
      const r = await rawOpen(ctx);
      r.method(1, P.BASIC_PUBLISH, { routingKey: 'q' });
      r.method(1, P.QUEUE_DECLARE, { queue: ctx.name() });
      return r.awaitClose(5000);
    },
    check: (o) => expect(o).toMatchObject({ kind: 'error', level: 'connection', code: 505 }),
  },
  {
    name: 'a method frame in the middle of a message body: connection.close 505 UNEXPECTED_FRAME',
    run: async (ctx) => {
      const r = await rawOpen(ctx);
      r.method(1, P.BASIC_PUBLISH, { routingKey: 'q' });
      r.write(headerFrame(1, 10));
      r.write(bodyFrame(1, Buffer.from('abc')));
      r.method(1, P.QUEUE_DECLARE, { queue: ctx.name() });
      return r.awaitClose(5000);
    },
    check: (o) => expect(o).toMatchObject({ kind: 'error', level: 'connection', code: 505 }),
  },
  {
    name: 'heartbeat frame on a non-zero channel: connection.close 505 UNEXPECTED_FRAME',
    run: async (ctx) => {
      const r = await rawOpen(ctx);
      r.write(rawFrame(P.FRAME_HEARTBEAT, 1, Buffer.alloc(0)));
      return r.awaitClose(5000);
    },
    check: (o) => expect(o).toMatchObject({ kind: 'error', level: 'connection', code: 505, classId: 0, methodId: 0 }),
  },
  {
    name: 'truncated method arguments: connection.close 501 FRAME_ERROR naming the method',
    compareText: true,
    run: async (ctx) => {
      const r = await rawOpen(ctx);
      r.sendMethod(1, 50, 10, Buffer.from([0, 0, 10, 0x61]));
      return r.awaitClose(5000);
    },
    check: (o) =>
      expect(o).toEqual(closeOutcome('connection', 501, 50, 10, 'FRAME_ERROR - cannot decode <<0,0,10,97>>')),
  },
  {
    name: 'unknown method id in a known class: socket closed without connection.close',
    run: async (ctx) => {
      const r = await rawOpen(ctx);
      r.sendMethod(1, 60, 999, Buffer.alloc(0));
      return r.awaitClose(5000);
    },
    check: (o) => expect(o).toEqual({ kind: 'error', level: 'socket' }),
  },
  {
    name: 'unknown class id: socket closed without connection.close',
    run: async (ctx) => {
      const r = await rawOpen(ctx);
      r.sendMethod(1, 77, 10, Buffer.alloc(0));
      return r.awaitClose(5000);
    },
    check: (o) => expect(o).toEqual({ kind: 'error', level: 'socket' }),
  },
  {
    name: 'a server-to-client method sent by the client (queue.declare-ok): 503 COMMAND_INVALID',
    compareText: true,
    run: async (ctx) => {
      const r = await rawOpen(ctx);
      r.method(1, P.QUEUE_DECLARE_OK, { queue: 'q' });
      return r.awaitClose(5000);
    },
    check: (o) => expect(o).toEqual(closeOutcome('connection', 503, 50, 11, 'COMMAND_INVALID - unimplemented method')),
  },
  {
    name: 'a connection-class method on a non-zero channel: 503 COMMAND_INVALID',
    run: async (ctx) => {
      const r = await rawOpen(ctx);
      r.method(1, P.CONNECTION_OPEN, { virtualHost: '/' });
      return r.awaitClose(5000);
    },
    check: (o) => expect(o).toMatchObject({ kind: 'error', level: 'connection', code: 503, classId: 10, methodId: 40 }),
  },
  {
    name: 'a queue-class method on channel 0: 504 CHANNEL_ERROR',
    compareText: true,
    run: async (ctx) => {
      const r = await rawOpen(ctx);
      r.method(0, P.QUEUE_DECLARE, { queue: ctx.name() });
      return r.awaitClose(5000);
    },
    check: (o) =>
      expect(o).toEqual(
        closeOutcome('connection', 504, 50, 10, 'CHANNEL_ERROR - unexpected method in connection state running'),
      ),
  },
  {
    name: 'content header whose headers table length overruns the frame: 541 INTERNAL_ERROR',
    run: async (ctx) => {
      const r = await rawOpen(ctx);
      r.method(1, P.QUEUE_DECLARE, { queue: ctx.name() });
      await r.expectMethod(50, 11);
      r.method(1, P.BASIC_PUBLISH, { routingKey: ctx.name() });
      // flags: headers present; table length claims 100 bytes but only 3 follow
      const props = Buffer.concat([
        new RawBytes()
          .u16(1 << 13)
          .u32(100)
          .build(),
        Buffer.from([1, 0x61, 0x56]),
      ]);
      r.write(headerFrame(1, 1, props));
      r.write(bodyFrame(1, Buffer.from('x')));
      // a follow-up round trip: either the publish was refused (close) or this answers
      r.method(1, P.QUEUE_DECLARE, { queue: ctx.name(), passive: true });
      const close = await r.awaitClose(3000);
      return close ?? 'no error';
    },
    check: (o) => expect(o).toMatchObject({ kind: 'error', level: 'connection', code: 541, classId: 0, methodId: 0 }),
  },
  {
    name: 'message headers table with an unknown field type tag: 541 INTERNAL_ERROR',
    run: async (ctx) => {
      const r = await rawOpen(ctx);
      r.method(1, P.QUEUE_DECLARE, { queue: ctx.name() });
      await r.expectMethod(50, 11);
      r.method(1, P.BASIC_PUBLISH, { routingKey: ctx.name() });
      const table = Buffer.from([1, 0x6b, 0x5a, 0, 0, 0, 0]); // key 'k', tag 'Z', 4 bytes
      const props = Buffer.concat([
        new RawBytes()
          .u16(1 << 13)
          .u32(table.length)
          .build(),
        table,
      ]);
      r.write(headerFrame(1, 1, props));
      r.write(bodyFrame(1, Buffer.from('x')));
      r.method(1, P.BASIC_GET, { queue: ctx.name(), noAck: true });
      const close = await r.awaitClose(3000);
      return close ?? 'no error';
    },
    check: (o) => expect(o).toMatchObject({ kind: 'error', level: 'connection', code: 541, classId: 0, methodId: 0 }),
  },
  {
    name: 'user-id property that does not match the authenticated user: channel.close 406',
    compareText: true,
    run: async (ctx) => {
      const { conn, ch } = await ctx.open();
      const q = ctx.name();
      await ch.assertQueue(q, { durable: false });
      ch.sendToQueue(q, Buffer.from('ok'), { userId: 'guest' });
      const ok = await attempt(ch.checkQueue(q), conn);
      ch.sendToQueue(q, Buffer.from('bad'), { userId: 'mallory' });
      const bad = await attempt(ch.checkQueue(q), conn);
      return { ok, bad };
    },
    check: (o) =>
      expect(o).toEqual({
        ok: { kind: 'ok' },
        bad: closeOutcome(
          'channel',
          406,
          60,
          40,
          "PRECONDITION_FAILED - user_id property set to 'mallory' but authenticated user was 'guest'",
        ),
      }),
  },
  {
    name: 'more body bytes than announced: the message never completes; the next method is 505 UNEXPECTED_FRAME',
    compareText: true,
    run: async (ctx) => {
      const r = await rawOpen(ctx);
      r.method(1, P.BASIC_PUBLISH, { routingKey: ctx.name() });
      r.write(headerFrame(1, 2, encodeProps({})));
      r.write(bodyFrame(1, Buffer.from('abcd')));
      r.method(1, P.QUEUE_DECLARE, { queue: ctx.name() });
      return r.awaitClose(3000);
    },
    check: (o) =>
      expect(o).toEqual(
        closeOutcome(
          'connection',
          505,
          60,
          40,
          'UNEXPECTED_FRAME - expected content body, got non content body frame instead',
        ),
      ),
  },
  {
    name: 'an empty body frame after a zero-size content header: 505 UNEXPECTED_FRAME',
    run: async (ctx) => {
      const r = await rawOpen(ctx);
      r.method(1, P.BASIC_PUBLISH, { routingKey: ctx.name() });
      r.write(headerFrame(1, 0, encodeProps({})));
      r.write(bodyFrame(1, Buffer.alloc(0)));
      return r.awaitClose(3000);
    },
    check: (o) => expect(o).toMatchObject({ kind: 'error', level: 'connection', code: 505, classId: 0, methodId: 0 }),
  },
  {
    name: 'method arguments whose table length overruns the frame: 501 FRAME_ERROR',
    run: async (ctx) => {
      const r = await rawOpen(ctx);
      const args = Buffer.concat([
        new RawBytes().u16(0).shortstr(ctx.name()).u8(0).u32(50).build(),
        Buffer.from([1, 0x6b]),
      ]);
      r.sendMethod(1, 50, 10, args);
      return r.awaitClose(3000);
    },
    check: (o) => expect(o).toMatchObject({ kind: 'error', level: 'connection', code: 501, classId: 50, methodId: 10 }),
  },
  {
    name: 'method arguments table with an unknown field type tag: socket closed without connection.close',
    run: async (ctx) => {
      const r = await rawOpen(ctx);
      const table = Buffer.from([1, 0x6b, 0x5a, 0, 0, 0, 0]);
      r.sendMethod(
        1,
        50,
        10,
        Buffer.concat([new RawBytes().u16(0).shortstr(ctx.name()).u8(0).u32(table.length).build(), table]),
      );
      return r.awaitClose(3000);
    },
    check: (o) => expect(o).toEqual({ kind: 'error', level: 'socket' }),
  },
]);
