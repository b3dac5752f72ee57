import type { Options } from 'amqplib';
import { PERM, permUrl } from '../fixtures';
import { area, attempt, connect, errorOutcome, type Conn, type Ctx, type Result } from '../harness';

// A user who may configure names starting cfg-, write to wr- and read from rd- (fixtures.ts), one operation at
// a time against objects guest set up in the same vhost. Each operation runs on a fresh channel, so a 403
// closes only that one; the outcome of each (ok, or code, class, method and text) must match RabbitMQ's.

interface Stage {
  /** The user's connection. */
  user: Conn;
  /** Names made unique for this run: n('rd-q') is 'rd-<prefix>-q', so the permission prefixes still apply. */
  n: (name: string) => string;
  /** Runs one operation on a fresh channel of the user's connection. */
  op: (run: (ch: Awaited<ReturnType<Conn['confirmChannel']>>) => Promise<unknown>) => Promise<Result>;
}

/** Sets up rd-/wr- queues and fanout exchanges as guest, runs `body` as the user, deletes everything after. */
async function withStage(
  ctx: Ctx,
  body: (stage: Stage) => Promise<Record<string, Result>>,
): Promise<Record<string, Result>> {
  const n = (name: string) => name.replace(/^(cfg|wr|rd)-/, `$1-${ctx.prefix}-`);
  const guest = await connect(permUrl(ctx.url, 'guest'));
  const user = await connect(permUrl(ctx.url, 'perm'));
  const queues = ['rd-q', 'wr-q', 'cfg-q', 'cfg-dlq'].map(n);
  const exchanges = ['rd-x', 'wr-x', 'cfg-x', 'cfg-ae'].map(n);
  try {
    const setup = await guest.channel();
    for (const q of [n('rd-q'), n('wr-q')]) await setup.assertQueue(q, { durable: false });
    for (const x of [n('rd-x'), n('wr-x')]) await setup.assertExchange(x, 'fanout', { durable: false });
    const op: Stage['op'] = async (run) => {
      const ch = await user.confirmChannel();
      // a refused publish shows only as an unconfirmed message; the channel's error says why
      let closedWith: unknown;
      ch.on('error', (error) => (closedWith = error));
      const result = await attempt(() => run(ch), user);
      if (result.kind === 'ok') await ch.close().catch(() => undefined);
      else if (result.level === 'client' && closedWith) return errorOutcome(closedWith, user);
      return result;
    };
    return await body({ user, n, op });
  } finally {
    await user.close();
    const cleanup = await guest.channel();
    for (const q of queues) await cleanup.deleteQueue(q).catch(() => undefined);
    for (const x of exchanges) await cleanup.deleteExchange(x).catch(() => undefined);
    await guest.close();
  }
}

const durable: Options.AssertQueue = { durable: false };

export default area('permissions', [
  {
    name: 'declare and delete need configure on the object; passive declares need nothing',
    compareText: true,
    run: (ctx) =>
      withStage(ctx, async ({ n, op }) => ({
        'queue.declare cfg-': await op((ch) => ch.assertQueue(n('cfg-q'), durable)),
        'queue.declare rd-': await op((ch) => ch.assertQueue(n('rd-q'), durable)),
        'queue.declare passive rd-': await op((ch) => ch.checkQueue(n('rd-q'))),
        'exchange.declare cfg-': await op((ch) => ch.assertExchange(n('cfg-x'), 'fanout', { durable: false })),
        'exchange.declare wr-': await op((ch) => ch.assertExchange(n('wr-x'), 'fanout', { durable: false })),
        'exchange.declare passive wr-': await op((ch) => ch.checkExchange(n('wr-x'))),
        'exchange.declare amq.direct (exists)': await op((ch) =>
          ch.assertExchange('amq.direct', 'direct', { durable: true }),
        ),
        'exchange.declare amq.cfg (reserved)': await op((ch) =>
          ch.assertExchange('amq.cfg', 'direct', { durable: false }),
        ),
        'queue.declare amq.rd (reserved)': await op((ch) => ch.assertQueue('amq.rd', durable)),
        'queue.delete rd-': await op((ch) => ch.deleteQueue(n('rd-q'))),
        'queue.delete cfg- (missing)': await op((ch) => ch.deleteQueue(n('cfg-gone'))),
        'exchange.delete wr-': await op((ch) => ch.deleteExchange(n('wr-x'))),
        'exchange.delete amq.cfg (system)': await op((ch) => ch.deleteExchange('amq.cfg')),
        'queue.delete cfg-': await op((ch) => ch.deleteQueue(n('cfg-q'))),
      })),
    check: (o) => {
      expect(o['queue.declare cfg-']).toEqual({ kind: 'ok' });
      expect(o['queue.declare rd-']).toMatchObject({ code: 403, classId: 50, methodId: 10 });
      expect(o['queue.declare passive rd-']).toEqual({ kind: 'ok' });
    },
  },
  {
    name: 'a server-named queue needs configure on its generated name',
    compareText: true,
    run: (ctx) =>
      withStage(ctx, async ({ op }) => ({
        "queue.declare ''": await op((ch) => ch.assertQueue('', { exclusive: true })),
      })),
    check: (o) =>
      expect(o["queue.declare ''"]).toMatchObject({
        code: 403,
        text: expect.stringContaining("access to queue 'amq.gen-"),
      }),
  },
  {
    name: 'a dead-letter exchange needs read on the new queue and write on the exchange; an alternate exchange the same',
    compareText: true,
    run: (ctx) =>
      withStage(ctx, async ({ n, op }) => ({
        'queue with DLX': await op((ch) =>
          ch.assertQueue(n('cfg-dlq'), { durable: false, deadLetterExchange: n('wr-x') }),
        ),
        'exchange with AE': await op((ch) =>
          ch.assertExchange(n('cfg-ae'), 'fanout', { durable: false, alternateExchange: n('wr-x') }),
        ),
      })),
    check: (o) => expect(o['queue with DLX']).toMatchObject({ code: 403 }),
  },
  {
    name: 'bindings need write on the destination and read on the source',
    compareText: true,
    run: (ctx) =>
      withStage(ctx, async ({ n, op }) => ({
        'queue.bind wr-q to rd-x': await op((ch) => ch.bindQueue(n('wr-q'), n('rd-x'), 'k')),
        'queue.bind rd-q to rd-x': await op((ch) => ch.bindQueue(n('rd-q'), n('rd-x'), 'k')),
        'queue.bind wr-q to wr-x': await op((ch) => ch.bindQueue(n('wr-q'), n('wr-x'), 'k')),
        'queue.bind wr-q to the default exchange': await op((ch) => ch.bindQueue(n('wr-q'), '', 'k')),
        'queue.bind wr-q to a missing rd- exchange': await op((ch) => ch.bindQueue(n('wr-q'), n('rd-gone'), 'k')),
        'queue.unbind wr-q from rd-x': await op((ch) => ch.unbindQueue(n('wr-q'), n('rd-x'), 'k')),
        'queue.unbind rd-q from rd-x': await op((ch) => ch.unbindQueue(n('rd-q'), n('rd-x'), 'k')),
        'exchange.bind wr-x to rd-x': await op((ch) => ch.bindExchange(n('wr-x'), n('rd-x'), 'k')),
        'exchange.bind rd-x to rd-x': await op((ch) => ch.bindExchange(n('rd-x'), n('rd-x'), 'k')),
        'exchange.bind wr-x to wr-x': await op((ch) => ch.bindExchange(n('wr-x'), n('wr-x'), 'k')),
        'exchange.unbind wr-x from rd-x': await op((ch) => ch.unbindExchange(n('wr-x'), n('rd-x'), 'k')),
      })),
    check: (o) => expect(o['queue.bind wr-q to rd-x']).toEqual({ kind: 'ok' }),
  },
  {
    name: 'publish needs write on the exchange (the default exchange is amq.default); consume, get and purge need read',
    compareText: true,
    run: (ctx) =>
      withStage(ctx, async ({ n, op }) => ({
        'publish to wr-x': await op(async (ch) => {
          ch.publish(n('wr-x'), '', Buffer.from('x'));
          await ch.waitForConfirms();
        }),
        'publish to rd-x': await op(async (ch) => {
          ch.publish(n('rd-x'), '', Buffer.from('x'));
          await ch.waitForConfirms();
        }),
        'publish to the default exchange': await op(async (ch) => {
          ch.sendToQueue(n('wr-q'), Buffer.from('x'));
          await ch.waitForConfirms();
        }),
        'publish to a missing wr- exchange': await op(async (ch) => {
          ch.publish(n('wr-gone'), '', Buffer.from('x'));
          await ch.waitForConfirms();
        }),
        'basic.get rd-q': await op((ch) => ch.get(n('rd-q'))),
        'basic.get wr-q': await op((ch) => ch.get(n('wr-q'))),
        'basic.consume rd-q': await op((ch) => ch.consume(n('rd-q'), () => undefined).then(() => undefined)),
        'basic.consume wr-q': await op((ch) => ch.consume(n('wr-q'), () => undefined).then(() => undefined)),
        'basic.consume a missing rd- queue': await op((ch) =>
          ch.consume(n('rd-gone'), () => undefined).then(() => undefined),
        ),
        'queue.purge rd-q': await op((ch) => ch.purgeQueue(n('rd-q'))),
        'queue.purge wr-q': await op((ch) => ch.purgeQueue(n('wr-q'))),
      })),
    check: (o) => {
      expect(o['publish to wr-x']).toEqual({ kind: 'ok' });
      expect(o['publish to the default exchange']).toMatchObject({
        code: 403,
        text: `ACCESS_REFUSED - access to exchange 'amq.default' in vhost '${PERM.vhost}' refused for user '${PERM.user}'`,
      });
    },
  },
]);
