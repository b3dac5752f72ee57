import {
  area,
  attempt,
  bodies,
  captureError,
  Consumer,
  waitForCount,
  waitUntil,
  type Conn,
  fillQueue,
  numbered,
  closeOutcome,
  publishAll,
} from '../harness';

async function queueExists(conn: Conn, q: string): Promise<boolean> {
  const ch = await conn.channel();
  const r = await attempt(ch.checkQueue(q), conn);
  if (r.kind === 'ok') await ch.close();
  return r.kind === 'ok';
}

export default area('queue-declare', [
  {
    name: 'server-named queue: amq.gen- prefix and 22 url-safe characters; declare-ok counts are 0',
    run: async (ctx) => {
      const { ch } = await ctx.open();
      const ok = await ch.assertQueue('', { exclusive: true, durable: false });
      return { shape: /^amq\.gen-[A-Za-z0-9_-]{22}$/.test(ok.queue), ok };
    },
    check: (o) => expect(o).toEqual({ shape: true, ok: { queue: 'amq.gen-*', messageCount: 0, consumerCount: 0 } }),
  },
  {
    name: 'declare-ok reports message and consumer counts (unacked messages are not counted)',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const q = await fillQueue(ch, ctx.name(), numbered(3, 'm'));
      const before = await ch.assertQueue(q, { durable: false });
      const ch2 = await ctx.channel();
      await ch2.prefetch(1);
      const c1 = await Consumer.start(ch2, q, { noAck: false });
      await Consumer.start(ch2, q, { noAck: false });
      await c1.waitFor(1);
      await waitUntil(async () => (await ch.checkQueue(q)).messageCount === 1, 2000, 'two unacked');
      const after = await ch.checkQueue(q);
      return { before, after };
    },
    check: (o) =>
      expect(o).toEqual({
        before: { queue: 'P-q', messageCount: 3, consumerCount: 0 },
        after: { queue: 'P-q', messageCount: 1, consumerCount: 2 },
      }),
  },
  {
    name: 'passive declare of a missing queue: channel.close 404 NOT_FOUND',
    compareText: true,
    run: async (ctx) => {
      const { conn, ch } = await ctx.open();
      const r = await attempt(ch.checkQueue(ctx.name('missing')), conn);
      const other = await attempt(async () => (await conn.channel()).checkExchange('amq.direct'), conn);
      return { r, connectionStillUsable: other };
    },
    check: (o) =>
      expect(o).toEqual({
        r: closeOutcome('channel', 404, 50, 10, "NOT_FOUND - no queue 'P-missing' in vhost '/'"),
        connectionStillUsable: { kind: 'ok' },
      }),
  },
  {
    name: 'redeclare with a different durable flag: 406 inequivalent arg durable',
    compareText: true,
    run: async (ctx) => {
      const { conn, ch } = await ctx.open();
      const q = ctx.name();
      await ch.assertQueue(q, { durable: false });
      return attempt(ch.assertQueue(q, { durable: true }), conn);
    },
    check: (o) =>
      expect(o).toEqual(
        closeOutcome(
          'channel',
          406,
          50,
          10,
          "PRECONDITION_FAILED - inequivalent arg 'durable' for queue 'P-q' in vhost '/': received 'true' but current is 'false'",
        ),
      ),
  },
  {
    name: 'redeclare with a different auto-delete flag or argument: 406',
    compareText: true,
    run: async (ctx) => {
      const { conn } = await ctx.open();
      const q = ctx.name();
      let ch = await conn.channel();
      await ch.assertQueue(q, { durable: false, arguments: { 'x-message-ttl': 1000 } });
      const autoDelete = await attempt(
        ch.assertQueue(q, { durable: false, autoDelete: true, arguments: { 'x-message-ttl': 1000 } }),
        conn,
      );
      ch = await conn.channel();
      const ttl = await attempt(ch.assertQueue(q, { durable: false, arguments: { 'x-message-ttl': 2000 } }), conn);
      ch = await conn.channel();
      const missingArg = await attempt(ch.assertQueue(q, { durable: false }), conn);
      ch = await conn.channel();
      const extraArg = await attempt(
        ch.assertQueue(q, { durable: false, arguments: { 'x-message-ttl': 1000, 'x-max-length': 5 } }),
        conn,
      );
      ch = await conn.channel();
      const unknownArg = await attempt(
        ch.assertQueue(q, { durable: false, arguments: { 'x-message-ttl': 1000, 'x-unknown': 5 } }),
        conn,
      );
      return { autoDelete, ttl, missingArg, extraArg, unknownArg };
    },
    check: (o) =>
      expect(o).toEqual({
        autoDelete: closeOutcome(
          'channel',
          406,
          50,
          10,
          "PRECONDITION_FAILED - inequivalent arg 'auto_delete' for queue 'P-q' in vhost '/': received 'true' but current is 'false'",
        ),
        ttl: closeOutcome(
          'channel',
          406,
          50,
          10,
          "PRECONDITION_FAILED - inequivalent arg 'x-message-ttl' for queue 'P-q' in vhost '/': received '2000' but current is '1000'",
        ),
        // amqplib encodes 1000 as a short and 5 as a byte; RabbitMQ names the wire types
        missingArg: closeOutcome(
          'channel',
          406,
          50,
          10,
          "PRECONDITION_FAILED - inequivalent arg 'x-message-ttl' for queue 'P-q' in vhost '/': received none but current is the value '1000' of type 'short'",
        ),
        extraArg: closeOutcome(
          'channel',
          406,
          50,
          10,
          "PRECONDITION_FAILED - inequivalent arg 'x-max-length' for queue 'P-q' in vhost '/': received the value '5' of type 'byte' but current is none",
        ),
        // arguments RabbitMQ does not know are not compared
        unknownArg: { kind: 'ok' },
      }),
  },
  {
    name: 'exclusive queue from another connection: channel.close 405 RESOURCE_LOCKED',
    compareText: true,
    run: async (ctx) => {
      const { ch } = await ctx.open();
      const q = ctx.name();
      await ch.assertQueue(q, { exclusive: true, durable: false });
      const other = await ctx.connect();
      const declare = await attempt(
        async () => (await other.channel()).assertQueue(q, { exclusive: true, durable: false }),
        other,
      );
      const passive = await attempt(async () => (await other.channel()).checkQueue(q), other);
      const consume = await attempt(async () => (await other.channel()).consume(q, () => undefined), other);
      const get = await attempt(async () => (await other.channel()).get(q), other);
      const del = await attempt(async () => (await other.channel()).deleteQueue(q), other);
      const purge = await attempt(async () => (await other.channel()).purgeQueue(q), other);
      const bind = await attempt(async () => (await other.channel()).bindQueue(q, 'amq.direct', 'k'), other);
      return { declare, passive, consume, get, del, purge, bind };
    },
    check: (o) => {
      const text =
        "RESOURCE_LOCKED - cannot obtain exclusive access to locked queue 'P-q' in vhost '/'. It could be originally declared on another connection or the exclusive property value does not match that of the original declaration.";
      expect(o.declare).toEqual({ kind: 'error', level: 'channel', code: 405, classId: 50, methodId: 10, text });
      expect(o.passive).toEqual({ kind: 'error', level: 'channel', code: 405, classId: 50, methodId: 10, text });
      expect(o.consume).toMatchObject({ kind: 'error', level: 'channel', code: 405, classId: 60, methodId: 20 });
      expect(o.get).toMatchObject({ kind: 'error', level: 'channel', code: 405, classId: 60, methodId: 70 });
      expect(o.del).toMatchObject({ kind: 'error', level: 'channel', code: 405, classId: 50, methodId: 40 });
      expect(o.purge).toMatchObject({ kind: 'error', level: 'channel', code: 405, classId: 50, methodId: 30 });
      expect(o.bind).toMatchObject({ kind: 'error', level: 'channel', code: 405, classId: 50, methodId: 20 });
    },
  },
  {
    name: 'redeclaring a queue as exclusive from the owning connection when it was not exclusive',
    run: async (ctx) => {
      const { conn, ch } = await ctx.open();
      const q = ctx.name();
      await ch.assertQueue(q, { durable: false });
      return attempt(ch.assertQueue(q, { durable: false, exclusive: true }), conn);
    },
    check: (o) => expect(o).toMatchObject({ kind: 'error', level: 'channel', code: 405, classId: 50, methodId: 10 }),
  },
  {
    name: 'exclusive queue is deleted when its connection closes',
    run: async (ctx) => {
      const { conn, ch } = await ctx.open();
      const q = ctx.name();
      await ch.assertQueue(q, { exclusive: true, durable: false });
      await conn.close();
      const other = await ctx.connect();
      let exists = true;
      await waitUntil(async () => !(exists = await queueExists(other, q)), 2000, 'exclusive queue deletion').catch(
        () => undefined,
      );
      return { exists };
    },
    check: (o) => expect(o).toEqual({ exists: false }),
  },
  {
    name: "queue names starting with 'amq.' are reserved: 403 ACCESS_REFUSED",
    compareText: true,
    run: async (ctx) => {
      const { conn, ch } = await ctx.open();
      return attempt(ch.assertQueue('amq.myqueue', { durable: false }), conn);
    },
    check: (o) =>
      expect(o).toEqual(
        closeOutcome(
          'channel',
          403,
          50,
          10,
          "ACCESS_REFUSED - queue name 'amq.myqueue' contains reserved prefix 'amq.*'",
        ),
      ),
  },
  {
    name: 'auto-delete queue: survives without consumers, deleted when the last consumer cancels',
    run: async (ctx) => {
      const { conn, ch } = await ctx.open();
      const q = ctx.name();
      await ch.assertQueue(q, { autoDelete: true, durable: false });
      const neverConsumed = await queueExists(conn, q);
      const c1 = await Consumer.start(ch, q);
      const c2 = await Consumer.start(ch, q);
      await c1.cancel();
      const afterFirstCancel = await queueExists(conn, q);
      await c2.cancel();
      let afterLastCancel = true;
      await waitUntil(async () => !(afterLastCancel = await queueExists(conn, q)), 2000).catch(() => undefined);
      return { neverConsumed, afterFirstCancel, afterLastCancel };
    },
    check: (o) => expect(o).toEqual({ neverConsumed: true, afterFirstCancel: true, afterLastCancel: false }),
  },
  {
    name: 'auto-delete queue: deleted when the consuming channel closes',
    run: async (ctx) => {
      const { conn } = await ctx.open();
      const q = ctx.name();
      const ch = await conn.channel();
      await ch.assertQueue(q, { autoDelete: true, durable: false });
      await Consumer.start(ch, q);
      await ch.close();
      let exists = true;
      await waitUntil(async () => !(exists = await queueExists(conn, q)), 2000).catch(() => undefined);
      return { exists };
    },
    check: (o) => expect(o).toEqual({ exists: false }),
  },
  {
    name: 'queue.purge returns the count of ready messages; unacked ones stay',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const q = await fillQueue(ch, ctx.name(), numbered(4, 'm'));
      const held = await ch.get(q, { noAck: false });
      const purge = await ch.purgeQueue(q);
      const afterPurge = await ch.checkQueue(q);
      if (held) ch.nack(held, false, true);
      await waitForCount(ch, q, 1);
      const afterRequeue = await ch.checkQueue(q);
      const purgeEmpty = await ch.purgeQueue(q).then(() => ch.purgeQueue(q));
      return { purge, afterPurge: afterPurge.messageCount, afterRequeue: afterRequeue.messageCount, purgeEmpty };
    },
    check: (o) =>
      expect(o).toEqual({
        purge: { messageCount: 3 },
        afterPurge: 0,
        afterRequeue: 1,
        purgeEmpty: { messageCount: 0 },
      }),
  },
  {
    name: 'queue.purge and queue.delete of a missing queue',
    run: async (ctx) => {
      const { conn } = await ctx.open();
      const purge = await attempt(async () => (await conn.channel()).purgeQueue(ctx.name('missing')), conn);
      const del = await captureError(async () => (await conn.channel()).deleteQueue(ctx.name('missing')), conn);
      return { purge, del };
    },
    check: (o) =>
      expect(o).toEqual({
        purge: closeOutcome('channel', 404, 50, 30, "NOT_FOUND - no queue 'P-missing' in vhost '/'"),
        del: { kind: 'ok', value: { messageCount: 0 } },
      }),
  },
  {
    name: 'queue.delete if-unused with a consumer / if-empty with ready messages: 406; unacked-only counts as empty',
    compareText: true,
    run: async (ctx) => {
      const { conn } = await ctx.openConfirm();
      const q = ctx.name();
      const pub = await conn.confirmChannel();
      await pub.assertQueue(q, { durable: false });
      pub.sendToQueue(q, Buffer.from('m'));
      await pub.waitForConfirms();
      const ifEmpty = await attempt(async () => (await conn.channel()).deleteQueue(q, { ifEmpty: true }), conn);
      const consumerCh = await conn.channel();
      await consumerCh.prefetch(1);
      const c = await Consumer.start(consumerCh, q, { noAck: false });
      await c.waitFor(1);
      const ifUnused = await attempt(async () => (await conn.channel()).deleteQueue(q, { ifUnused: true }), conn);
      // a queue whose only message is unacked counts as empty for if-empty
      const ifEmptyWithUnacked = await attempt(
        async () => (await conn.channel()).deleteQueue(q, { ifEmpty: true }),
        conn,
      );
      return { ifEmpty, ifUnused, ifEmptyWithUnacked };
    },
    check: (o) => {
      expect(o.ifEmpty).toEqual(
        closeOutcome('channel', 406, 50, 40, "PRECONDITION_FAILED - queue 'P-q' in vhost '/' not empty"),
      );
      expect(o.ifUnused).toEqual(
        closeOutcome('channel', 406, 50, 40, "PRECONDITION_FAILED - queue 'P-q' in vhost '/' in use"),
      );
      expect(o.ifEmptyWithUnacked).toEqual({ kind: 'ok' });
    },
  },
  {
    name: 'queue.delete returns the ready-message count and cancels consumers',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const q = await fillQueue(ch, ctx.name(), numbered(3, 'm'));
      const held = await ch.get(q, { noAck: false });
      const del = await ch.deleteQueue(q);
      return { held: !!held, del };
    },
    check: (o) => expect(o).toEqual({ held: true, del: { messageCount: 2 } }),
  },
  {
    name: 'bind/unbind: missing queue or exchange is 404; unbinding a missing binding (or from a missing queue) is ok',
    run: async (ctx) => {
      const { conn } = await ctx.open();
      const q = ctx.name();
      const x = ctx.name('x');
      const setup = await conn.channel();
      await setup.assertQueue(q, { durable: false });
      await setup.assertExchange(x, 'direct', { durable: false });
      const missingQueue = await attempt(async () => (await conn.channel()).bindQueue(ctx.name('noq'), x, 'k'), conn);
      const missingExchange = await attempt(
        async () => (await conn.channel()).bindQueue(q, ctx.name('nox'), 'k'),
        conn,
      );
      const unbindMissing = await attempt(async () => (await conn.channel()).unbindQueue(q, x, 'never-bound'), conn);
      const unbindMissingQueue = await attempt(
        async () => (await conn.channel()).unbindQueue(ctx.name('noq'), x, 'k'),
        conn,
      );
      const bindTwice = await attempt(async () => {
        const ch = await conn.channel();
        await ch.bindQueue(q, x, 'k');
        await ch.bindQueue(q, x, 'k');
      }, conn);
      return { missingQueue, missingExchange, unbindMissing, unbindMissingQueue, bindTwice };
    },
    compareText: true,
    check: (o) =>
      expect(o).toEqual({
        missingQueue: closeOutcome('channel', 404, 50, 20, "NOT_FOUND - no queue 'P-noq' in vhost '/'"),
        missingExchange: closeOutcome('channel', 404, 50, 20, "NOT_FOUND - no exchange 'P-nox' in vhost '/'"),
        unbindMissing: { kind: 'ok' },
        unbindMissingQueue: { kind: 'ok' },
        bindTwice: { kind: 'ok' },
      }),
  },
  {
    name: 'empty queue name in bind/consume/get refers to the last queue declared on the channel',
    run: async (ctx) => {
      const { conn, ch } = await ctx.openConfirm();
      const x = ctx.name('x');
      await ch.assertExchange(x, 'fanout', { durable: false });
      const ok = await ch.assertQueue('', { exclusive: true, durable: false });
      ctx.track(ok.queue);
      const bind = await attempt(ch.bindQueue('', x, ''), conn);
      await publishAll(ch, x, [{ rk: '', body: 'm' }]);
      const got = await ch.get('', { noAck: true });
      const fresh = await conn.channel();
      const noneDeclared = await attempt(fresh.get('', { noAck: true }), conn);
      return { bind, got: got && got.content.toString(), noneDeclared };
    },
    compareText: true,
    check: (o) =>
      expect(o).toEqual({
        bind: { kind: 'ok' },
        got: 'm',
        noneDeclared: closeOutcome('channel', 404, 60, 70, 'NOT_FOUND - no previously declared queue'),
      }),
  },
  {
    name: 'durable exclusive server-named queue; passive declare of it from the same connection',
    run: async (ctx) => {
      const { ch } = await ctx.open();
      const ok = await ch.assertQueue('', { exclusive: true, durable: true });
      const passive = await ch.checkQueue(ok.queue);
      return { passive, rest: await bodies(ch, ok.queue) };
    },
    check: (o) => expect(o).toEqual({ passive: { queue: 'amq.gen-*', messageCount: 0, consumerCount: 0 }, rest: [] }),
  },
]);
