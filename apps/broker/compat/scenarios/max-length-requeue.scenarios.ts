import type { Channel, ConfirmChannel, GetMessage, Message } from 'amqplib';
import {
  area,
  Consumer,
  drain,
  publishConfirmed,
  summary,
  waitUntil,
  type Conn,
  type Ctx,
  boundQueue,
} from '../harness';

/*
 * x-max-length / x-max-length-bytes when unacknowledged messages come back to a queue that is at its limit.
 *
 * RabbitMQ 3.10 (rabbit_amqqueue_process:requeue_and_run) puts requeued messages back at their original
 * position, then (drop-head only) drops from the head until the queue is within its limits, dead-lettering
 * each dropped message with reason maxlen, and only then delivers to consumers. reject-publish and
 * reject-publish-dlx drop nothing on requeue: the queue stays over its limit and refuses publishes until it is
 * back under it.
 */

type Requeue = 'nack' | 'nack-each' | 'reject' | 'recover' | 'close-channel' | 'close-connection';

type Step =
  | { publish: Array<string | [string, { priority?: number; persistent?: boolean }]> }
  | { hold: number }
  | { back: Requeue; only?: string[] };

interface Plan {
  args: Record<string, unknown>;
  dlx?: boolean;
  durable?: boolean;
  steps: Step[];
  /** The ready count RabbitMQ reports once the requeue is done (polled for: a requeue is asynchronous there). */
  ready: number;
}

interface DeadOutcome {
  body: string;
  redelivered: boolean;
  deaths: string[];
}

const deadSummary = (m: Message): DeadOutcome => ({
  body: m.content.toString(),
  redelivered: m.fields.redelivered,
  deaths: ((m.properties.headers?.['x-death'] as Array<Record<string, unknown>> | undefined) ?? []).map(
    (d) => `${String(d.reason)}@${String(d.queue)}x${String(d.count)}`,
  ),
});

const readyOf = (msgs: GetMessage[]) =>
  msgs.map((m) => [m.content.toString(), m.fields.redelivered] as [string, boolean]);

/** Passive declare until the queue reports `expected` ready messages; the last count seen if it never does. */
export async function settledCount(ch: Channel, q: string, expected: number, timeoutMs = 1500): Promise<number> {
  let last = -1;
  try {
    await waitUntil(async () => (last = (await ch.checkQueue(q)).messageCount) === expected, timeoutMs);
  } catch {
    /* reported through the outcome */
  }
  return last;
}

async function dlxFor(ctx: Ctx, ch: Channel, suffix = ''): Promise<{ dlx: string; dlq: string }> {
  const dlx = ctx.name(`dlx${suffix}`);
  await ch.assertExchange(dlx, 'fanout', { durable: false });
  const dlq = await boundQueue(ctx, ch, dlx, '', `dlq${suffix}`);
  return { dlx, dlq };
}

async function runPlan(ctx: Ctx, plan: Plan) {
  const { ch } = await ctx.openConfirm();
  const q = ctx.name('q');
  const dl = plan.dlx ? await dlxFor(ctx, ch) : undefined;
  const args = { ...plan.args, ...(dl ? { 'x-dead-letter-exchange': dl.dlx } : {}) };
  await ch.assertQueue(q, { durable: !!plan.durable, arguments: args });
  // The holder takes, publishes and requeues on one channel (RabbitMQ handles one channel's requests to a
  // queue in order), on its own connection so that closing that is one of the ways messages come back.
  const holderConn: Conn = await ctx.connect();
  let hc: ConfirmChannel = await holderConn.confirmChannel();
  let open = true;
  const held: Message[] = [];
  const confirms: string[] = [];
  for (const step of plan.steps) {
    if ('publish' in step) {
      if (!open) throw new Error('publish after the holder connection closed');
      for (const p of step.publish) {
        const [body, o] = typeof p === 'string' ? [p, {}] : p;
        confirms.push(await publishConfirmed(hc, '', q, body, o));
      }
    } else if ('hold' in step) {
      for (let i = 0; i < step.hold; i++) {
        const m = await hc.get(q, { noAck: false });
        if (m) held.push(m);
      }
    } else {
      const chosen = step.only ? held.filter((m) => step.only!.includes(m.content.toString())) : held.slice();
      for (const m of chosen) held.splice(held.indexOf(m), 1);
      switch (step.back) {
        case 'nack':
          hc.nack(chosen[chosen.length - 1], true, true);
          break;
        case 'nack-each':
          for (const m of chosen) hc.nack(m, false, true);
          break;
        case 'reject':
          for (const m of chosen) hc.reject(m, true);
          break;
        case 'recover':
          await hc.recover();
          break;
        case 'close-channel':
          await hc.close(); // RabbitMQ's close-ok comes after its queues took the messages back
          hc = await holderConn.confirmChannel();
          break;
        case 'close-connection':
          await holderConn.close();
          open = false;
          break;
      }
    }
  }
  const ready = await settledCount(ch, q, plan.ready);
  // basic.get on the channel that requeued is ordered after the requeue in RabbitMQ's queue process
  const reader: Channel = open ? hc : ch;
  const queue = readyOf(await drain(reader, q));
  const dlq = dl ? (await drain(reader, dl.dlq)).map(deadSummary) : undefined;
  return { confirms, ready, queue, ...(dlq ? { dlq } : {}) };
}

const d = (body: string, deaths = ['maxlen@P-qx1']): DeadOutcome => ({ body, redelivered: false, deaths });

/** Three held, two published behind them: the requeue brings the queue from 2 to 5 ready, over a limit of 3. */
const fullAfter = (back: Requeue): Step[] => [
  { publish: ['1', '2', '3'] },
  { hold: 3 },
  { publish: ['4', '5'] },
  { back },
];

const dropHeadOutcome = {
  confirms: ['ack', 'ack', 'ack', 'ack', 'ack'],
  ready: 3,
  queue: [
    ['3', true],
    ['4', false],
    ['5', false],
  ],
  dlq: [d('1'), d('2')],
};

export default area('max-length-requeue', [
  // every way a consumer's unacked messages go back to the queue, into a queue already at its limit
  ...(
    [
      ['nack', 'nack multiple requeue into a full queue: the requeued (oldest) messages are dropped and dead-lettered'],
      ['reject', 'basic.reject requeue one by one into a full queue'],
      ['nack-each', 'basic.nack requeue one by one into a full queue'],
      ['recover', 'basic.recover requeue into a full queue'],
      ['close-channel', 'channel close with unacked messages into a full queue'],
      ['close-connection', 'connection close with unacked messages into a full queue'],
    ] as const
  ).map(([back, what]) => ({
    name: `drop-head, ${what}`,
    run: (ctx: Ctx) => runPlan(ctx, { args: { 'x-max-length': 3 }, dlx: true, steps: fullAfter(back), ready: 3 }),
    check: (o: unknown) => expect(o).toEqual(dropHeadOutcome),
  })),
  {
    name: 'drop-head without a dead-letter exchange: the dropped requeued messages are gone',
    run: (ctx) => runPlan(ctx, { args: { 'x-max-length': 3 }, steps: fullAfter('nack'), ready: 3 }),
    check: (o) => expect(o).toEqual({ confirms: dropHeadOutcome.confirms, ready: 3, queue: dropHeadOutcome.queue }),
  },
  {
    name: 'drop-head, durable queue with persistent messages',
    run: (ctx) =>
      runPlan(ctx, {
        args: { 'x-max-length': 3 },
        dlx: true,
        durable: true,
        steps: [
          { publish: [1, 2, 3].map((n) => [String(n), { persistent: true }] as [string, { persistent: boolean }]) },
          { hold: 3 },
          {
            publish: [
              ['4', { persistent: true }],
              ['5', { persistent: true }],
            ],
          },
          { back: 'nack' },
        ],
        ready: 3,
      }),
    check: (o) => expect(o).toEqual(dropHeadOutcome),
  },
  {
    name: 'a requeued message goes back to its original position; drop-head takes the oldest ready message, requeued earlier or not',
    run: (ctx) =>
      runPlan(ctx, {
        args: { 'x-max-length': 3 },
        dlx: true,
        steps: [
          { publish: ['a', 'b', 'c'] },
          { hold: 2 },
          { back: 'reject', only: ['a'] },
          { publish: ['d'] },
          { back: 'reject', only: ['b'] },
        ],
        ready: 3,
      }),
    check: (o) =>
      expect(o).toEqual({
        confirms: ['ack', 'ack', 'ack', 'ack'],
        ready: 3,
        queue: [
          ['b', true],
          ['c', false],
          ['d', false],
        ],
        dlq: [d('a')],
      }),
  },
  {
    name: 'requeue into a queue below its limit drops nothing',
    run: (ctx) =>
      runPlan(ctx, {
        args: { 'x-max-length': 5 },
        dlx: true,
        steps: [{ publish: ['1', '2', '3'] }, { hold: 2 }, { publish: ['4'] }, { back: 'nack' }],
        ready: 4,
      }),
    check: (o) =>
      expect(o).toEqual({
        confirms: ['ack', 'ack', 'ack', 'ack'],
        ready: 4,
        queue: [
          ['1', true],
          ['2', true],
          ['3', false],
          ['4', false],
        ],
        dlq: [],
      }),
  },
  {
    name: 'x-max-length-bytes drop-head: requeue drops from the head until the bytes fit',
    run: (ctx) =>
      runPlan(ctx, {
        args: { 'x-max-length-bytes': 6 },
        dlx: true,
        steps: [
          { publish: ['a', 'bbbbb'] },
          { hold: 2 },
          { back: 'reject', only: ['a'] },
          { publish: ['c', 'd', 'e', 'f', 'g'] },
          { back: 'nack-each', only: ['bbbbb'] },
        ],
        ready: 5,
      }),
    check: (o) =>
      expect(o).toEqual({
        confirms: ['ack', 'ack', 'ack', 'ack', 'ack', 'ack', 'ack'],
        ready: 5,
        queue: [
          ['c', false],
          ['d', false],
          ['e', false],
          ['f', false],
          ['g', false],
        ],
        dlq: [d('a'), d('bbbbb')],
      }),
  },
  {
    name: 'reject-publish: requeue leaves the queue over its limit and publishes are refused until it is back under',
    run: (ctx) =>
      runPlan(ctx, {
        args: { 'x-max-length': 3, 'x-overflow': 'reject-publish' },
        dlx: true,
        steps: [
          { publish: ['1', '2', '3'] },
          { hold: 3 },
          { publish: ['4', '5', '6', '7'] },
          { back: 'nack' },
          { publish: ['8'] },
          { hold: 3 },
          { publish: ['9'] },
          { hold: 1 },
          { publish: ['10'] },
        ],
        ready: 3,
      }),
    check: (o) =>
      expect(o).toEqual({
        confirms: ['ack', 'ack', 'ack', 'ack', 'ack', 'ack', 'nack', 'nack', 'nack', 'ack'],
        ready: 3,
        queue: [
          ['5', false],
          ['6', false],
          ['10', false],
        ],
        dlq: [],
      }),
  },
  {
    name: 'reject-publish-dlx: requeue drops nothing; publishes while over the limit are dead-lettered (maxlen)',
    run: (ctx) =>
      runPlan(ctx, {
        args: { 'x-max-length': 3, 'x-overflow': 'reject-publish-dlx' },
        dlx: true,
        steps: [
          { publish: ['1', '2', '3'] },
          { hold: 3 },
          { publish: ['4', '5', '6', '7'] },
          { back: 'recover' },
          { publish: ['8'] },
        ],
        ready: 6,
      }),
    check: (o) =>
      expect(o).toEqual({
        confirms: ['ack', 'ack', 'ack', 'ack', 'ack', 'ack', 'nack', 'nack'],
        ready: 6,
        queue: [
          ['1', true],
          ['2', true],
          ['3', true],
          ['4', false],
          ['5', false],
          ['6', false],
        ],
        dlq: [d('7'), d('8')],
      }),
  },
  {
    name: 'reject-publish-dlx: channel close requeues past the limit',
    run: (ctx) =>
      runPlan(ctx, {
        args: { 'x-max-length': 2, 'x-overflow': 'reject-publish-dlx' },
        dlx: true,
        steps: [
          { publish: ['1', '2'] },
          { hold: 2 },
          { publish: ['3', '4'] },
          { back: 'close-channel' },
          { publish: ['5'] },
        ],
        ready: 4,
      }),
    check: (o) =>
      expect(o).toEqual({
        confirms: ['ack', 'ack', 'ack', 'ack', 'nack'],
        ready: 4,
        queue: [
          ['1', true],
          ['2', true],
          ['3', false],
          ['4', false],
        ],
        dlq: [d('5')],
      }),
  },
  {
    name: 'x-max-length-bytes reject-publish: over the byte limit after a requeue, even an empty message is refused',
    run: (ctx) =>
      runPlan(ctx, {
        args: { 'x-max-length-bytes': 4, 'x-overflow': 'reject-publish' },
        steps: [
          { publish: ['aaa'] },
          { hold: 1 },
          { publish: ['b', 'c', 'd', 'e'] },
          { back: 'reject' },
          { publish: ['', 'f'] },
        ],
        ready: 5,
      }),
    check: (o) =>
      expect(o).toEqual({
        confirms: ['ack', 'ack', 'ack', 'ack', 'ack', 'nack', 'nack'],
        ready: 5,
        queue: [
          ['aaa', true],
          ['b', false],
          ['c', false],
          ['d', false],
          ['e', false],
        ],
      }),
  },
  {
    name: 'priority queue drop-head after requeue drops the highest-priority head',
    run: (ctx) =>
      runPlan(ctx, {
        args: { 'x-max-length': 2, 'x-max-priority': 5 },
        dlx: true,
        steps: [
          { publish: [['low', { priority: 0 }]] },
          { hold: 1 },
          {
            publish: [
              ['h1', { priority: 5 }],
              ['h2', { priority: 5 }],
            ],
          },
          { back: 'nack' },
        ],
        ready: 2,
      }),
    check: (o) =>
      expect(o).toEqual({
        confirms: ['ack', 'ack', 'ack'],
        ready: 2,
        queue: [
          ['h2', false],
          ['low', true],
        ],
        dlq: [d('h1')],
      }),
  },
  {
    name: 'x-max-length 0 with a consumer: a nacked message is dropped (maxlen), not redelivered',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const { dlx, dlq } = await dlxFor(ctx, ch);
      const q = ctx.name('q');
      await ch.assertQueue(q, { durable: false, arguments: { 'x-max-length': 0, 'x-dead-letter-exchange': dlx } });
      const cch = await ctx.channel();
      await cch.prefetch(1);
      const c = await Consumer.start(cch, q, { noAck: false });
      const confirm = await publishConfirmed(ch, '', q, 'm');
      const [m] = await c.waitFor(1);
      cch.nack(m, false, true);
      const dead = await waitDead(cch, dlq, 1);
      await c.cancel();
      return {
        confirm,
        delivered: c.messages.map((x) => summary(x)),
        dlq: dead,
        ready: (await ch.checkQueue(q)).messageCount,
      };
    },
    check: (o) =>
      expect(o).toEqual({
        confirm: 'ack',
        delivered: [{ body: 'm', exchange: '', routingKey: 'P-q', redelivered: false }],
        dlq: [d('m')],
        ready: 0,
      }),
  },
  {
    name: 'several consumers: drop-head runs before the requeue is redelivered; the freed consumer gets the next message',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const { dlx, dlq } = await dlxFor(ctx, ch);
      const q = ctx.name('q');
      await ch.assertQueue(q, { durable: false, arguments: { 'x-max-length': 2, 'x-dead-letter-exchange': dlx } });
      const a = await ctx.channel();
      const b = await ctx.channel();
      await a.prefetch(1);
      await b.prefetch(1);
      const ca = await Consumer.start(a, q, { noAck: false });
      const cb = await Consumer.start(b, q, { noAck: false });
      const confirms = [];
      for (const body of ['1', '2', '3', '4']) confirms.push(await publishConfirmed(ch, '', q, body));
      await ca.waitFor(1);
      await cb.waitFor(1);
      const first = {
        a: ca.messages.map((m) => m.content.toString()),
        b: cb.messages.map((m) => m.content.toString()),
      };
      await a.close(); // a's message comes back into a full queue
      b.nack(cb.messages[0], false, true); // and so does b's, then b takes the next one
      await cb.waitFor(2);
      const ready = await settledCount(ch, q, 1);
      return {
        confirms,
        first,
        b: cb.messages.map((m) => [m.content.toString(), m.fields.redelivered]),
        ready,
        queue: readyOf(await drain(b, q)),
        dlq: (await drain(b, dlq)).map(deadSummary),
      };
    },
    check: (o) =>
      expect(o).toEqual({
        confirms: ['ack', 'ack', 'ack', 'ack'],
        first: { a: ['1'], b: ['2'] },
        b: [
          ['2', false],
          ['3', false],
        ],
        ready: 1,
        queue: [['4', false]],
        dlq: [d('1'), d('2')],
      }),
  },
  {
    name: 'a requeued message whose TTL ran out while it was held: over the limit it is dropped as maxlen, within it it expires',
    run: async (ctx) => {
      const out: Record<string, unknown> = {};
      for (const [label, limit] of [
        ['over', 1],
        ['within', 2],
      ] as const) {
        const { ch } = await ctx.openConfirm();
        const { dlx, dlq } = await dlxFor(ctx, ch, `-${label}`);
        const q = ctx.name(`q-${label}`);
        await ch.assertQueue(q, {
          durable: false,
          arguments: { 'x-max-length': limit, 'x-dead-letter-exchange': dlx },
        });
        await publishConfirmed(ch, '', q, 'a', { expiration: '100' });
        const held = await ch.get(q, { noAck: false });
        const heldAt = Date.now();
        await publishConfirmed(ch, '', q, 'b');
        // a's TTL runs out while it is held (nothing to wait on but the clock)
        await waitUntil(() => Date.now() - heldAt > 200, 1000);
        if (held) ch.nack(held, false, true);
        out[label] = { queue: readyOf(await drain(ch, q)), dlq: await waitDead(ch, dlq, 1) };
      }
      return out;
    },
    check: (o) =>
      expect(o).toEqual({
        over: { queue: [['b', false]], dlq: [{ body: 'a', redelivered: false, deaths: ['maxlen@P-q-overx1'] }] },
        within: { queue: [['b', false]], dlq: [{ body: 'a', redelivered: false, deaths: ['expired@P-q-withinx1'] }] },
      }),
  },
]);

async function waitDead(ch: Channel, dlq: string, n: number): Promise<DeadOutcome[]> {
  const out: DeadOutcome[] = [];
  await waitUntil(
    async () => {
      const m = await ch.get(dlq, { noAck: true });
      if (m) out.push(deadSummary(m));
      return out.length >= n;
    },
    3000,
    `${n} dead letters in ${dlq}`,
  );
  return out;
}
