import type { ConfirmChannel, Options } from 'amqplib';
import { area, Consumer, drain, plain, publishConfirmed, waitUntil, type Ctx } from '../harness';
import { deathHeaders } from '../dead-letter-headers';

/*
 * Dead-lettering messages published with CC / BCC headers (sender-selected distribution).
 *
 * RabbitMQ 3.10 keeps a message's routing keys as [routing key, CC keys..., BCC keys...] and removes the BCC
 * header at publish (rabbit_basic:make_message). rabbit_dead_letter:make_msg then routes the dead-lettered copy
 * - without x-dead-letter-routing-key: by all of those keys again (BCC ones included, though the header is
 *   gone), the CC header staying as it was;
 * - with x-dead-letter-routing-key: by that key alone, and the CC header is removed;
 * and writes x-death `routing-keys` as the first key plus the CC header's keys (never BCC), either way.
 */

/** The keys each dead-letter queue is bound with on the direct dead-letter exchange. */
const DL_KEYS = ['rk', 'cc1', 'cc2', 'bcc1', 'bcc2', 'dlrk', 'other'] as const;

interface Topology {
  ch: ConfirmChannel;
  dlx: string;
  src: string;
  q: string;
  dlqs: Record<string, string>;
}

/**
 * A direct exchange `src` routing `rk` to queue `q` (with `args`, dead-lettering to `dlx`), and one queue per
 * key in DL_KEYS bound to the direct exchange `dlx` by that key.
 */
async function topology(ctx: Ctx, args: Record<string, unknown>, dlxType = 'direct'): Promise<Topology> {
  const { ch } = await ctx.openConfirm();
  const dlx = ctx.name('dlx');
  const src = ctx.name('src');
  const q = ctx.name('q');
  await ch.assertExchange(dlx, dlxType, { durable: false });
  await ch.assertExchange(src, 'direct', { durable: false });
  const dlqs: Record<string, string> = {};
  for (const key of DL_KEYS) {
    dlqs[key] = ctx.name(`dl-${key}`);
    await ch.assertQueue(dlqs[key], { durable: false });
    await ch.bindQueue(dlqs[key], dlx, dlxType === 'direct' ? key : '');
  }
  await ch.assertQueue(q, { durable: false, arguments: { 'x-dead-letter-exchange': dlx, ...args } });
  await ch.bindQueue(q, src, 'rk');
  return { ch, dlx, src, q, dlqs };
}

/**
 * A hop in front of the topology's dead-lettering: q1 (bound to src by 'first', with `q1Args`) dead-letters to
 * the direct exchange hop, which routes `hopKey` to q2, which dead-letters to the dlx.
 */
async function twoHops(ctx: Ctx, t: Topology, hopKey: string, q1Args: Record<string, unknown> = {}) {
  const hop = ctx.name('hop');
  const q2 = ctx.name('q2');
  await t.ch.assertExchange(hop, 'direct', { durable: false });
  await t.ch.assertQueue(q2, { durable: false, arguments: { 'x-dead-letter-exchange': t.dlx } });
  await t.ch.bindQueue(q2, hop, hopKey);
  const q1 = ctx.name('q1');
  await t.ch.assertQueue(q1, { durable: false, arguments: { 'x-dead-letter-exchange': hop, ...q1Args } });
  await t.ch.bindQueue(q1, t.src, 'first');
  return { q1, q2 };
}

/** Rejects the message in q1, then (once it arrived) its dead letter in q2; both queues are then emptied. */
async function rejectThroughHops(ch: ConfirmChannel, q1: string, q2: string): Promise<void> {
  const m1 = await ch.get(q1, { noAck: false });
  if (m1) ch.reject(m1, false);
  await ch.get(q1, { noAck: true });
  let m2: false | Awaited<ReturnType<ConfirmChannel['get']>> = false;
  await waitUntil(async () => !!(m2 = await ch.get(q2, { noAck: false })), 3000, 'the first dead letter in q2');
  if (m2) ch.reject(m2, false);
  await ch.get(q2, { noAck: true });
}

/** What each dead-letter queue received: delivery routing key, exchange and headers (non-empty queues only). */
async function received(t: Topology): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const [key, name] of Object.entries(t.dlqs)) {
    const msgs = await drain(t.ch, name);
    if (msgs.length > 0)
      out[key] = msgs.map((m) => ({
        routingKey: m.fields.routingKey,
        exchange: m.fields.exchange,
        redelivered: m.fields.redelivered,
        headers: plain(m.properties.headers),
      }));
  }
  return out;
}

type Reason = 'rejected' | 'nacked' | 'expired' | 'maxlen' | 'reject-publish-dlx';

/** Publish one message to `src` with `rk` and the given headers, make it die for `reason`, return what the DLX routed. */
async function dieWith(
  ctx: Ctx,
  reason: Reason,
  headers: Record<string, unknown>,
  dlrk?: string,
  dlxType?: string,
  extra: Options.Publish = {},
) {
  const args: Record<string, unknown> = dlrk === undefined ? {} : { 'x-dead-letter-routing-key': dlrk };
  if (reason === 'expired') args['x-message-ttl'] = 20;
  if (reason === 'maxlen') args['x-max-length'] = 1;
  if (reason === 'reject-publish-dlx') Object.assign(args, { 'x-max-length': 0, 'x-overflow': 'reject-publish-dlx' });
  const t = await topology(ctx, args, dlxType);
  const { ch, src, q } = t;
  const confirm = await publishConfirmed(ch, src, 'rk', 'm', { headers, ...extra });
  if (reason === 'rejected' || reason === 'nacked') {
    const m = await ch.get(q, { noAck: false });
    if (!m) throw new Error('nothing to reject');
    if (reason === 'rejected') ch.reject(m, false);
    else ch.nack(m, false, false);
    await ch.get(q, { noAck: true }); // ordered after the reject in RabbitMQ's queue process
  } else if (reason === 'expired') {
    await waitUntil(async () => (await ch.checkQueue(q)).messageCount === 0, 3000, 'the message to expire');
  } else if (reason === 'maxlen') {
    // a second message pushes the first out of the head
    await publishConfirmed(ch, src, 'rk', 'pusher');
    await drain(ch, q);
  }
  return { confirm, dead: await received(t) };
}

const death = (reason: string, routingKeys: string[], extra: Record<string, unknown> = {}) => ({
  count: 1,
  reason,
  queue: 'P-q',
  time: '<time>',
  exchange: 'P-src',
  'routing-keys': routingKeys,
  ...extra,
});

const firstDeath = (reason: string) => ({
  'x-first-death-exchange': 'P-src',
  'x-first-death-queue': 'P-q',
  'x-first-death-reason': reason,
});

/** The copy each of `keys` receives when the dead letter is routed again by its original keys. */
function copies(keys: string[], headers: Record<string, unknown>) {
  const out: Record<string, unknown[]> = {};
  for (const key of keys) out[key] = [{ routingKey: 'rk', exchange: 'P-dlx', redelivered: false, headers }];
  return out;
}

const CC_BCC = { CC: ['cc1', 'cc2'], BCC: ['bcc1', 'bcc2'] };

/** Messages published ahead of the one that dies in the deep-queue scenario. */
const DEEP_FILLERS = 1200;

export default area('dead-lettering-cc', [
  ...(['rejected', 'nacked', 'expired', 'maxlen', 'reject-publish-dlx'] as const)
    .map((reason) => {
      const r = reason === 'nacked' ? 'rejected' : reason === 'reject-publish-dlx' ? 'maxlen' : reason;
      return [
        {
          name: `${reason}, no x-dead-letter-routing-key: routed again by the routing key, CC and BCC keys; CC stays, BCC is gone`,
          run: (ctx: Ctx) => dieWith(ctx, reason, { ...CC_BCC, app: 'a' }),
          check: (o: any) =>
            expect(o).toEqual({
              confirm: reason === 'reject-publish-dlx' ? 'nack' : 'ack',
              dead: copies(['rk', 'cc1', 'cc2', 'bcc1', 'bcc2'], {
                CC: ['cc1', 'cc2'],
                app: 'a',
                'x-death': [death(r, ['rk', 'cc1', 'cc2'])],
                ...firstDeath(r),
              }),
            }),
        },
        {
          name: `${reason}, x-dead-letter-routing-key: routed by it alone; CC removed; x-death keeps the routing key and CC keys`,
          run: (ctx: Ctx) => dieWith(ctx, reason, { ...CC_BCC, app: 'a' }, 'dlrk'),
          check: (o: any) =>
            expect(o).toEqual({
              confirm: reason === 'reject-publish-dlx' ? 'nack' : 'ack',
              dead: {
                dlrk: [
                  {
                    routingKey: 'dlrk',
                    exchange: 'P-dlx',
                    redelivered: false,
                    headers: { app: 'a', 'x-death': [death(r, ['rk', 'cc1', 'cc2'])], ...firstDeath(r) },
                  },
                ],
              },
            }),
        },
      ];
    })
    .flat(),
  {
    name: 'BCC only, no x-dead-letter-routing-key: the BCC keys route the dead letter; x-death has the routing key alone',
    run: (ctx) => dieWith(ctx, 'rejected', { BCC: ['bcc1'] }),
    check: (o) =>
      expect(o).toEqual({
        confirm: 'ack',
        dead: copies(['rk', 'bcc1'], { 'x-death': [death('rejected', ['rk'])], ...firstDeath('rejected') }),
      }),
  },
  {
    name: 'CC only, x-dead-letter-routing-key: CC removed, nothing else added',
    run: (ctx) => dieWith(ctx, 'rejected', { CC: ['cc1'] }, 'dlrk'),
    check: (o) =>
      expect(o).toEqual({
        confirm: 'ack',
        dead: {
          dlrk: [
            {
              routingKey: 'dlrk',
              exchange: 'P-dlx',
              redelivered: false,
              headers: { 'x-death': [death('rejected', ['rk', 'cc1'])], ...firstDeath('rejected') },
            },
          ],
        },
      }),
  },
  {
    name: 'an empty CC array without x-dead-letter-routing-key is kept',
    run: (ctx) => dieWith(ctx, 'rejected', { CC: [] }),
    check: (o) =>
      expect(o).toEqual({
        confirm: 'ack',
        dead: copies(['rk'], { CC: [], 'x-death': [death('rejected', ['rk'])], ...firstDeath('rejected') }),
      }),
  },
  {
    name: 'an empty CC array with x-dead-letter-routing-key is removed',
    run: (ctx) => dieWith(ctx, 'rejected', { CC: [] }, 'dlrk'),
    check: (o) =>
      expect(o).toEqual({
        confirm: 'ack',
        dead: {
          dlrk: [
            {
              routingKey: 'dlrk',
              exchange: 'P-dlx',
              redelivered: false,
              headers: { 'x-death': [death('rejected', ['rk'])], ...firstDeath('rejected') },
            },
          ],
        },
      }),
  },
  {
    name: 'CC entries that are not strings neither route nor appear in x-death',
    run: (ctx) => dieWith(ctx, 'rejected', { CC: [7, 'cc1', true] }),
    check: (o) =>
      expect(o).toEqual({
        confirm: 'ack',
        dead: copies(['rk', 'cc1'], {
          CC: [7, 'cc1', true],
          'x-death': [death('rejected', ['rk', 'cc1'])],
          ...firstDeath('rejected'),
        }),
      }),
  },
  {
    name: 'keys that reach the same dead-letter queue give it one copy',
    run: (ctx) => dieWith(ctx, 'rejected', { CC: ['rk', 'cc1', 'cc1'], BCC: ['cc1', 'rk'] }),
    check: (o) =>
      expect(o).toEqual({
        confirm: 'ack',
        dead: copies(['rk', 'cc1'], {
          CC: ['rk', 'cc1', 'cc1'],
          'x-death': [death('rejected', ['rk', 'rk', 'cc1', 'cc1'])],
          ...firstDeath('rejected'),
        }),
      }),
  },
  {
    name: 'fanout dead-letter exchange: one copy per queue whatever the keys',
    run: (ctx) => dieWith(ctx, 'rejected', CC_BCC, undefined, 'fanout'),
    check: (o) =>
      expect(o).toEqual({
        confirm: 'ack',
        dead: copies([...DL_KEYS], {
          CC: ['cc1', 'cc2'],
          'x-death': [death('rejected', ['rk', 'cc1', 'cc2'])],
          ...firstDeath('rejected'),
        }),
      }),
  },
  {
    name: 'the default exchange as dead-letter exchange: CC and BCC keys name queues that get a copy',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const q = ctx.name('q');
      const a = ctx.name('a');
      const b = ctx.name('b');
      for (const name of [a, b]) await ch.assertQueue(name, { durable: false });
      await ch.assertQueue(q, { durable: false, arguments: { 'x-dead-letter-exchange': '' } });
      ch.sendToQueue(q, Buffer.from('m'), { headers: { CC: [ctx.name('nowhere')], BCC: [a, b] } });
      await ch.waitForConfirms();
      // at publish the BCC keys put a copy in a and in b too
      const atPublish = { a: (await drain(ch, a)).length, b: (await drain(ch, b)).length };
      const m = await ch.get(q, { noAck: false });
      if (m) ch.reject(m, false);
      // a rejected message is no cycle: the copy by q's own name goes back into q
      const summary = async (name: string) =>
        (await drain(ch, name)).map((x) => ({
          routingKey: x.fields.routingKey,
          exchange: x.fields.exchange,
          redelivered: x.fields.redelivered,
          headers: plain(x.properties.headers),
        }));
      // RabbitMQ's queue delivers to itself through its own mailbox, after requests already waiting there
      await waitUntil(async () => (await ch.checkQueue(q)).messageCount > 0, 3000).catch(() => undefined);
      const back = await summary(q);
      return { atPublish, q: back, a: await summary(a), b: await summary(b) };
    },
    check: (o) => {
      const headers = {
        CC: ['P-nowhere'],
        ...deathHeaders('rejected', { keys: ['P-q', 'P-nowhere'] }),
      };
      expect(o).toEqual({
        atPublish: { a: 1, b: 1 },
        q: [{ routingKey: 'P-q', exchange: '', redelivered: false, headers }],
        a: [{ routingKey: 'P-q', exchange: '', redelivered: false, headers }],
        b: [{ routingKey: 'P-q', exchange: '', redelivered: false, headers }],
      });
    },
  },
  {
    name: 'a message deep in a durable lazy queue (past the in-memory window: kept on disk only), rejected: its BCC keys still route the dead letter',
    run: async (ctx) => {
      const t = await topology(ctx, {});
      const { ch } = t;
      const deep = ctx.name('deep');
      await ch.assertQueue(deep, {
        durable: true,
        arguments: { 'x-dead-letter-exchange': t.dlx, 'x-queue-mode': 'lazy' },
      });
      await ch.bindQueue(deep, t.src, 'deep');
      // 1,200 persistent messages ahead of it: more than the bundled broker keeps decoded in memory (1,024)
      for (let i = 0; i < DEEP_FILLERS; i++) ch.publish(t.src, 'deep', Buffer.from(`f${i}`), { persistent: true });
      ch.publish(t.src, 'deep', Buffer.from('m'), { persistent: true, headers: { ...CC_BCC, app: 'a' } });
      await ch.waitForConfirms();
      const consumerCh = await ctx.channel();
      await consumerCh.prefetch(100);
      const consumer = await Consumer.start(consumerCh, deep, { noAck: false }, (m) =>
        m.content.toString() === 'm' ? consumerCh.reject(m, false) : consumerCh.ack(m),
      );
      await consumer.waitFor(DEEP_FILLERS + 1, 20000);
      // the dead letter goes to the four queues at once; wait for all of them, then show what each got
      await waitUntil(
        async () =>
          (await Promise.all(['cc1', 'cc2', 'bcc1', 'bcc2'].map((k) => ch.checkQueue(t.dlqs[k])))).every(
            (q) => q.messageCount === 1,
          ),
        3000,
      ).catch(() => undefined);
      return {
        delivered: consumer.messages.length,
        last: consumer.messages.at(-1)?.content.toString(),
        dead: await received(t),
      };
    },
    check: (o) => {
      const headers = {
        CC: ['cc1', 'cc2'],
        app: 'a',
        ...deathHeaders('rejected', { queue: 'P-deep', exchange: 'P-src', keys: ['deep', 'cc1', 'cc2'] }),
      };
      const copy = [{ routingKey: 'deep', exchange: 'P-dlx', redelivered: false, headers }];
      expect(o).toEqual({
        delivered: DEEP_FILLERS + 1,
        last: 'm',
        dead: { cc1: copy, cc2: copy, bcc1: copy, bcc2: copy },
      });
    },
  },
  {
    name: 'two hops without x-dead-letter-routing-key: the BCC keys still route the second dead letter',
    run: async (ctx) => {
      // q (dead-letters to hop) -> hop routes rk to q2 (dead-letters to dlx) -> dlx by every key
      const t = await topology(ctx, {});
      const { ch } = t;
      const { q1, q2 } = await twoHops(ctx, t, 'rk');
      await publishConfirmed(ch, t.src, 'first', 'm', { headers: { CC: ['rk', 'cc1'], BCC: ['bcc1'] } });
      // at publish: q1 by 'first', q by the CC key 'rk'
      await drain(ch, t.q);
      await rejectThroughHops(ch, q1, q2);
      return received(t);
    },
    check: (o) => {
      const headers = {
        CC: ['rk', 'cc1'],
        'x-death': [
          {
            count: 1,
            reason: 'rejected',
            queue: 'P-q2',
            time: '<time>',
            exchange: 'P-hop',
            'routing-keys': ['first', 'rk', 'cc1'],
          },
          {
            count: 1,
            reason: 'rejected',
            queue: 'P-q1',
            time: '<time>',
            exchange: 'P-src',
            'routing-keys': ['first', 'rk', 'cc1'],
          },
        ],
        'x-first-death-exchange': 'P-src',
        'x-first-death-queue': 'P-q1',
        'x-first-death-reason': 'rejected',
      };
      const copy = [{ routingKey: 'first', exchange: 'P-dlx', redelivered: false, headers }];
      expect(o).toEqual({ rk: copy, cc1: copy, bcc1: copy });
    },
  },
  {
    name: 'two hops, the first with x-dead-letter-routing-key: the second is routed by that key alone',
    run: async (ctx) => {
      const t = await topology(ctx, {});
      const { ch } = t;
      const { q1, q2 } = await twoHops(ctx, t, 'dlrk', { 'x-dead-letter-routing-key': 'dlrk' });
      await publishConfirmed(ch, t.src, 'first', 'm', { headers: { CC: ['cc1'], BCC: ['bcc1'] } });
      await rejectThroughHops(ch, q1, q2);
      return received(t);
    },
    check: (o) =>
      expect(o).toEqual({
        dlrk: [
          {
            routingKey: 'dlrk',
            exchange: 'P-dlx',
            redelivered: false,
            headers: {
              'x-death': [
                {
                  count: 1,
                  reason: 'rejected',
                  queue: 'P-q2',
                  time: '<time>',
                  exchange: 'P-hop',
                  'routing-keys': ['dlrk'],
                },
                {
                  count: 1,
                  reason: 'rejected',
                  queue: 'P-q1',
                  time: '<time>',
                  exchange: 'P-src',
                  'routing-keys': ['first', 'cc1'],
                },
              ],
              'x-first-death-exchange': 'P-src',
              'x-first-death-queue': 'P-q1',
              'x-first-death-reason': 'rejected',
            },
          },
        ],
      }),
  },
]);
