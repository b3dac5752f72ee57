import {
  area,
  attempt,
  bodies,
  Consumer,
  queueCount,
  quiet,
  sleep,
  waitUntil,
  fillQueue,
  closeOutcome,
} from '../harness';

export default area('queue-args-ttl', [
  {
    name: 'x-message-ttl: messages expire from the queue',
    run: async (ctx) => {
      const { conn, ch } = await ctx.openConfirm();
      const q = await fillQueue(ch, ctx.name(), ['a', 'b'], { durable: false, messageTtl: 200 });
      const before = (await ch.checkQueue(q)).messageCount;
      await waitUntil(async () => (await queueCount(conn, q)) === 0, 3000, 'expiry');
      return { before, after: await ch.get(q) };
    },
    check: (o) => expect(o).toEqual({ before: 2, after: false }),
  },
  {
    name: 'per-message expiration: an expired message behind a live one stays until it reaches the head',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const q = ctx.name();
      await ch.assertQueue(q, { durable: false });
      ch.sendToQueue(q, Buffer.from('live'));
      ch.sendToQueue(q, Buffer.from('short'), { expiration: '50' });
      await ch.waitForConfirms();
      await quiet(200);
      const countWhileBehind = (await ch.checkQueue(q)).messageCount;
      const first = await ch.get(q, { noAck: true });
      const second = await ch.get(q, { noAck: true });
      const countAfter = (await ch.checkQueue(q)).messageCount;
      return { countWhileBehind, first: first && first.content.toString(), second, countAfter };
    },
    check: (o) => expect(o).toEqual({ countWhileBehind: 2, first: 'live', second: false, countAfter: 0 }),
  },
  {
    name: 'per-message expiration: an expired message at the head is removed without a consumer',
    run: async (ctx) => {
      const { conn, ch } = await ctx.openConfirm();
      const q = ctx.name();
      await ch.assertQueue(q, { durable: false });
      ch.sendToQueue(q, Buffer.from('short'), { expiration: '100' });
      await ch.waitForConfirms();
      const before = (await ch.checkQueue(q)).messageCount;
      await waitUntil(async () => (await queueCount(conn, q)) === 0, 3000, 'head expiry');
      return { before, after: 0 };
    },
    check: (o) => expect(o).toEqual({ before: 1, after: 0 }),
  },
  {
    name: 'the lower of x-message-ttl and expiration applies',
    run: async (ctx) => {
      const { conn, ch } = await ctx.openConfirm();
      const q1 = ctx.name('q1');
      const q2 = ctx.name('q2');
      await ch.assertQueue(q1, { durable: false, messageTtl: 60_000 });
      await ch.assertQueue(q2, { durable: false, messageTtl: 100 });
      ch.sendToQueue(q1, Buffer.from('m'), { expiration: '100' });
      ch.sendToQueue(q2, Buffer.from('m'), { expiration: '60000' });
      await ch.waitForConfirms();
      await waitUntil(
        async () => (await queueCount(conn, q1)) === 0 && (await queueCount(conn, q2)) === 0,
        3000,
        'expiry',
      );
      return { q1: await bodies(ch, q1), q2: await bodies(ch, q2) };
    },
    check: (o) => expect(o).toEqual({ q1: [], q2: [] }),
  },
  {
    name: 'expiration "0": dropped without a ready consumer, delivered to one that is ready',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const q1 = ctx.name('q1');
      const q2 = ctx.name('q2');
      await ch.assertQueue(q1, { durable: false });
      await ch.assertQueue(q2, { durable: false });
      const c = await Consumer.start(await ctx.channel(), q2, { noAck: true });
      ch.sendToQueue(q1, Buffer.from('nobody'), { expiration: '0' });
      ch.sendToQueue(q2, Buffer.from('consumer'), { expiration: '0' });
      await ch.waitForConfirms();
      const got = await c.waitFor(1);
      return {
        q1: await bodies(ch, q1),
        delivered: got.map((m) => ({ body: m.content.toString(), expiration: m.properties.expiration })),
      };
    },
    check: (o) => expect(o).toEqual({ q1: [], delivered: [{ body: 'consumer', expiration: '0' }] }),
  },
  {
    name: 'x-message-ttl 0: same as expiration 0',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const q = await fillQueue(ch, ctx.name(), ['nobody'], { durable: false, messageTtl: 0 });
      const dropped = await bodies(ch, q);
      const c = await Consumer.start(ch, q, { noAck: true });
      ch.sendToQueue(q, Buffer.from('consumer'));
      await ch.waitForConfirms();
      const got = await c.waitFor(1);
      return { dropped, delivered: got.map((m) => m.content.toString()) };
    },
    check: (o) => expect(o).toEqual({ dropped: [], delivered: ['consumer'] }),
  },
  {
    name: 'a message delivered before it expires keeps its expiration property',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const q = ctx.name();
      await ch.assertQueue(q, { durable: false, messageTtl: 60_000 });
      ch.sendToQueue(q, Buffer.from('m'), { expiration: '30000' });
      ch.sendToQueue(q, Buffer.from('n'));
      await ch.waitForConfirms();
      const a = await ch.get(q, { noAck: true });
      const b = await ch.get(q, { noAck: true });
      return { a: a && a.properties.expiration, b: b && (b.properties.expiration ?? null) };
    },
    check: (o) => expect(o).toEqual({ a: '30000', b: null }),
  },
  {
    name: 'invalid expiration property: channel.close 406 on basic.publish',
    run: async (ctx) => {
      const { conn } = await ctx.open();
      const q = ctx.name();
      const setup = await conn.channel();
      await setup.assertQueue(q, { durable: false });
      const out: Record<string, unknown> = {};
      for (const exp of ['abc', '-1', '1.5', '']) {
        const ch = await conn.channel();
        ch.sendToQueue(q, Buffer.from('m'), { expiration: exp });
        out[JSON.stringify(exp)] = (await conn.waitChannelError(ch, 500)) ?? 'accepted';
      }
      out.left = await bodies(setup, q);
      return out;
    },
    check: (o) => {
      expect(o['"abc"']).toMatchObject({ kind: 'error', level: 'channel', code: 406, classId: 60, methodId: 40 });
      expect(o['"-1"']).toMatchObject({ kind: 'error', level: 'channel', code: 406, classId: 60, methodId: 40 });
    },
  },
  {
    name: 'invalid x-message-ttl (string, negative, too large): 406 on queue.declare',
    compareText: true,
    run: async (ctx) => {
      const { conn } = await ctx.open();
      const out: Record<string, unknown> = {};
      const cases: Record<string, unknown> = {
        string: '1000',
        negative: -1,
        float: 1.5,
        huge: { '!': 'int64', value: 2 ** 40 },
      };
      for (const [k, v] of Object.entries(cases)) {
        const ch = await conn.channel();
        out[k] = await attempt(
          ch.assertQueue(ctx.name(k), { durable: false, arguments: { 'x-message-ttl': v } }),
          conn,
        );
      }
      return out;
    },
    check: (o) => {
      for (const k of ['string', 'negative'])
        expect(o[k]).toMatchObject({ kind: 'error', level: 'channel', code: 406, classId: 50, methodId: 10 });
      expect(o).toEqual({
        string: closeOutcome(
          'channel',
          406,
          50,
          10,
          `PRECONDITION_FAILED - invalid arg 'x-message-ttl' for queue 'P-string' in vhost '/': "expected integer, got longstr"`,
        ),
        negative: closeOutcome(
          'channel',
          406,
          50,
          10,
          "PRECONDITION_FAILED - invalid arg 'x-message-ttl' for queue 'P-negative' in vhost '/': {value_negative,-1}",
        ),
        float: closeOutcome(
          'channel',
          406,
          50,
          10,
          `PRECONDITION_FAILED - invalid arg 'x-message-ttl' for queue 'P-float' in vhost '/': "expected integer, got double"`,
        ),
        huge: closeOutcome(
          'channel',
          406,
          50,
          10,
          "PRECONDITION_FAILED - invalid arg 'x-message-ttl' for queue 'P-huge' in vhost '/': {value_too_large,1099511627776}",
        ),
      });
    },
  },
  {
    name: 'x-expires: an unused queue is deleted after the timeout; invalid values are 406',
    compareText: true,
    run: async (ctx) => {
      const { conn, ch } = await ctx.open();
      const q = ctx.name();
      await ch.assertQueue(q, { durable: false, expires: 100 });
      const right = await queueCount(conn, q);
      // a passive declare counts as use and restarts the timer: poll less often than the timeout
      await waitUntil(async () => (await sleep(250), (await queueCount(conn, q)) === 'gone'), 3000, 'x-expires');
      const invalid: Record<string, unknown> = {};
      for (const [k, v] of Object.entries({ zero: 0, negative: -5, string: '100' })) {
        const c = await conn.channel();
        invalid[k] = await attempt(c.assertQueue(ctx.name(k), { durable: false, arguments: { 'x-expires': v } }), conn);
      }
      return { right, gone: true, invalid };
    },
    check: (o) => {
      expect(o.right).toBe(0);
      expect(o.gone).toBe(true);
      for (const k of ['zero', 'negative', 'string'])
        expect(o.invalid[k]).toMatchObject({ kind: 'error', level: 'channel', code: 406, classId: 50, methodId: 10 });
    },
  },
  {
    name: 'x-expires: passive declares and basic.get count as use and restart the timer',
    timeoutMs: 10_000,
    run: async (ctx) => {
      const { conn, ch } = await ctx.open();
      const q = ctx.name();
      await ch.assertQueue(q, { durable: false, expires: 250 });
      const t0 = Date.now();
      let i = 0;
      while (Date.now() - t0 < 600) {
        await sleep(80);
        if (i++ % 2) await ch.checkQueue(q);
        else await ch.get(q);
      }
      const aliveAfterUse = (await queueCount(conn, q)) !== 'gone';
      await waitUntil(
        async () => (await sleep(400), (await queueCount(conn, q)) === 'gone'),
        3000,
        'x-expires after use stopped',
      );
      return { aliveAfterUse, goneLater: true };
    },
    check: (o) => expect(o).toEqual({ aliveAfterUse: true, goneLater: true }),
  },
  {
    name: 'x-expires: a queue with a consumer is not expired',
    run: async (ctx) => {
      const { conn, ch } = await ctx.open();
      const q = ctx.name();
      await ch.assertQueue(q, { durable: false, expires: 100 });
      await Consumer.start(ch, q);
      await quiet(300);
      return { count: await queueCount(conn, q) };
    },
    check: (o) => expect(o).toEqual({ count: 0 }),
  },
]);
