import type { ConfirmChannel, Message } from 'amqplib';
import {
  area,
  bodies,
  Consumer,
  definedProps,
  quiet,
  summary,
  waitForCount,
  waitUntil,
  type Ctx,
  fillQueue,
  drainRedelivered,
  boundQueue,
} from '../harness';
import { deathHeaders } from '../dead-letter-headers';

/** A DLX (fanout) with one queue bound; returns names. */
async function dlxSetup(ctx: Ctx, ch: ConfirmChannel, type = 'fanout', bindKey = '') {
  const dlx = ctx.name('dlx');
  const dlq = ctx.name('dlq');
  await ch.assertExchange(dlx, type, { durable: false });
  await ch.assertQueue(dlq, { durable: false });
  await ch.bindQueue(dlq, dlx, bindKey);
  return { dlx, dlq };
}

/** Wait until `q` has a message and fetch it (no-ack). */
async function fetch(ch: ConfirmChannel, q: string): Promise<Message> {
  let m: Message | false = false;
  await waitUntil(async () => !!(m = await ch.get(q, { noAck: true })), 3000, `a message in ${q}`);
  return m as unknown as Message;
}

const dead = (m: Message) => ({ ...summary(m), properties: definedProps(m) });

/** The properties the properties-preserved scenario publishes, and expects back on the dead letter. */
const EVERY_PROPERTY = {
  contentType: 'application/json',
  contentEncoding: 'gzip',
  deliveryMode: 2,
  priority: 4,
  correlationId: 'c',
  replyTo: 'r',
  messageId: 'i',
  timestamp: 1_600_000_000,
  type: 't',
  appId: 'a',
};

export default area('dead-lettering', [
  {
    name: 'reject requeue=false: x-death entry and x-first-death-* headers',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const { dlx, dlq } = await dlxSetup(ctx, ch);
      const src = ctx.name('src');
      const q = ctx.name('q');
      await ch.assertExchange(src, 'direct', { durable: false });
      await ch.assertQueue(q, { durable: false, deadLetterExchange: dlx });
      await ch.bindQueue(q, src, 'rk');
      ch.publish(src, 'rk', Buffer.from('m'), {
        headers: { mine: 'kept' },
        contentType: 'text/plain',
        messageId: 'id-1',
      });
      await ch.waitForConfirms();
      const m = await ch.get(q, { noAck: false });
      if (m) ch.reject(m, false);
      return dead(await fetch(ch, dlq));
    },
    check: (o) =>
      expect(o).toEqual({
        body: 'm',
        exchange: 'P-dlx',
        routingKey: 'rk',
        redelivered: false,
        messageCount: 0,
        properties: {
          contentType: 'text/plain',
          messageId: 'id-1',
          headers: {
            mine: 'kept',
            ...deathHeaders('rejected', { exchange: 'P-src', keys: ['rk'] }),
          },
        },
      }),
  },
  {
    name: 'nack multiple requeue=false dead-letters every message in order',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const { dlx, dlq } = await dlxSetup(ctx, ch);
      const q = ctx.name('q');
      await ch.assertQueue(q, { durable: false, deadLetterExchange: dlx });
      for (const b of ['1', '2', '3']) ch.sendToQueue(q, Buffer.from(b));
      await ch.waitForConfirms();
      let last: Message | false = false;
      for (let i = 0; i < 3; i++) last = await ch.get(q, { noAck: false });
      if (last) ch.nack(last, true, false);
      await waitUntil(async () => (await ch.checkQueue(dlq)).messageCount === 3, 3000);
      return bodies(ch, dlq);
    },
    check: (o) => expect(o).toEqual(['1', '2', '3']),
  },
  {
    name: 'expired by x-message-ttl: reason expired, no original-expiration',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const { dlx, dlq } = await dlxSetup(ctx, ch);
      await fillQueue(ch, ctx.name('q'), ['m'], { durable: false, deadLetterExchange: dlx, messageTtl: 50 });
      return dead(await fetch(ch, dlq));
    },
    check: (o) =>
      expect(o).toEqual({
        body: 'm',
        exchange: 'P-dlx',
        routingKey: 'P-q',
        redelivered: false,
        messageCount: 0,
        properties: {
          headers: deathHeaders('expired'),
        },
      }),
  },
  {
    name: 'expired by per-message expiration: original-expiration recorded, expiration removed',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const { dlx, dlq } = await dlxSetup(ctx, ch);
      const q = ctx.name('q');
      await ch.assertQueue(q, { durable: false, deadLetterExchange: dlx });
      ch.sendToQueue(q, Buffer.from('m'), { expiration: '50', priority: 3 });
      await ch.waitForConfirms();
      return dead(await fetch(ch, dlq));
    },
    check: (o) =>
      expect(o.properties).toEqual({
        priority: 3,
        headers: {
          'x-death': [
            {
              count: 1,
              reason: 'expired',
              queue: 'P-q',
              time: '<time>',
              exchange: '',
              'routing-keys': ['P-q'],
              'original-expiration': '50',
            },
          ],
          'x-first-death-exchange': '',
          'x-first-death-queue': 'P-q',
          'x-first-death-reason': 'expired',
        },
      }),
  },
  {
    name: 'x-max-length drop-head dead-letters the dropped head with reason maxlen',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const { dlx, dlq } = await dlxSetup(ctx, ch);
      const q = await fillQueue(ch, ctx.name('q'), ['old', 'new'], {
        durable: false,
        deadLetterExchange: dlx,
        maxLength: 1,
      });
      const m = dead(await fetch(ch, dlq));
      return { dead: m, left: await bodies(ch, q) };
    },
    check: (o) =>
      expect(o).toEqual({
        dead: {
          body: 'old',
          exchange: 'P-dlx',
          routingKey: 'P-q',
          redelivered: false,
          messageCount: 0,
          properties: {
            headers: deathHeaders('maxlen'),
          },
        },
        left: ['new'],
      }),
  },
  {
    name: 'reject-publish-dlx: the refused message is nacked and dead-lettered (maxlen)',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const { dlx, dlq } = await dlxSetup(ctx, ch);
      const q = ctx.name('q');
      await ch.assertQueue(q, {
        durable: false,
        deadLetterExchange: dlx,
        maxLength: 1,
        overflow: 'reject-publish-dlx',
      });
      const confirms: string[] = [];
      ch.sendToQueue(q, Buffer.from('kept'), {}, (e) => confirms.push(e ? 'nack' : 'ack'));
      ch.sendToQueue(q, Buffer.from('refused'), {}, (e) => confirms.push(e ? 'nack' : 'ack'));
      await ch.waitForConfirms().catch(() => undefined);
      await waitUntil(() => confirms.length === 2, 2000);
      const m = dead(await fetch(ch, dlq));
      return {
        confirms,
        dead: { body: m.body, routingKey: m.routingKey, headers: m.properties.headers },
        left: await bodies(ch, q),
      };
    },
    check: (o) =>
      expect(o).toEqual({
        confirms: ['ack', 'nack'],
        dead: {
          body: 'refused',
          routingKey: 'P-q',
          headers: deathHeaders('maxlen'),
        },
        left: ['kept'],
      }),
  },
  {
    name: 'x-dead-letter-routing-key replaces the routing key and strips CC; x-death keeps the original keys including CC',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const { dlx, dlq } = await dlxSetup(ctx, ch, 'direct', 'new-key');
      const src = ctx.name('src');
      const q = ctx.name('q');
      await ch.assertExchange(src, 'direct', { durable: false });
      await ch.assertQueue(q, { durable: false, deadLetterExchange: dlx, deadLetterRoutingKey: 'new-key' });
      await ch.bindQueue(q, src, 'k1');
      ch.publish(src, 'k1', Buffer.from('m'), { CC: ['k2'] });
      await ch.waitForConfirms();
      const m = await ch.get(q, { noAck: false });
      if (m) ch.reject(m, false);
      const d = dead(await fetch(ch, dlq));
      return { routingKey: d.routingKey, exchange: d.exchange, headers: d.properties.headers };
    },
    check: (o) =>
      expect(o).toEqual({
        routingKey: 'new-key',
        exchange: 'P-dlx',
        headers: deathHeaders('rejected', { exchange: 'P-src', keys: ['k1', 'k2'] }),
      }),
  },
  {
    name: 'dead-lettering to itself: rejecting twice increments count on the same x-death entry',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const q = ctx.name('q');
      await fillQueue(ch, q, ['m'], { durable: false, deadLetterExchange: '', deadLetterRoutingKey: q });
      const m1 = await ch.get(q, { noAck: false });
      if (m1) ch.reject(m1, false);
      let m2: Message | false = false;
      await waitUntil(async () => !!(m2 = await ch.get(q, { noAck: false })), 2000);
      const first = (m2 as unknown as Message).properties.headers;
      ch.reject(m2 as unknown as Message, false);
      let m3: Message | false = false;
      await waitUntil(async () => !!(m3 = await ch.get(q, { noAck: true })), 2000);
      return {
        afterOne: first,
        afterTwo: (m3 as unknown as Message).properties.headers,
        redelivered: (m3 as unknown as Message).fields.redelivered,
      };
    },
    check: (o) =>
      expect(o).toEqual({
        afterOne: deathHeaders('rejected'),
        afterTwo: deathHeaders('rejected', { count: 2 }),
        redelivered: false,
      }),
  },
  {
    name: 'two hops (expired in q1, rejected in q2): newest x-death first; x-first-death-* stays',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const q1 = ctx.name('q1');
      const q2 = ctx.name('q2');
      const q3 = ctx.name('q3');
      await ch.assertQueue(q3, { durable: false });
      await ch.assertQueue(q2, { durable: false, deadLetterExchange: '', deadLetterRoutingKey: q3 });
      await ch.assertQueue(q1, { durable: false, messageTtl: 50, deadLetterExchange: '', deadLetterRoutingKey: q2 });
      ch.sendToQueue(q1, Buffer.from('m'));
      await ch.waitForConfirms();
      let m: Message | false = false;
      await waitUntil(async () => !!(m = await ch.get(q2, { noAck: false })), 3000);
      ch.reject(m as unknown as Message, false);
      const d = await fetch(ch, q3);
      return d.properties.headers;
    },
    check: (o) =>
      expect(o).toEqual({
        'x-death': [
          { count: 1, reason: 'rejected', queue: 'P-q2', time: '<time>', exchange: '', 'routing-keys': ['P-q2'] },
          { count: 1, reason: 'expired', queue: 'P-q1', time: '<time>', exchange: '', 'routing-keys': ['P-q1'] },
        ],
        'x-first-death-exchange': '',
        'x-first-death-queue': 'P-q1',
        'x-first-death-reason': 'expired',
      }),
  },
  {
    name: 'an expiry-only dead-letter cycle is broken: the message is dropped',
    run: async (ctx) => {
      const { conn, ch } = await ctx.openConfirm();
      const q1 = ctx.name('q1');
      const q2 = ctx.name('q2');
      await ch.assertQueue(q1, { durable: false, messageTtl: 30, deadLetterExchange: '', deadLetterRoutingKey: q2 });
      await ch.assertQueue(q2, { durable: false, messageTtl: 30, deadLetterExchange: '', deadLetterRoutingKey: q1 });
      // watch q2 with a second connection to see the message pass through once
      const seen = await Consumer.start(await ctx.channel(), q2, { noAck: false });
      ch.sendToQueue(q1, Buffer.from('m'));
      await ch.waitForConfirms();
      await seen.waitFor(1);
      const headersAtQ2 = seen.messages[0].properties.headers;
      await seen.cancel(); // cancel: unacked message stays unacked; close its channel to requeue
      await seen.ch.close();
      // requeued into q2, it expires again, goes to q1 ... where the cycle is detected and it is dropped
      const count = async (q: string) => (await ch.checkQueue(q)).messageCount;
      await waitUntil(async () => (await count(q1)) === 0 && (await count(q2)) === 0, 3000);
      await quiet(200);
      void conn;
      return { headersAtQ2, q1: await bodies(ch, q1), q2: await bodies(ch, q2) };
    },
    check: (o) =>
      expect(o).toEqual({
        headersAtQ2: deathHeaders('expired', { queue: 'P-q1' }),
        q1: [],
        q2: [],
      }),
  },
  {
    name: 'without x-dead-letter-routing-key the CC header survives and its keys route the dead letter',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const dlx = ctx.name('dlx');
      const dl2 = ctx.name('dl2');
      await ch.assertExchange(dlx, 'direct', { durable: false });
      await ch.assertQueue(dl2, { durable: false });
      const dl1 = await boundQueue(ctx, ch, dlx, 'k1', 'dl1');
      await ch.bindQueue(dl2, dlx, 'k2');
      const src = ctx.name('src');
      const q = ctx.name('q');
      await ch.assertExchange(src, 'direct', { durable: false });
      await ch.assertQueue(q, { durable: false, deadLetterExchange: dlx });
      await ch.bindQueue(q, src, 'k1');
      ch.publish(src, 'k1', Buffer.from('m'), { CC: ['k2'] });
      await ch.waitForConfirms();
      const m = await ch.get(q, { noAck: false });
      if (m) ch.reject(m, false);
      const a = await fetch(ch, dl1);
      const b = await fetch(ch, dl2);
      return {
        dl1: { routingKey: a.fields.routingKey, cc: a.properties.headers?.CC },
        dl2: { routingKey: b.fields.routingKey, cc: b.properties.headers?.CC },
      };
    },
    check: (o) => expect(o).toEqual({ dl1: { routingKey: 'k1', cc: ['k2'] }, dl2: { routingKey: 'k1', cc: ['k2'] } }),
  },
  {
    name: 'dead-letter exchange that does not exist: message dropped',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const q = ctx.name('q');
      const spy = ctx.name('spy');
      await ch.assertQueue(spy, { durable: false });
      await ch.assertQueue(q, { durable: false, deadLetterExchange: ctx.name('missing') });
      ch.sendToQueue(q, Buffer.from('m'));
      await ch.waitForConfirms();
      const m = await ch.get(q, { noAck: false });
      if (m) ch.reject(m, false);
      await quiet();
      return { q: await bodies(ch, q) };
    },
    check: (o) => expect(o).toEqual({ q: [] }),
  },
  {
    name: 'requeue=true and channel close do not dead-letter',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const { dlx, dlq } = await dlxSetup(ctx, ch);
      const q = await fillQueue(ch, ctx.name('q'), ['a', 'b'], { durable: false, deadLetterExchange: dlx });
      const a = await ch.get(q, { noAck: false });
      if (a) ch.reject(a, true);
      const other = await ctx.channel();
      await other.get(q, { noAck: false });
      await other.get(q, { noAck: false });
      await other.close();
      await waitForCount(ch, q, 2);
      return { q: await drainRedelivered(ch, q), dlq: await bodies(ch, dlq) };
    },
    check: (o) =>
      expect(o).toEqual({
        q: [
          ['a', true],
          ['b', true],
        ],
        dlq: [],
      }),
  },
  {
    name: 'dead-lettered message properties are preserved; the delivery is not flagged redelivered',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const { dlx, dlq } = await dlxSetup(ctx, ch);
      const q = ctx.name('q');
      await ch.assertQueue(q, { durable: false, deadLetterExchange: dlx });
      ch.sendToQueue(q, Buffer.from('m'), { ...EVERY_PROPERTY, headers: { h: 1 } });
      await ch.waitForConfirms();
      const m = await ch.get(q, { noAck: false });
      if (m) ch.reject(m, true);
      const again = await ch.get(q, { noAck: false });
      if (again) ch.reject(again, false);
      const d = await fetch(ch, dlq);
      const p = definedProps(d);
      delete p.headers['x-death'];
      return { redelivered: d.fields.redelivered, properties: p };
    },
    check: (o) =>
      expect(o).toEqual({
        redelivered: false,
        properties: {
          ...EVERY_PROPERTY,
          headers: {
            h: 1,
            'x-first-death-exchange': '',
            'x-first-death-queue': 'P-q',
            'x-first-death-reason': 'rejected',
          },
        },
      }),
  },
]);
