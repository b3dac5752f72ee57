import type { Channel, Message } from 'amqplib';
import { area, Consumer, drain, waitForCount, waitUntil } from '../harness';
import { publishEach, QUORUM, quorumQueue } from '../quorum';

// Length limits, TTLs and single active consumer on quorum queues as RabbitMQ 3.10's rabbit_fifo applies them.
// Where they differ from a classic queue: reject-publish takes the message that goes over the limit and refuses
// the next ones until the queue is at or under 80% of the limit; reject-publish-dlx is taken as drop-head.

const summary = (m: Message) => {
  const deaths = m.properties.headers?.['x-death'] as Array<{ reason: string; count: number }> | undefined;
  return deaths
    ? `${m.content.toString()} ${deaths.map((d) => `${d.reason}x${d.count}`).join()}`
    : m.content.toString();
};

const bodies = async (ch: Channel, q: string) => (await drain(ch, q)).map(summary);

export default area('quorum-limits', [
  {
    name: 'x-max-length drop-head: the oldest go, dead-lettered with reason maxlen; every publish is confirmed',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const { q, dlq } = await quorumQueue(ctx, ch, { 'x-max-length': 2 }, { route: 'bound' });
      const confirms = await publishEach(ch, q, ['a', 'b', 'c', 'd']);
      return { confirms, ready: await bodies(ch, q), dead: await bodies(ch, dlq) };
    },
    check: (o) =>
      expect(o).toEqual({
        confirms: ['a:ack', 'b:ack', 'c:ack', 'd:ack'],
        ready: ['c', 'd'],
        dead: ['a maxlenx1', 'b maxlenx1'],
      }),
  },
  {
    name: 'x-max-length reject-publish: the publish that goes over is taken, then nacks until the queue is at 80% of the limit',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const { q, dlq } = await quorumQueue(
        ctx,
        ch,
        { 'x-max-length': 5, 'x-overflow': 'reject-publish' },
        { route: 'bound' },
      );
      const out: Record<string, unknown> = {};
      out.fill = await publishEach(ch, q, ['1', '2', '3', '4', '5', '6', '7']);
      out.count = (await ch.checkQueue(q)).messageCount;
      await ch.get(q, { noAck: true }); // 5 ready: over 80% of 5 (4)
      out.atFive = await publishEach(ch, q, ['8']);
      await ch.get(q, { noAck: true }); // 4 ready: at 80%, taken again
      out.atFour = await publishEach(ch, q, ['9', '10', '11']);
      out.ready = await bodies(ch, q);
      out.dead = await bodies(ch, dlq);
      return out;
    },
    check: (o) =>
      expect(o).toEqual({
        fill: ['1:ack', '2:ack', '3:ack', '4:ack', '5:ack', '6:ack', '7:nack'],
        count: 6,
        atFive: ['8:nack'],
        atFour: ['9:ack', '10:ack', '11:nack'],
        ready: ['3', '4', '5', '6', '9', '10'],
        dead: [],
      }),
  },
  {
    name: 'x-max-length-bytes reject-publish: the same, counted in body bytes',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const { q } = await quorumQueue(ctx, ch, { 'x-max-length-bytes': 10, 'x-overflow': 'reject-publish' });
      const fill = await publishEach(ch, q, ['a', 'bbbbb', 'cccc', 'dd', 'x']);
      await ch.get(q, { noAck: true }); // 11 bytes: still over the limit
      const at11 = await publishEach(ch, q, ['e']);
      await ch.get(q, { noAck: true }); // 6 bytes: under 80% of 10
      const at6 = await publishEach(ch, q, ['ffff', 'gggg', 'hh']);
      return { fill, at11, at6, ready: await bodies(ch, q) };
    },
    check: (o) =>
      expect(o).toEqual({
        fill: ['a:ack', 'bbbbb:ack', 'cccc:ack', 'dd:ack', 'x:nack'],
        at11: ['e:nack'],
        at6: ['ffff:ack', 'gggg:ack', 'hh:nack'],
        ready: ['cccc', 'dd', 'ffff', 'gggg'],
      }),
  },
  {
    name: 'requeued messages count towards the limit: a return that takes the queue over it blocks publishes (reject-publish)',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const { q } = await quorumQueue(ctx, ch, { 'x-max-length': 2, 'x-overflow': 'reject-publish' });
      const first = await publishEach(ch, q, ['a', 'b']);
      const m = await ch.get(q, { noAck: false });
      const second = await publishEach(ch, q, ['c']);
      if (m) ch.nack(m, false, true);
      await waitForCount(ch, q, 3);
      const third = await publishEach(ch, q, ['d']);
      return { confirms: [...first, ...second, ...third], ready: await bodies(ch, q) };
    },
    check: (o) => expect(o).toEqual({ confirms: ['a:ack', 'b:ack', 'c:ack', 'd:nack'], ready: ['b', 'c', 'a'] }),
  },
  {
    name: 'x-overflow reject-publish-dlx on a quorum queue acts as drop-head (RabbitMQ warns and uses its default)',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const { q, dlq } = await quorumQueue(
        ctx,
        ch,
        { 'x-max-length': 2, 'x-overflow': 'reject-publish-dlx' },
        { route: 'bound' },
      );
      const confirms = await publishEach(ch, q, ['a', 'b', 'c']);
      return { confirms, ready: await bodies(ch, q), dead: await bodies(ch, dlq) };
    },
    check: (o) => expect(o).toEqual({ confirms: ['a:ack', 'b:ack', 'c:ack'], ready: ['b', 'c'], dead: ['a maxlenx1'] }),
  },
  {
    name: 'x-message-ttl and per-message expiration: messages expire in the queue without a consumer, dead-lettered with reason expired',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const { q, dlq } = await quorumQueue(ctx, ch, { 'x-message-ttl': 100 }, { route: 'bound' });
      await publishEach(ch, q, ['a', 'b']);
      await waitUntil(async () => (await ch.checkQueue(q)).messageCount === 0, 3000, 'queue TTL expiry');
      await waitForCount(ch, dlq, 2);
      const queueTtl = await bodies(ch, dlq);
      // a second queue without x-message-ttl, dead-lettering to the same exchange
      const q2 = ctx.name('q2');
      await ch.assertQueue(q2, { durable: true, arguments: { ...QUORUM, 'x-dead-letter-exchange': ctx.name('dlx') } });
      await publishEach(ch, q2, ['short'], { expiration: '50' });
      await publishEach(ch, q2, ['long']);
      await waitForCount(ch, dlq, 1);
      return { queueTtl, perMessage: await bodies(ch, dlq), left: await bodies(ch, q2) };
    },
    check: (o) =>
      expect(o).toEqual({ queueTtl: ['a expiredx1', 'b expiredx1'], perMessage: ['short expiredx1'], left: ['long'] }),
  },
  {
    name: 'x-single-active-consumer: only the first consumer gets messages; the next takes over when it is cancelled',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const { q } = await quorumQueue(ctx, ch, { 'x-single-active-consumer': true });
      const c1 = await ctx.channel();
      const c2 = await ctx.channel();
      const first = await Consumer.start(c1, q, { noAck: true });
      const second = await Consumer.start(c2, q, { noAck: true });
      await publishEach(ch, q, ['1', '2', '3']);
      await first.waitFor(3);
      await first.cancel();
      await publishEach(ch, q, ['4']);
      await second.waitFor(1);
      return { first: first.messages.map(summary), second: second.messages.map(summary) };
    },
    check: (o) => expect(o).toEqual({ first: ['1', '2', '3'], second: ['4'] }),
  },
]);
