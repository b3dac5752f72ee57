import { createHash } from 'node:crypto';
import * as P from '@warren/amqp-protocol';
import {
  area,
  Consumer,
  definedProps,
  encodeProps,
  rawOpen,
  rawReadMessage,
  typed,
  boundQueue,
  publishAll,
} from '../harness';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Every field-table type RabbitMQ knows, with exact wire tags. */
const ALL_TYPES = {
  str: typed('S', 'héllo wörld'),
  emptyStr: typed('S', ''),
  bool: typed('t', true),
  boolFalse: typed('t', false),
  i8: typed('b', -5),
  u8: typed('B', 250),
  i16: typed('s', -30000),
  u16: typed('u', 60000),
  i32: typed('I', -2_000_000_000),
  u32: typed('i', 4_000_000_000),
  i64: typed('l', -9_000_000_000_000),
  f32: typed('f', 1.5),
  f64: typed('d', 3.141592653589793),
  dec: typed('D', { places: 2, digits: 12345 }),
  ts: typed('T', 1_700_000_000),
  bytes: typed('x', Buffer.from([0, 1, 2, 255])),
  void: typed('V', null),
  table: typed('F', { nested: typed('S', 'v'), n: typed('I', 1), deeper: typed('F', { x: typed('t', false) }) }),
  array: typed('A', [
    typed('S', 'a'),
    typed('I', 2),
    typed('t', true),
    typed('V', null),
    typed('A', [typed('b', 1)]),
    typed('F', { k: typed('S', 'v') }),
  ]),
};

const ALL_PROPS = {
  contentType: 'application/octet-stream',
  contentEncoding: 'identity',
  headers: ALL_TYPES,
  deliveryMode: 2,
  priority: 7,
  correlationId: 'corr-1',
  replyTo: 'reply-queue',
  expiration: '60000',
  messageId: 'msg-1',
  timestamp: 1_700_000_123,
  type: 'my.type',
  userId: 'guest',
  appId: 'compat',
};

export default area('messages', [
  {
    name: 'content header properties (every property, headers with every field type) are relayed byte-exactly',
    run: async (ctx) => {
      const r = await rawOpen(ctx);
      const q = ctx.name();
      r.method(1, P.QUEUE_DECLARE, { queue: q });
      await r.expectMethod(50, 11);
      const props = encodeProps(ALL_PROPS);
      r.publish(1, '', q, props, Buffer.from('payload'));
      r.method(1, P.BASIC_GET, { queue: q, noAck: true });
      const m = await rawReadMessage(r);
      if (!m) return 'get-empty';
      const got = m.header.payload.subarray(12); // skip class, weight, body size
      const flags = got.readUInt16BE(0);
      // the headers table's wire tags show the types survived
      const headers = P.decodeBasicProperties(got).headers ?? new Map();
      const tags = Object.fromEntries([...headers].map(([k, v]) => [k, v.type]));
      return {
        identical: got.equals(props),
        flags: flags.toString(2),
        tags,
        body: m.body.toString(),
        bodySize: Number(m.header.payload.readBigUInt64BE(4)),
      };
    },
    check: (o) =>
      expect(o).toEqual({
        identical: true,
        flags: '1111111111111000',
        tags: Object.fromEntries(Object.entries(ALL_TYPES).map(([k, v]) => [k, v.type])),
        body: 'payload',
        bodySize: 7,
      }),
  },
  {
    name: 'amqplib round trip of every property and header value type (via consume)',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const q = ctx.name();
      await ch.assertQueue(q, { durable: false });
      const c = await Consumer.start(ch, q, { noAck: true });
      ch.sendToQueue(q, Buffer.from('x'), {
        ...ALL_PROPS,
        headers: {
          s: 'str',
          n8: 5,
          n16: 1000,
          n32: 100000,
          n64: 2 ** 40,
          neg: -7,
          dbl: 2.5,
          flt: { '!': 'float', value: 0.5 },
          t: true,
          f: false,
          nul: null,
          buf: Buffer.from('bin'),
          arr: [1, 'two', [3]],
          obj: { a: { b: 'c' } },
          ts: { '!': 'timestamp', value: 1_600_000_000 },
          dec: { '!': 'decimal', value: { places: 1, digits: 15 } },
          u8: { '!': 'uint8', value: 200 },
          u16: { '!': 'uint16', value: 50000 },
          u32: { '!': 'uint32', value: 3_000_000_000 },
        },
      });
      const [m] = await c.waitFor(1);
      return definedProps(m);
    },
    check: (o) =>
      expect(o).toEqual({
        ...ALL_PROPS,
        headers: {
          s: 'str',
          n8: 5,
          n16: 1000,
          n32: 100000,
          n64: 2 ** 40,
          neg: -7,
          dbl: 2.5,
          flt: 0.5,
          t: true,
          f: false,
          nul: null,
          buf: { $bytes: Buffer.from('bin').toString('hex') },
          arr: [1, 'two', [3]],
          obj: { a: { b: 'c' } },
          ts: { '!': 'timestamp', value: 1_600_000_000 },
          dec: { '!': 'decimal', value: { places: 1, digits: 15 } },
          u8: 200,
          u16: 50000,
          u32: 3_000_000_000,
        },
      }),
  },
  {
    name: 'a message with no properties has property flags 0',
    run: async (ctx) => {
      const r = await rawOpen(ctx);
      const q = ctx.name();
      r.method(1, P.QUEUE_DECLARE, { queue: q });
      await r.expectMethod(50, 11);
      r.publish(1, '', q, encodeProps({}), Buffer.from('p'));
      r.method(1, P.BASIC_GET, { queue: q, noAck: true });
      const m = await rawReadMessage(r);
      return (
        m && {
          props: m.header.payload.subarray(12).toString('hex'),
          weight: m.header.payload.readUInt16BE(2),
          classId: m.header.payload.readUInt16BE(0),
        }
      );
    },
    check: (o) => expect(o).toEqual({ props: '0000', weight: 0, classId: 60 }),
  },
  {
    name: 'large message spanning several body frames arrives intact',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const q = ctx.name();
      await ch.assertQueue(q, { durable: false });
      const body = Buffer.alloc(1_000_003);
      for (let i = 0; i < body.length; i++) body[i] = (i * 31 + 7) & 0xff;
      ch.sendToQueue(q, body);
      ch.sendToQueue(q, body);
      await ch.waitForConfirms();
      const g = await ch.get(q, { noAck: true });
      const c = await Consumer.start(ch, q, { noAck: true });
      const [m] = await c.waitFor(1);
      return {
        consumed: { length: m.content.length, sha: sha(m.content) === sha(body) },
        got: g && { length: g.content.length, sha: sha(g.content) === sha(body) },
      };
    },
    check: (o) =>
      expect(o).toEqual({ consumed: { length: 1_000_003, sha: true }, got: { length: 1_000_003, sha: true } }),
  },
  {
    name: 'deliveries are split into body frames of at most frame_max - 8 bytes',
    run: async (ctx) => {
      const r = await rawOpen(ctx, { frameMax: 4096 });
      const q = ctx.name();
      r.method(1, P.QUEUE_DECLARE, { queue: q });
      await r.expectMethod(50, 11);
      const body = Buffer.alloc(10_000, 0x61);
      r.publish(1, '', q, encodeProps({}), body, 4096);
      r.publish(1, '', q, encodeProps({}), Buffer.alloc(4088, 0x62), 4096);
      r.publish(1, '', q, encodeProps({}), Buffer.alloc(4089, 0x63), 4096);
      const out = [];
      for (let i = 0; i < 3; i++) {
        r.method(1, P.BASIC_GET, { queue: q, noAck: true });
        const m = await rawReadMessage(r);
        out.push(m && m.bodyFrames);
      }
      return out;
    },
    check: (o) => expect(o).toEqual([[4088, 4088, 1824], [4088], [4088, 1]]),
  },
  {
    name: 'zero-length body: no body frame is sent; get and consume see an empty body',
    run: async (ctx) => {
      const r = await rawOpen(ctx);
      const q = ctx.name();
      r.method(1, P.QUEUE_DECLARE, { queue: q });
      await r.expectMethod(50, 11);
      r.publish(1, '', q, encodeProps({ contentType: 'text/plain' }), Buffer.alloc(0));
      r.publish(1, '', q, encodeProps({}), Buffer.alloc(0));
      r.method(1, P.BASIC_GET, { queue: q, noAck: true });
      const m = await rawReadMessage(r);
      r.method(1, P.BASIC_CONSUME, { queue: q, consumerTag: 'c', noAck: true });
      await r.expectMethod(60, 21);
      const d = await rawReadMessage(r);
      // a round trip proves no stray body frame followed
      r.method(1, P.QUEUE_DECLARE, { queue: q, passive: true });
      const next = await r.next(2000);
      return {
        get: m && { bodyFrames: m.bodyFrames, size: Number(m.header.payload.readBigUInt64BE(4)) },
        deliver: d && {
          bodyFrames: d.bodyFrames,
          size: Number(d.header.payload.readBigUInt64BE(4)),
          consumerTag: d.method.args.consumerTag,
        },
        nextFrame: next && [next.type, next.classId, next.methodId],
      };
    },
    check: (o) =>
      expect(o).toEqual({
        get: { bodyFrames: [], size: 0 },
        deliver: { bodyFrames: [], size: 0, consumerTag: 'c' },
        nextFrame: [1, 50, 11],
      }),
  },
  {
    name: 'amqplib: zero-length body with headers survives get and dead-lettering',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const q = ctx.name('q');
      const dlq = ctx.name('dlq');
      await ch.assertQueue(dlq, { durable: false });
      await ch.assertQueue(q, { durable: false, deadLetterExchange: '', deadLetterRoutingKey: dlq });
      ch.sendToQueue(q, Buffer.alloc(0), { headers: { k: 'v' } });
      await ch.waitForConfirms();
      const m = await ch.get(q, { noAck: false });
      if (m) ch.reject(m, false);
      let d: any = false;
      for (let i = 0; i < 200 && !d; i++) d = await ch.get(dlq, { noAck: true });
      return {
        first: m && m.content.length,
        dead: d && {
          length: d.content.length,
          k: d.properties.headers.k,
          reason: d.properties.headers['x-first-death-reason'],
        },
      };
    },
    check: (o) => expect(o).toEqual({ first: 0, dead: { length: 0, k: 'v', reason: 'rejected' } }),
  },
  {
    name: 'unicode queue names, exchange names and routing keys',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const x = ctx.name('échange-ü');
      await ch.assertExchange(x, 'topic', { durable: false });
      const q = await boundQueue(ctx, ch, x, 'clé.*', 'очередь-✓');
      await publishAll(ch, x, [{ rk: 'clé.日本', body: 'ünï' }]);
      const m = await ch.get(q, { noAck: true });
      return (
        m && {
          body: m.content.toString(),
          exchange: m.fields.exchange,
          routingKey: m.fields.routingKey,
          queueOk: (await ch.checkQueue(q)).queue,
        }
      );
    },
    check: (o) =>
      expect(o).toEqual({ body: 'ünï', exchange: 'P-échange-ü', routingKey: 'clé.日本', queueOk: 'P-очередь-✓' }),
  },
  {
    name: 'delivery-mode, priority and other properties are not altered by routing through several exchanges',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const a = ctx.name('a');
      const b = ctx.name('b');
      const q = ctx.name();
      await ch.assertExchange(a, 'topic', { durable: false });
      await ch.assertExchange(b, 'headers', { durable: false });
      await ch.assertQueue(q, { durable: false });
      await ch.bindExchange(b, a, '#');
      await ch.bindQueue(q, b, '', { 'x-match': 'any', k: 'v' });
      ch.publish(a, 'r.k', Buffer.from('m'), {
        deliveryMode: 1,
        priority: 0,
        headers: { k: 'v' },
        timestamp: 0,
        expiration: '100000',
      });
      await ch.waitForConfirms();
      const m = await ch.get(q, { noAck: true });
      return m && definedProps(m);
    },
    check: (o) =>
      expect(o).toEqual({ deliveryMode: 1, priority: 0, headers: { k: 'v' }, timestamp: 0, expiration: '100000' }),
  },
]);
