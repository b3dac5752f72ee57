import * as P from '@warren/amqp-protocol';
import { area, attempt, type Ctx, type RawClient, bodyFrame, headerFrame, closeOutcome } from '../harness';

/** Send `header` instead of the 0-9-1 protocol header; report what came back and whether the socket closed. */
async function badHeader(ctx: Ctx, header: Buffer) {
  const r = await ctx.raw();
  r.write(header);
  const closed = await r.waitClosed(3000);
  return { reply: r.received.toString('latin1'), replyHex: r.received.toString('hex'), closed };
}

async function rawLogin(ctx: Ctx, opts: Parameters<RawClient['handshake']>[0]) {
  const r = await ctx.raw();
  const res = await r.handshake(opts);
  const closedAfter = res.close ? await r.waitClosed(3000) : undefined;
  return {
    openOk: !!res.openOk,
    close: res.close ?? null,
    dropped: !!res.dropped,
    socketClosedAfterClose: closedAfter,
  };
}

const CAPABILITIES = [
  'authentication_failure_close',
  'basic.nack',
  'connection.blocked',
  'consumer_cancel_notify',
  'consumer_priorities',
  'direct_reply_to',
  'exchange_exchange_bindings',
  'per_consumer_qos',
  'publisher_confirms',
];

/** rawLogin()'s outcome when PLAIN credentials are refused: connection.close 403, then the socket closes. */
const PLAIN_LOGIN_REFUSED = {
  openOk: false,
  close: {
    replyCode: 403,
    replyText:
      'ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN. For details see the broker logfile.',
    classId: 0,
    methodId: 0,
  },
  dropped: false,
  socketClosedAfterClose: true,
};

export default area('connection', [
  {
    name: 'protocol header with wrong revision is answered with the 0-9-1 header, then close',
    run: (ctx) => badHeader(ctx, Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 2])),
    check: (o) =>
      expect(o).toEqual({ reply: 'AMQP\u0000\u0000\u0009\u0001', replyHex: '414d515000000901', closed: true }),
  },
  {
    name: 'AMQP 1.0 protocol header is answered with the 0-9-1 header, then close',
    run: (ctx) => badHeader(ctx, Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 1, 0, 0])),
    check: (o) =>
      expect(o).toEqual({ reply: 'AMQP\u0000\u0000\u0009\u0001', replyHex: '414d515000000901', closed: true }),
  },
  {
    name: 'non-AMQP bytes are answered with the 0-9-1 header, then close',
    run: (ctx) => badHeader(ctx, Buffer.from('GET / HTTP/1.1\r\n\r\n', 'latin1')),
    check: (o) =>
      expect(o).toEqual({ reply: 'AMQP\u0000\u0000\u0009\u0001', replyHex: '414d515000000901', closed: true }),
  },
  {
    name: 'connection.start: version, mechanisms, locales, server properties and capabilities',
    run: async (ctx) => {
      const r = await ctx.raw();
      const res = await r.handshake({});
      const s = res.start;
      const caps = s.serverProperties.capabilities ?? {};
      return {
        versionMajor: s.versionMajor,
        versionMinor: s.versionMinor,
        mechanisms: s.mechanisms.split(' ').sort(),
        locales: s.locales,
        serverPropertyKeys: Object.keys(s.serverProperties).sort(),
        capabilities: Object.fromEntries(Object.entries(caps).filter(([k]) => CAPABILITIES.includes(k))),
        capabilityNames: Object.keys(caps).sort(),
        openOk: res.openOk,
      };
    },
    check: (o) => {
      expect(o.versionMajor).toBe(0);
      expect(o.versionMinor).toBe(9);
      expect(o.mechanisms).toEqual(['AMQPLAIN', 'PLAIN']);
      expect(o.locales).toBe('en_US');
      expect(o.serverPropertyKeys).toEqual([
        'capabilities',
        'cluster_name',
        'copyright',
        'information',
        'platform',
        'product',
        'version',
      ]);
      expect(o.capabilities).toEqual(Object.fromEntries(CAPABILITIES.map((c) => [c, true])));
      expect(o.openOk).toBe(true);
    },
  },
  {
    name: 'connection.tune defaults: channel_max 2047, frame_max 131072, heartbeat 60',
    run: async (ctx) => {
      const r = await ctx.raw();
      const res = await r.handshake({});
      return { tune: res.tune, openOk: res.openOk };
    },
    check: (o) => expect(o).toEqual({ tune: { channelMax: 2047, frameMax: 131072, heartbeat: 60 }, openOk: true }),
  },
  {
    name: 'PLAIN login with guest/guest',
    run: async (ctx) => {
      const { ch } = await ctx.open({ mechanism: 'PLAIN' });
      const q = ctx.name();
      return (await ch.assertQueue(q, { durable: false })).messageCount;
    },
    check: (o) => expect(o).toBe(0),
  },
  {
    name: 'AMQPLAIN login with guest/guest',
    run: async (ctx) => {
      const { ch } = await ctx.open({ mechanism: 'AMQPLAIN' });
      const q = ctx.name();
      return (await ch.assertQueue(q, { durable: false })).messageCount;
    },
    check: (o) => expect(o).toBe(0),
  },
  {
    name: 'wrong password: connection.close 403 ACCESS_REFUSED, then the socket closes',
    compareText: true,
    run: (ctx) => rawLogin(ctx, { user: 'guest', pass: 'wrong' }),
    check: (o) => expect(o).toEqual(PLAIN_LOGIN_REFUSED),
  },
  {
    name: 'unknown user: connection.close 403 ACCESS_REFUSED',
    run: (ctx) => rawLogin(ctx, { user: 'nobody-here', pass: 'guest' }),
    check: (o) => expect(o).toEqual(PLAIN_LOGIN_REFUSED),
  },
  {
    name: 'AMQPLAIN wrong password: connection.close 403 ACCESS_REFUSED',
    compareText: true,
    run: (ctx) =>
      rawLogin(ctx, {
        mechanism: 'AMQPLAIN',
        // AMQPLAIN's response is a field table without its length prefix
        response: P.encodeFieldTable(P.tableFromPlain({ LOGIN: 'guest', PASSWORD: 'nope' })).subarray(4),
      }),
    check: (o) =>
      expect(o).toMatchObject({
        openOk: false,
        close: {
          replyCode: 403,
          replyText:
            'ACCESS_REFUSED - Login was refused using authentication mechanism AMQPLAIN. For details see the broker logfile.',
        },
      }),
  },
  {
    name: 'handshake failures before connection.open: socket closed without connection.close',
    timeoutMs: 20_000,
    run: async (ctx) => {
      const variants: Record<string, Parameters<RawClient['handshake']>[0]> = {
        unknownMechanism: { mechanism: 'EXTERNAL', response: Buffer.alloc(0) },
        frameMaxBelowMinimum: { tuneOk: { frameMax: 1024 } },
        frameMaxAboveServerMax: { tuneOk: { frameMax: 131072 * 2 } },
        channelMaxAboveServerMax: { tuneOk: { channelMax: 4000 } },
        badPasswordWithoutAuthFailureCapability: { pass: 'wrong', clientProperties: { product: 'no-capabilities' } },
      };
      const out: Record<string, unknown> = {};
      await Promise.all(
        Object.entries(variants).map(async ([k, opts]) => {
          const r = await ctx.raw();
          const res = await r.handshake(opts, undefined, 10_000);
          const socketClosed = await r.waitClosed(10_000);
          out[k] = { openOk: !!res.openOk, closeMethod: res.close ?? null, socketClosed };
        }),
      );
      return out;
    },
    check: (o) => {
      for (const v of Object.values(o)) expect(v).toEqual({ openOk: false, closeMethod: null, socketClosed: true });
    },
  },
  {
    name: 'tune-ok with lower channel_max/frame_max/heartbeat is accepted',
    run: async (ctx) => {
      const r = await ctx.raw();
      const x = await r.handshake({ tuneOk: { channelMax: 10, frameMax: 4096, heartbeat: 0 } });
      return { openOk: !!x.openOk, channel1: await r.openChannel(1) };
    },
    check: (o) => expect(o).toEqual({ openOk: true, channel1: true }),
  },
  {
    name: 'server sends heartbeats at the negotiated interval',
    timeoutMs: 10_000,
    run: async (ctx) => {
      const conn = await ctx.connect({ heartbeat: 1 });
      const t0 = Date.now();
      while (conn.heartbeatsReceived === 0 && Date.now() - t0 < 4000) await new Promise((r) => setTimeout(r, 20));
      return { heartbeat: conn.raw.heartbeat, gotHeartbeat: conn.heartbeatsReceived > 0 };
    },
    check: (o) => expect(o).toEqual({ heartbeat: 1, gotHeartbeat: true }),
  },
  {
    name: 'silent client with heartbeat 1s is disconnected',
    timeoutMs: 12_000,
    run: async (ctx) => {
      const r = await ctx.raw();
      const x = await r.handshake({ tuneOk: { heartbeat: 1 } });
      const t0 = Date.now();
      // read (and ignore) server heartbeats, never send any
      let close: unknown = null;
      while (!r.closed && Date.now() - t0 < 8000) {
        const f = await r.next(200);
        if (f && f.classId === 10 && f.methodId === 50) close = f.args;
      }
      const after = Date.now() - t0;
      return { openOk: !!x.openOk, disconnected: r.closed, within8s: after < 8000, closeMethod: close };
    },
    check: (o) => expect(o).toEqual({ openOk: true, disconnected: true, within8s: true, closeMethod: null }),
  },
  {
    name: 'frame larger than the negotiated frame_max: connection.close 501 FRAME_ERROR',
    run: async (ctx) => {
      const r = await ctx.raw();
      await r.handshake({ tuneOk: { frameMax: 4096 } });
      await r.openChannel(1);
      r.method(1, P.BASIC_PUBLISH, { routingKey: 'x' });
      r.write(headerFrame(1, 10000));
      r.write(bodyFrame(1, Buffer.alloc(10000, 0x61)));
      const close = await r.awaitClose(3000);
      return { close };
    },
    check: (o) => expect(o.close).toMatchObject({ level: 'connection', code: 501 }),
  },
  {
    name: 'opening a channel above the negotiated channel_max: connection.close 530 NOT_ALLOWED',
    run: async (ctx) => {
      const r = await ctx.raw();
      await r.handshake({ tuneOk: { channelMax: 2 } });
      const ok1 = await r.openChannel(1);
      const ok2 = await r.openChannel(2);
      r.method(3, P.CHANNEL_OPEN, {});
      const close = await r.awaitClose(3000);
      return { ok1, ok2, close };
    },
    check: (o) => expect(o).toMatchObject({ ok1: true, ok2: true, close: { level: 'connection', code: 530 } }),
  },
  {
    name: 'client connection.close with open channels gets close-ok',
    run: async (ctx) => {
      const conn = await ctx.connect();
      await conn.channel();
      await conn.channel();
      const r = await attempt(conn.model.close());
      return { close: r, serverClose: conn.serverClose ?? null };
    },
    check: (o) => expect(o).toEqual({ close: { kind: 'ok' }, serverClose: null }),
  },
  {
    // RabbitMQ 3.10's default max_message_size is 128 MiB; sending 128 MiB + 1 takes ~1 s locally.
    name: 'maximum message size (128 MiB): a larger publish is refused with channel.close 406',
    compareText: true,
    timeoutMs: 60_000,
    run: async (ctx) => {
      const { conn, ch } = await ctx.open();
      const q = ctx.name();
      await ch.assertQueue(q, { durable: false });
      ch.sendToQueue(q, Buffer.alloc(128 * 1024 * 1024 + 1, 0x61));
      const err = await conn.waitChannelError(ch, 50_000);
      return { err };
    },
    check: (o) =>
      expect(o).toEqual({
        err: closeOutcome(
          'channel',
          406,
          60,
          40,
          'PRECONDITION_FAILED - message size 134217729 is larger than configured max size 134217728',
        ),
      }),
  },
]);
