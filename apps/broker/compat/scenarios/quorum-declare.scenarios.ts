import type { Options } from 'amqplib';
import { area, attempt, Consumer, waitUntil, type Conn, type Ctx, type Result, closeOutcome } from '../harness';
import { QUORUM as Q } from '../quorum';
import { amqplibTyped, declareRefused, inequivalent, invalidArg } from '../queue-declare-refusals';

// Declaring quorum queues as RabbitMQ 3.10 takes them (rabbit_amqqueue:check_declare_arguments with the quorum
// queue type's arguments, then rabbit_quorum_queue:declare's property checks; rabbit_channel for server-named
// queues; rabbit_misc:assert_args_equivalence over the quorum arguments on a redeclaration).

type Args = Record<string, unknown>;
const typed = amqplibTyped;
const ofQuorum = (arg: string, q: string) =>
  declareRefused(
    406,
    `PRECONDITION_FAILED - invalid arg '${arg}' for queue '${q}' in vhost '/' of queue type rabbit_quorum_queue`,
  );
const invalidProperty = (property: string, q: string) =>
  declareRefused(406, `PRECONDITION_FAILED - invalid property '${property}' for queue '${q}' in vhost '/'`);

/** Declares each case as a new queue `P-<label>` on a fresh channel; returns the outcomes by label. */
async function declareEach(ctx: Ctx, cases: Record<string, { args: Args; opts?: Options.AssertQueue }>) {
  let conn: Conn = await ctx.connect();
  const out: Record<string, Result> = {};
  for (const [label, { args, opts }] of Object.entries(cases)) {
    if (conn.closed) conn = await ctx.connect();
    out[label] = await attempt(
      async () => (await conn.channel()).assertQueue(ctx.name(label), { durable: true, ...opts, arguments: args }),
      conn,
    );
  }
  return out;
}

/** Declares `q` as `first` (durable), then again with each of `then` on a fresh channel; outcomes by label. */
async function redeclare(
  ctx: Ctx,
  q: string,
  first: Args,
  then: Record<string, { args: Args; opts?: Options.AssertQueue }>,
) {
  let conn = await ctx.connect();
  await (await conn.channel()).assertQueue(q, { durable: true, arguments: first });
  const out: Record<string, Result> = {};
  for (const [label, { args, opts }] of Object.entries(then)) {
    if (conn.closed) conn = await ctx.connect();
    out[label] = await captureOk(conn, () =>
      conn.channel().then((ch) => ch.assertQueue(q, { durable: true, ...opts, arguments: args })),
    );
  }
  return out;
}

/** declare-ok's counts, or the error. */
async function captureOk(
  conn: Conn,
  declare: () => Promise<{ messageCount: number; consumerCount: number }>,
): Promise<Result> {
  const r = await attempt(declare, conn);
  if (r.kind !== 'ok') return r;
  const ok = await declare();
  return { kind: 'ok', value: { messageCount: ok.messageCount, consumerCount: ok.consumerCount } };
}

const ok = { kind: 'ok' };

export default area('quorum-declare', [
  {
    name: 'a quorum queue is durable, never exclusive nor auto-delete: 406 invalid property, checked auto-delete, exclusive, durable',
    compareText: true,
    run: (ctx) =>
      declareEach(ctx, {
        nonDurable: { args: Q, opts: { durable: false } },
        exclusive: { args: Q, opts: { exclusive: true } },
        autoDelete: { args: Q, opts: { autoDelete: true } },
        exclusiveNonDurable: { args: Q, opts: { durable: false, exclusive: true } },
        all: { args: Q, opts: { durable: false, exclusive: true, autoDelete: true } },
        durable: { args: Q },
      }),
    check: (o) =>
      expect(o).toEqual({
        nonDurable: invalidProperty('non-durable', 'P-nonDurable'),
        exclusive: invalidProperty('exclusive-owner', 'P-exclusive'),
        autoDelete: invalidProperty('auto-delete', 'P-autoDelete'),
        exclusiveNonDurable: invalidProperty('exclusive-owner', 'P-exclusiveNonDurable'),
        all: invalidProperty('auto-delete', 'P-all'),
        durable: ok,
      }),
  },
  {
    name: 'arguments are checked before the properties: a non-durable quorum queue with x-max-priority is refused for the argument',
    compareText: true,
    run: (ctx) =>
      declareEach(ctx, {
        nonDurablePriority: { args: { ...Q, 'x-max-priority': 5 }, opts: { durable: false } },
        exclusiveBadStrategy: { args: { ...Q, 'x-dead-letter-strategy': 'bogus' }, opts: { exclusive: true } },
      }),
    check: (o) =>
      expect(o).toEqual({
        nonDurablePriority: ofQuorum('x-max-priority', 'P-nonDurablePriority'),
        exclusiveBadStrategy: invalidArg('x-dead-letter-strategy', 'P-exclusiveBadStrategy', 'invalid_dlx_strategy'),
      }),
  },
  {
    name: 'a server-named quorum queue is refused (406), before any other check',
    compareText: true,
    run: async (ctx) => {
      const conn = await ctx.connect();
      const declare = async (args: Args, opts: Options.AssertQueue = { durable: true }) =>
        attempt(async () => (await conn.channel()).assertQueue('', { ...opts, arguments: args }), conn);
      return {
        durable: await declare(Q),
        badArgs: await declare(
          { ...Q, 'x-max-priority': 5, 'x-delivery-limit': 2 },
          { durable: false, exclusive: true },
        ),
      };
    },
    check: (o) => {
      const refused = declareRefused(
        406,
        'PRECONDITION_FAILED - Cannot declare a server-named queue for type rabbit_quorum_queue',
      );
      expect(o).toEqual({ durable: refused, badArgs: refused });
    },
  },
  {
    name: 'classic and stream arguments on a quorum queue: 406 of queue type rabbit_quorum_queue, the first in table order',
    compareText: true,
    run: (ctx) =>
      declareEach(ctx, {
        'x-max-priority': { args: { ...Q, 'x-max-priority': 5 } },
        'x-queue-mode': { args: { ...Q, 'x-queue-mode': 'lazy' } },
        'x-queue-version': { args: { ...Q, 'x-queue-version': 2 } },
        'x-queue-master-locator': { args: { ...Q, 'x-queue-master-locator': 'client-local' } },
        'x-max-age': { args: { ...Q, 'x-max-age': '1D' } },
        'x-stream-max-segment-size-bytes': { args: { ...Q, 'x-stream-max-segment-size-bytes': 1000 } },
        'x-initial-cluster-size': { args: { ...Q, 'x-initial-cluster-size': 1 } },
        modeBeforePriority: { args: { ...Q, 'x-queue-mode': 'bogus', 'x-max-priority': 5 } },
        priorityBeforeMode: { args: { 'x-max-priority': 5, ...Q, 'x-queue-mode': 'lazy' } },
      }),
    check: (o) => {
      for (const k of Object.keys(o).filter((k) => k.startsWith('x-'))) expect(o[k]).toEqual(ofQuorum(k, `P-${k}`));
      expect(o.modeBeforePriority).toEqual(ofQuorum('x-queue-mode', 'P-modeBeforePriority'));
      expect(o.priorityBeforeMode).toEqual(ofQuorum('x-max-priority', 'P-priorityBeforeMode'));
    },
  },
  {
    name: "quorum argument validators: their texts, in RabbitMQ order whatever the table order, before other types' arguments",
    compareText: true,
    run: (ctx) =>
      declareEach(ctx, {
        strategyBogus: { args: { ...Q, 'x-dead-letter-strategy': 'bogus' } },
        strategyByte: { args: { ...Q, 'x-dead-letter-strategy': 5 } },
        groupSizeZero: { args: { ...Q, 'x-quorum-initial-group-size': 0 } },
        groupSizeNegative: { args: { ...Q, 'x-quorum-initial-group-size': -2 } },
        groupSizeString: { args: { ...Q, 'x-quorum-initial-group-size': 'three' } },
        leaderBogus: { args: { ...Q, 'x-queue-leader-locator': 'bogus' } },
        leaderByte: { args: { ...Q, 'x-queue-leader-locator': 1 } },
        inMemoryLengthNegative: { args: { ...Q, 'x-max-in-memory-length': -3 } },
        inMemoryBytesString: { args: { ...Q, 'x-max-in-memory-bytes': 'x' } },
        ttlNegative: { args: { ...Q, 'x-message-ttl': -1 } },
        routingKeyWithoutDlx: { args: { ...Q, 'x-dead-letter-routing-key': 'k' } },
        overflowBogus: { args: { ...Q, 'x-overflow': 'bogus' } },
        sacString: { args: { ...Q, 'x-single-active-consumer': 'yes' } },
        leaderThenStrategy: { args: { ...Q, 'x-queue-leader-locator': 'bogus', 'x-dead-letter-strategy': 'bogus' } },
        priorityThenStrategy: { args: { ...Q, 'x-max-priority': 5, 'x-dead-letter-strategy': 'bogus' } },
      }),
    check: (o) =>
      expect(o).toEqual({
        strategyBogus: invalidArg('x-dead-letter-strategy', 'P-strategyBogus', 'invalid_dlx_strategy'),
        strategyByte: invalidArg('x-dead-letter-strategy', 'P-strategyByte', '{unacceptable_type,byte}'),
        groupSizeZero: invalidArg('x-quorum-initial-group-size', 'P-groupSizeZero', '{value_zero,0}'),
        groupSizeNegative: invalidArg('x-quorum-initial-group-size', 'P-groupSizeNegative', '{value_negative,-2}'),
        groupSizeString: invalidArg(
          'x-quorum-initial-group-size',
          'P-groupSizeString',
          '"expected integer, got longstr"',
        ),
        leaderBogus: invalidArg('x-queue-leader-locator', 'P-leaderBogus', 'invalid_queue_locator_arg'),
        leaderByte: invalidArg('x-queue-leader-locator', 'P-leaderByte', '{unacceptable_type,byte}'),
        inMemoryLengthNegative: invalidArg('x-max-in-memory-length', 'P-inMemoryLengthNegative', '{value_negative,-3}'),
        inMemoryBytesString: invalidArg(
          'x-max-in-memory-bytes',
          'P-inMemoryBytesString',
          '"expected integer, got longstr"',
        ),
        ttlNegative: invalidArg('x-message-ttl', 'P-ttlNegative', '{value_negative,-1}'),
        routingKeyWithoutDlx: invalidArg(
          'x-dead-letter-routing-key',
          'P-routingKeyWithoutDlx',
          'routing_key_but_no_dlx_defined',
        ),
        overflowBogus: invalidArg('x-overflow', 'P-overflowBogus', 'invalid_overflow'),
        sacString: invalidArg('x-single-active-consumer', 'P-sacString', '{unacceptable_type,longstr}'),
        leaderThenStrategy: invalidArg('x-dead-letter-strategy', 'P-leaderThenStrategy', 'invalid_dlx_strategy'),
        priorityThenStrategy: invalidArg('x-dead-letter-strategy', 'P-priorityThenStrategy', 'invalid_dlx_strategy'),
      }),
  },
  {
    name: 'arguments a single node accepts and ignores or takes as they come: group size, leader locators, in-memory limits, any x-delivery-limit',
    compareText: true,
    run: (ctx) =>
      declareEach(ctx, {
        groupSize: { args: { ...Q, 'x-quorum-initial-group-size': 3 } },
        clientLocal: { args: { ...Q, 'x-queue-leader-locator': 'client-local' } },
        balanced: { args: { ...Q, 'x-queue-leader-locator': 'balanced' } },
        random: { args: { ...Q, 'x-queue-leader-locator': 'random' } },
        leastLeaders: { args: { ...Q, 'x-queue-leader-locator': 'least-leaders' } },
        inMemory: { args: { ...Q, 'x-max-in-memory-length': 3, 'x-max-in-memory-bytes': 1000 } },
        deliveryLimit: { args: { ...Q, 'x-delivery-limit': 3 } },
        deliveryLimitZero: { args: { ...Q, 'x-delivery-limit': 0 } },
        deliveryLimitNegative: { args: { ...Q, 'x-delivery-limit': -1 } },
        deliveryLimitString: { args: { ...Q, 'x-delivery-limit': 'many' } },
        rejectPublishDlx: { args: { ...Q, 'x-overflow': 'reject-publish-dlx' } },
        atLeastOnceDropHead: { args: { ...Q, 'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'drop-head' } },
        atLeastOnceAlone: { args: { ...Q, 'x-dead-letter-strategy': 'at-least-once' } },
        atMostOnce: {
          args: { ...Q, 'x-dead-letter-strategy': 'at-most-once', 'x-dead-letter-exchange': 'amq.fanout' },
        },
        everythingShared: {
          args: {
            ...Q,
            'x-message-ttl': 1000,
            'x-expires': 60000,
            'x-max-length': 5,
            'x-max-length-bytes': typed('long', 10000),
            'x-overflow': 'reject-publish',
            'x-single-active-consumer': true,
            'x-dead-letter-exchange': 'amq.direct',
            'x-dead-letter-routing-key': 'k',
            'x-dead-letter-strategy': 'at-least-once',
          },
        },
        unknown: { args: { ...Q, 'x-custom': 'anything' } },
      }),
    check: (o) => {
      for (const [k, v] of Object.entries(o)) expect([k, v]).toEqual([k, ok]);
      expect(Object.keys(o)).toHaveLength(16);
    },
  },
  {
    name: 'redeclaring: quorum against classic and classic against quorum is 406 inequivalent x-queue-type; absent against quorum too',
    compareText: true,
    run: async (ctx) => ({
      quorum: await redeclare(ctx, ctx.name('q'), Q, {
        same: { args: Q },
        absent: { args: {} },
        classic: { args: { 'x-queue-type': 'classic' } },
      }),
      classic: await redeclare(ctx, ctx.name('c'), {}, { quorum: { args: Q } }),
    }),
    check: (o) =>
      expect(o).toEqual({
        quorum: {
          same: { kind: 'ok', value: { messageCount: 0, consumerCount: 0 } },
          absent: inequivalent(
            'x-queue-type',
            'P-q',
            "received none but current is the value 'quorum' of type 'longstr'",
          ),
          classic: inequivalent('x-queue-type', 'P-q', "received 'classic' but current is 'quorum'"),
        },
        classic: {
          quorum: inequivalent(
            'x-queue-type',
            'P-c',
            "received the value 'quorum' of type 'longstr' but current is none",
          ),
        },
      }),
  },
  {
    name: 'redeclaring a quorum queue compares the quorum arguments only (x-delivery-limit yes, x-max-priority no), then the flags',
    compareText: true,
    run: async (ctx) => {
      const base = {
        ...Q,
        'x-delivery-limit': 3,
        'x-dead-letter-strategy': 'at-most-once',
        'x-quorum-initial-group-size': 3,
      };
      return redeclare(ctx, ctx.name('q'), base, {
        deliveryLimit: { args: { ...base, 'x-delivery-limit': 4 } },
        deliveryLimitAbsent: {
          args: { ...Q, 'x-dead-letter-strategy': 'at-most-once', 'x-quorum-initial-group-size': 3 },
        },
        strategy: { args: { ...base, 'x-dead-letter-strategy': 'at-least-once' } },
        groupSize: { args: { ...base, 'x-quorum-initial-group-size': 5 } },
        leader: { args: { ...base, 'x-queue-leader-locator': 'balanced' } },
        priorityIgnored: { args: { ...base, 'x-max-priority': 9, 'x-queue-mode': 'lazy' } },
        autoDelete: { args: base, opts: { autoDelete: true } },
        nonDurable: { args: base, opts: { durable: false } },
        exclusive: { args: base, opts: { exclusive: true } },
        same: { args: base },
      });
    },
    check: (o) =>
      expect(o).toEqual({
        deliveryLimit: inequivalent('x-delivery-limit', 'P-q', "received '4' but current is '3'"),
        deliveryLimitAbsent: inequivalent(
          'x-delivery-limit',
          'P-q',
          "received none but current is the value '3' of type 'byte'",
        ),
        strategy: inequivalent(
          'x-dead-letter-strategy',
          'P-q',
          "received 'at-least-once' but current is 'at-most-once'",
        ),
        groupSize: inequivalent('x-quorum-initial-group-size', 'P-q', "received '5' but current is '3'"),
        leader: inequivalent(
          'x-queue-leader-locator',
          'P-q',
          "received the value 'balanced' of type 'longstr' but current is none",
        ),
        priorityIgnored: { kind: 'ok', value: { messageCount: 0, consumerCount: 0 } },
        autoDelete: inequivalent('auto_delete', 'P-q', "received 'true' but current is 'false'"),
        nonDurable: inequivalent('durable', 'P-q', "received 'false' but current is 'true'"),
        exclusive: closeOutcome(
          'channel',
          405,
          50,
          10,
          "RESOURCE_LOCKED - cannot obtain exclusive access to locked queue 'P-q' in vhost '/'. It could be originally declared on another connection or the exclusive property value does not match that of the original declaration.",
        ),
        same: { kind: 'ok', value: { messageCount: 0, consumerCount: 0 } },
      }),
  },
  {
    name: 'declare-ok counts ready messages, and as consumers each unsettled basic.get as well as the consumers',
    compareText: true,
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const q = ctx.name('q');
      await ch.assertQueue(q, { durable: true, arguments: Q });
      for (const body of ['a', 'b', 'c', 'd', 'e']) ch.sendToQueue(q, Buffer.from(body));
      await ch.waitForConfirms();
      const counts = async () => {
        const ok = await ch.checkQueue(q);
        return [ok.messageCount, ok.consumerCount];
      };
      const out: Record<string, number[]> = { start: await counts() };
      await ch.get(q, { noAck: true });
      out.noAckGet = await counts();
      const first = await ch.get(q, { noAck: false });
      const second = await ch.get(q, { noAck: false });
      out.twoGets = await counts();
      if (!first || !second) throw new Error('basic.get found nothing');
      ch.ack(first);
      await waitUntil(async () => (await ch.checkQueue(q)).consumerCount === 1);
      out.oneAcked = await counts();
      ch.nack(second, false, true);
      await waitUntil(async () => (await ch.checkQueue(q)).messageCount === 3);
      out.requeued = await counts();
      const consumer = await Consumer.start(ch, q, { noAck: false });
      await consumer.waitFor(3);
      out.consuming = await counts();
      const c2 = await ctx.connect();
      const again = await (await c2.channel()).assertQueue(q, { durable: true, arguments: Q });
      out.declareAgain = [again.messageCount, again.consumerCount];
      return out;
    },
    check: (o) =>
      expect(o).toEqual({
        start: [5, 0],
        noAckGet: [4, 0],
        twoGets: [2, 2],
        oneAcked: [2, 1],
        requeued: [3, 0],
        consuming: [0, 1],
        declareAgain: [0, 1],
      }),
  },
  {
    name: 'queue.delete with if-unused or if-empty is not implemented for quorum queues: 540 on the connection; a plain delete answers the ready count',
    compareText: true,
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const q = ctx.name('q');
      await ch.assertQueue(q, { durable: true, arguments: Q });
      for (const body of ['a', 'b', 'c']) ch.sendToQueue(q, Buffer.from(body));
      await ch.waitForConfirms();
      await ch.get(q, { noAck: false });
      const out: Record<string, unknown> = {};
      for (const [label, opts] of [
        ['ifUnused', { ifUnused: true }],
        ['ifEmpty', { ifEmpty: true }],
        ['both', { ifUnused: true, ifEmpty: true }],
      ] as const) {
        const conn = await ctx.connect();
        out[label] = await attempt(async () => (await conn.channel()).deleteQueue(q, opts), conn);
      }
      const conn = await ctx.connect();
      out.plain = (await (await conn.channel()).deleteQueue(q)).messageCount;
      return out;
    },
    check: (o) => {
      const refused = (flag: string) =>
        closeOutcome(
          'connection',
          540,
          50,
          40,
          `NOT_IMPLEMENTED - cannot delete queue 'P-q' in vhost '/'. queue.delete operations with ${flag} flag set are not supported by quorum queues`,
        );
      expect(o).toEqual({
        ifUnused: refused('if-unused'),
        ifEmpty: refused('if-empty'),
        both: refused('if-unused'),
        plain: 2,
      });
    },
  },
]);
