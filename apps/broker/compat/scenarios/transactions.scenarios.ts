import type { Channel } from 'amqplib';
import { area, attempt, bodies, rpc, waitForCount, fillQueue, closeOutcome, drainRedelivered } from '../harness';

const select = (ch: Channel) => rpc(ch, 'TxSelect', {}, 'TxSelectOk');
const commit = (ch: Channel) => rpc(ch, 'TxCommit', {}, 'TxCommitOk');
const rollback = (ch: Channel) => rpc(ch, 'TxRollback', {}, 'TxRollbackOk');

export default area('transactions', [
  {
    name: 'publishes are held until tx.commit',
    run: async (ctx) => {
      const { conn, ch } = await ctx.open();
      const q = ctx.name();
      await ch.assertQueue(q, { durable: false });
      await select(ch);
      ch.sendToQueue(q, Buffer.from('a'));
      ch.sendToQueue(q, Buffer.from('b'));
      const observer = await conn.channel();
      await ch.checkQueue(q); // sync point on the publishing channel
      const beforeCommit = (await observer.checkQueue(q)).messageCount;
      await commit(ch);
      await waitForCount(observer, q, 2);
      return { beforeCommit, afterCommit: 2, q: await bodies(observer, q) };
    },
    check: (o) => expect(o).toEqual({ beforeCommit: 0, afterCommit: 2, q: ['a', 'b'] }),
  },
  {
    name: 'tx.rollback discards publishes; the channel stays transactional',
    run: async (ctx) => {
      const { ch } = await ctx.open();
      const q = ctx.name();
      await ch.assertQueue(q, { durable: false });
      await select(ch);
      ch.sendToQueue(q, Buffer.from('discarded'));
      await rollback(ch);
      ch.sendToQueue(q, Buffer.from('kept'));
      const before = (await ch.checkQueue(q)).messageCount;
      await commit(ch);
      return { before, q: await bodies(ch, q) };
    },
    check: (o) => expect(o).toEqual({ before: 0, q: ['kept'] }),
  },
  {
    name: 'acks are held until commit; rollback discards them (message stays unacked)',
    run: async (ctx) => {
      const { conn, ch } = await ctx.openConfirm();
      const q = await fillQueue(ch, ctx.name(), ['a', 'b']);
      const txc = await conn.channel();
      await select(txc);
      const a = await txc.get(q, { noAck: false });
      const b = await txc.get(q, { noAck: false });
      if (a) txc.ack(a);
      await rollback(txc);
      if (b) txc.ack(b);
      await commit(txc);
      await txc.close(); // a is still unacked -> requeued
      await waitForCount(ch, q, 1);
      return drainRedelivered(ch, q);
    },
    check: (o) => expect(o).toEqual([['a', true]]),
  },
  {
    name: 'reject with requeue inside a transaction takes effect at commit',
    run: async (ctx) => {
      const { conn, ch } = await ctx.openConfirm();
      const q = await fillQueue(ch, ctx.name(), ['a']);
      const txc = await conn.channel();
      await select(txc);
      const a = await txc.get(q, { noAck: false });
      if (a) txc.reject(a, true);
      const beforeCommit = (await ch.checkQueue(q)).messageCount;
      await commit(txc);
      await waitForCount(ch, q, 1);
      return { beforeCommit, afterCommit: 1 };
    },
    check: (o) => expect(o).toEqual({ beforeCommit: 0, afterCommit: 1 }),
  },
  {
    name: 'tx.commit / tx.rollback without tx.select: 406 PRECONDITION_FAILED',
    compareText: true,
    run: async (ctx) => {
      const { conn } = await ctx.open();
      const c1 = await conn.channel();
      const commitWithout = await attempt(commit(c1), conn);
      const c2 = await conn.channel();
      const rollbackWithout = await attempt(rollback(c2), conn);
      return { commitWithout, rollbackWithout };
    },
    check: (o) =>
      expect(o).toEqual({
        commitWithout: closeOutcome('channel', 406, 90, 20, 'PRECONDITION_FAILED - channel is not transactional'),
        rollbackWithout: closeOutcome('channel', 406, 90, 30, 'PRECONDITION_FAILED - channel is not transactional'),
      }),
  },
  {
    name: 'mandatory unroutable publish in a transaction is returned at commit, before commit-ok',
    run: async (ctx) => {
      const { ch } = await ctx.open();
      const x = ctx.name('x');
      await ch.assertExchange(x, 'direct', { durable: false });
      await select(ch);
      const events: string[] = [];
      ch.on('return', (m) => events.push(`return:${(m.fields as any).replyCode}`));
      ch.publish(x, 'nowhere', Buffer.from('m'), { mandatory: true });
      await ch.checkExchange(x);
      events.push('sync');
      await commit(ch);
      events.push('commit-ok');
      return events;
    },
    check: (o) => expect(o).toEqual(['sync', 'return:312', 'commit-ok']),
  },
  {
    name: 'publish to a missing exchange inside a transaction fails at publish time (404)',
    run: async (ctx) => {
      const { conn, ch } = await ctx.open();
      await select(ch);
      ch.publish(ctx.name('missing'), 'k', Buffer.from('m'));
      return attempt(ch.checkExchange('amq.direct'), conn);
    },
    check: (o) => expect(o).toMatchObject({ kind: 'error', level: 'channel', code: 404, classId: 60, methodId: 40 }),
  },
  {
    name: 'tx.select twice is fine; an empty commit is fine',
    run: async (ctx) => {
      const { conn, ch } = await ctx.open();
      return [
        await attempt(select(ch), conn),
        await attempt(select(ch), conn),
        await attempt(commit(ch), conn),
        await attempt(rollback(ch), conn),
      ];
    },
    check: (o) => expect(o).toEqual([{ kind: 'ok' }, { kind: 'ok' }, { kind: 'ok' }, { kind: 'ok' }]),
  },
]);
