import type { Message } from 'amqplib';
import { area, drain, waitForCount, type Ctx } from '../harness';
import { publishEach, quorumQueue, type DeadLetterSetup } from '../quorum';

// x-dead-letter-strategy on quorum queues (RabbitMQ 3.10: rabbit_quorum_queue:dead_letter_handler, rabbit_fifo_dlx).
// at-least-once takes effect only with a dead-letter exchange and x-overflow reject-publish; then a message that
// dies stays with its queue until its dead-letter copy is in every target queue, and counts towards the queue's
// length limit meanwhile (one that reaches no queue is retried minutes later: not waited for here). With another
// overflow RabbitMQ logs a warning and dead-letters at most once: a copy that reaches no queue is gone.

const summary = (m: Message) => {
  const deaths = m.properties.headers?.['x-death'] as
    Array<{ reason: string; count: number; queue: string }> | undefined;
  return `${m.content.toString()} ${(deaths ?? []).map((d) => `${d.reason}@${d.queue}x${d.count}`).join()}`;
};

interface Setup {
  args: Record<string, unknown>;
  dlx: DeadLetterSetup['route'];
}

/**
 * With x-max-length 1: publish a, take it and reject it (it dies), then publish b, c, d one by one. A message
 * held for at-least-once dead-lettering counts towards the limit, so b takes the queue over it and c is refused;
 * a message dropped at once leaves room, and c is the one that goes over.
 */
async function rejectThenFill(ctx: Ctx, s: Setup) {
  const { ch } = await ctx.openConfirm();
  const { q } = await quorumQueue(ctx, ch, s.args, { route: s.dlx, durable: true });
  const confirms = await publishEach(ch, q, ['a']);
  const a = await ch.get(q, { noAck: false });
  if (!a) throw new Error('basic.get found nothing');
  ch.reject(a, false);
  const afterReject = (await ch.checkQueue(q)).messageCount;
  confirms.push(...(await publishEach(ch, q, ['b', 'c', 'd'])));
  return { confirms, afterReject, ready: (await drain(ch, q)).map((m) => m.content.toString()) };
}

export default area('quorum-dead-letter-strategy', [
  {
    name: 'at-least-once with reject-publish: rejected, expired and delivery-limit messages reach the dead-letter queue with their x-death',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const { q, dlq } = await quorumQueue(
        ctx,
        ch,
        { 'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'reject-publish', 'x-delivery-limit': 0 },
        { route: 'bound', durable: true },
      );
      await publishEach(ch, q, ['rejected', 'limit']);
      ch.sendToQueue(q, Buffer.from('expired'), { expiration: '1' });
      await ch.waitForConfirms();
      const r = await ch.get(q, { noAck: false });
      if (r) ch.reject(r, false);
      const l = await ch.get(q, { noAck: false });
      if (l) ch.nack(l, false, true);
      await waitForCount(ch, dlq, 3);
      const dead = (await drain(ch, dlq)).map(summary).sort();
      return { dead, left: (await ch.checkQueue(q)).messageCount };
    },
    check: (o) =>
      expect(o).toEqual({
        dead: ['expired expired@P-qx1', 'limit delivery_limit@P-qx1', 'rejected rejected@P-qx1'],
        left: 0,
      }),
  },
  {
    name: 'at-least-once with reject-publish: a message whose dead-letter exchange routes nowhere is kept, out of the ready count, within the limit',
    run: (ctx) =>
      rejectThenFill(ctx, {
        args: { 'x-max-length': 1, 'x-overflow': 'reject-publish', 'x-dead-letter-strategy': 'at-least-once' },
        dlx: 'unbound',
      }),
    check: (o) => expect(o).toEqual({ confirms: ['a:ack', 'b:ack', 'c:nack', 'd:nack'], afterReject: 0, ready: ['b'] }),
  },
  {
    name: 'at-least-once with reject-publish and no such dead-letter exchange: kept as well',
    run: (ctx) =>
      rejectThenFill(ctx, {
        args: { 'x-max-length': 1, 'x-overflow': 'reject-publish', 'x-dead-letter-strategy': 'at-least-once' },
        dlx: 'missing',
      }),
    check: (o) => expect(o).toEqual({ confirms: ['a:ack', 'b:ack', 'c:nack', 'd:nack'], afterReject: 0, ready: ['b'] }),
  },
  {
    name: 'at-most-once (the default) with reject-publish: a message that reaches no queue is gone and leaves room',
    run: (ctx) => rejectThenFill(ctx, { args: { 'x-max-length': 1, 'x-overflow': 'reject-publish' }, dlx: 'unbound' }),
    check: (o) =>
      expect(o).toEqual({ confirms: ['a:ack', 'b:ack', 'c:ack', 'd:nack'], afterReject: 0, ready: ['b', 'c'] }),
  },
  {
    name: 'at-least-once without reject-publish (drop-head, the default, or reject-publish-dlx) falls back to at-most-once',
    run: async (ctx) => {
      const out: Record<string, unknown> = {};
      for (const overflow of ['drop-head', 'default', 'reject-publish-dlx']) {
        const args: Record<string, unknown> = { 'x-max-length': 1, 'x-dead-letter-strategy': 'at-least-once' };
        if (overflow !== 'default') args['x-overflow'] = overflow;
        // were the rejected message held, it would count and b would be dropped from the head
        out[overflow] = await rejectThenFill(ctx, { args, dlx: 'unbound' });
        // the next case declares the same queue with other arguments
        const { ch } = await ctx.open();
        await ch.deleteQueue(ctx.name('q'));
      }
      return out;
    },
    check: (o) => {
      const fallback = { confirms: ['a:ack', 'b:ack', 'c:ack', 'd:ack'], afterReject: 0, ready: ['d'] };
      expect(o).toEqual({ 'drop-head': fallback, default: fallback, 'reject-publish-dlx': fallback });
    },
  },
]);
