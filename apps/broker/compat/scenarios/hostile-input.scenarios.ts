import * as P from '@warren/amqp-protocol';
import {
  area,
  attempt,
  bodyFrame,
  errorOutcome,
  headerFrame,
  queueCount,
  RawBytes,
  rawOpen,
  sleep,
  waitUntil,
  fillQueue,
} from '../harness';

// Input found by fuzzing that once deleted a queue or crashed a connection on the bundled broker, pinned
// against RabbitMQ: timers past 2^31 - 1 ms, shortstrs of malformed UTF-8, and properties that must come back
// byte for byte after the broker rewrites the headers (BCC is taken out before delivery).

const LIMIT = 2 ** 31 - 1;
const TEN_YEARS = 315_360_000_000;

const table = (entries: Buffer) => new RawBytes().longstr(entries).build();
const entry = (name: string, type: string, value: Buffer) =>
  new RawBytes().shortstr(name).bytes(Buffer.from(type)).bytes(value).build();

export default area('hostile-input', [
  {
    name: 'x-expires at and past 2^31 - 1 ms keeps the queue (up to ten years); past ten years is 406',
    compareText: true,
    run: async (ctx) => {
      const { conn, ch } = await ctx.open();
      const long = [LIMIT, LIMIT + 1, 2 ** 32, TEN_YEARS];
      for (const ms of long)
        await ch.assertQueue(ctx.name(`e${ms}`), { durable: false, arguments: { 'x-expires': ms } });
      const control = ctx.name('control');
      await ch.assertQueue(control, { durable: false, arguments: { 'x-expires': 50 } });
      // a passive declare counts as use and restarts the timer: poll less often than the timeout
      await waitUntil(
        async () => (await sleep(150), (await queueCount(conn, control)) === 'gone'),
        3000,
        'the control queue to expire',
      );
      const kept = await Promise.all(long.map((ms) => queueCount(conn, ctx.name(`e${ms}`))));
      const c = await conn.channel();
      const tooLong = await attempt(
        c.assertQueue(ctx.name('too-long'), { durable: false, arguments: { 'x-expires': TEN_YEARS + 1 } }),
        conn,
      );
      return { kept, tooLong };
    },
    check: (o) => {
      expect(o.kept).toEqual([0, 0, 0, 0]);
      expect(o.tooLong).toMatchObject({ kind: 'error', code: 406 });
    },
  },
  {
    name: 'x-message-ttl and expiration at and past 2^31 - 1 ms keep the message',
    run: async (ctx) => {
      const { conn, ch } = await ctx.openConfirm();
      const ttls = [LIMIT + 1, 2 ** 32, TEN_YEARS];
      for (const ms of ttls) {
        await ch.assertQueue(ctx.name(`t${ms}`), { durable: false, arguments: { 'x-message-ttl': ms } });
        ch.sendToQueue(ctx.name(`t${ms}`), Buffer.from('kept'));
      }
      const perMessage = ctx.name('expiration');
      await ch.assertQueue(perMessage, { durable: false });
      for (const expiration of [String(LIMIT + 1), String(2 ** 32), String(TEN_YEARS)])
        ch.sendToQueue(perMessage, Buffer.from('kept'), { expiration });
      const control = await fillQueue(ch, ctx.name('control'), ['expires'], {
        durable: false,
        arguments: { 'x-message-ttl': 50 },
      });
      await waitUntil(async () => (await queueCount(conn, control)) === 0, 3000, 'the control message to expire');
      const kept = {
        ttl: await Promise.all(ttls.map((ms) => queueCount(conn, ctx.name(`t${ms}`)))),
        expiration: await queueCount(conn, perMessage),
      };
      const c = await conn.channel();
      const closed = new Promise<unknown>((resolve) => c.once('error', resolve));
      c.sendToQueue(perMessage, Buffer.from('too long'), { expiration: String(TEN_YEARS + 1) });
      return { ...kept, tooLong: errorOutcome(await closed, conn) };
    },
    compareText: true,
    check: (o) => expect(o).toMatchObject({ ttl: [1, 1, 1], expiration: 3, tooLong: { kind: 'error', code: 406 } }),
  },
  {
    name: 'a queue name of malformed UTF-8 closes the connection with 501',
    compareText: true,
    run: async (ctx) => {
      const r = await rawOpen(ctx);
      r.sendMethod(1, 50, 10, new RawBytes().u16(0).u8(255).bytes(Buffer.alloc(255, 0xff)).u8(0).table({}).build());
      return r.awaitClose(3000);
    },
    check: (o) =>
      expect(o).toMatchObject({
        kind: 'error',
        level: 'connection',
        code: 501,
        text: 'FRAME_ERROR - Malformed UTF-8 in shortstr',
      }),
  },
  {
    name: 'a consumer tag of malformed UTF-8 closes the connection with 501',
    compareText: true,
    run: async (ctx) => {
      const q = ctx.name();
      const { ch } = await ctx.open();
      await ch.assertQueue(q, { durable: false });
      const r = await rawOpen(ctx);
      r.sendMethod(
        1,
        60,
        20,
        new RawBytes()
          .u16(0)
          .shortstr(q)
          .u8(3)
          .bytes(Buffer.from([0x61, 0xff, 0x62]))
          .u8(0)
          .table({})
          .build(),
      );
      return r.awaitClose(3000);
    },
    check: (o) => expect(o).toMatchObject({ kind: 'error', level: 'connection', code: 501 }),
  },
  {
    name: 'a routing key of malformed UTF-8 is routed and delivered as it came',
    run: async (ctx) => {
      const q = ctx.name();
      const { ch } = await ctx.open();
      await ch.assertQueue(q, { durable: false });
      await ch.bindQueue(q, 'amq.fanout', '');
      const r = await rawOpen(ctx);
      const key = Buffer.concat([Buffer.from('k.'), Buffer.alloc(253, 0xfe)]);
      r.sendMethod(1, 60, 40, new RawBytes().u16(0).shortstr('amq.fanout').u8(key.length).bytes(key).u8(0).build());
      r.write(headerFrame(1, 1));
      r.write(bodyFrame(1, Buffer.from('x')));
      r.method(1, P.BASIC_GET, { queue: q, noAck: true });
      const ok = await r.expectMethod(60, 71, 3000);
      await ch.unbindQueue(q, 'amq.fanout', '');
      const raw = ok?.payload;
      return raw
        ? raw.subarray(raw.length - 4 - 256, raw.length - 4).equals(Buffer.concat([Buffer.from([255]), key]))
        : 'no get-ok';
    },
    check: (o) => expect(o).toBe(true),
  },
  {
    name: 'BCC is taken out and every other property comes back byte for byte (64-bit extremes, malformed UTF-8, booleans as 1)',
    run: async (ctx) => {
      const q = ctx.name();
      const { ch } = await ctx.open();
      await ch.assertQueue(q, { durable: false });
      const r = await rawOpen(ctx);
      const bcc = entry(
        'BCC',
        'A',
        new RawBytes().longstr(new RawBytes().bytes(Buffer.from('S')).longstr(q).build()).build(),
      );
      const cases: Record<string, Buffer> = {
        'bool 2': entry('t', 't', Buffer.from([2])),
        'long max': entry('l', 'l', Buffer.from('7fffffffffffffff', 'hex')),
        'long min': entry('l', 'l', Buffer.from('8000000000000000', 'hex')),
        'timestamp max': entry('T', 'T', Buffer.from('ffffffffffffffff', 'hex')),
        'longstr malformed': entry('S', 'S', Buffer.from('0000000361ffc3', 'hex')),
        'float -0': entry('f', 'f', Buffer.from('80000000', 'hex')),
        decimal: entry('D', 'D', Buffer.from('ff80000000', 'hex')),
        'unsigned short max': entry('u', 'u', Buffer.from('ffff', 'hex')),
        'name malformed': entry('\u0000', 'V', Buffer.alloc(0)).fill(0xff, 1, 2),
      };
      const flags = new RawBytes().u16((1 << 13) | (1 << 7) | (1 << 6)).build(); // headers, message-id, timestamp
      const tail = Buffer.concat([Buffer.from([3, 0x61, 0xff, 0x62]), Buffer.from('ffffffffffffffff', 'hex')]);
      const out: Record<string, string> = {};
      for (const [label, value] of Object.entries(cases)) {
        r.method(1, P.BASIC_PUBLISH, { routingKey: 'elsewhere' });
        r.write(headerFrame(1, 1, Buffer.concat([flags, table(Buffer.concat([value, bcc])), tail])));
        r.write(bodyFrame(1, Buffer.from('x')));
        r.method(1, P.BASIC_GET, { queue: q, noAck: true });
        const ok = await r.expectMethod(60, 71, 3000);
        const header = ok && (await r.next(3000));
        await r.next(3000); // body
        out[label] = header ? header.payload.subarray(12).toString('hex') : 'none';
      }
      return out;
    },
    check: (o) => {
      const flags = '20c0';
      const tail = '0361ff62ffffffffffffffff';
      const hex = (entries: string) => `${flags}${(entries.length / 2).toString(16).padStart(8, '0')}${entries}${tail}`;
      expect(o['bool 2']).toBe(hex('01747401')); // any non-zero octet is true, and true is written as 1
      expect(o['long max']).toBe(hex('016c6c7fffffffffffffff'));
      expect(o['timestamp max']).toBe(hex('015454ffffffffffffffff'));
      expect(o['longstr malformed']).toBe(hex('0153530000000361ffc3'));
      expect(o['name malformed']).toBe(hex('01ff56'));
    },
  },
  {
    name: 'properties that do not parse are refused at publish (541) even when no property needs reading; the continuation bit is ignored',
    run: async (ctx) => {
      const q = ctx.name();
      const { ch } = await ctx.open();
      await ch.assertQueue(q, { durable: false });
      const out: Record<string, unknown> = {};
      const cases: Record<string, Buffer> = {
        'content-type overruns the list': Buffer.from('8000c8616263', 'hex'),
        'a second flags word after the continuation bit': Buffer.from('800100000a746578742f706c61696e', 'hex'),
        'bytes after the list': Buffer.from('1000020000', 'hex'),
        'continuation bit, list right after the first word': Buffer.from('80010a746578742f706c61696e', 'hex'),
      };
      for (const [label, props] of Object.entries(cases)) {
        const r = await rawOpen(ctx);
        r.method(1, P.BASIC_PUBLISH, { routingKey: q });
        r.write(headerFrame(1, 1, props));
        r.write(bodyFrame(1, Buffer.from('x')));
        r.method(1, P.BASIC_GET, { queue: q, noAck: true });
        const f = await r.next(3000);
        if (f?.classId === 60 && f.methodId === 71) {
          const header = await r.next(3000);
          out[label] = header?.payload.subarray(12).toString('hex');
        } else
          out[label] =
            f?.classId === 10 && f.methodId === 50
              ? { code: f.args.replyCode, classId: f.args.classId, methodId: f.args.methodId }
              : 'nothing';
        r.close();
      }
      return out;
    },
    check: (o) =>
      expect(o).toEqual({
        'content-type overruns the list': { code: 541, classId: 0, methodId: 0 },
        'a second flags word after the continuation bit': { code: 541, classId: 0, methodId: 0 },
        'bytes after the list': { code: 541, classId: 0, methodId: 0 },
        'continuation bit, list right after the first word': '80010a746578742f706c61696e',
      }),
  },
]);
