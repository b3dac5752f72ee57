import type { Options } from 'amqplib';
import { permUrl } from '../fixtures';
import { amqplibTyped, declareRefused, inequivalent, invalidArg } from '../queue-declare-refusals';
import { area, attempt, connect, rpc, type Conn, type Ctx, type Result, closeOutcome } from '../harness';

// How RabbitMQ 3.10 compares the arguments of a queue declared again (rabbit_misc:assert_args_equivalence over
// the classic queue's arguments) and which arguments, and combinations of them, it refuses when a queue is
// created (rabbit_amqqueue:check_declare_arguments, rabbit_channel's queue.declare). Typed values are sent
// with amqplib's {'!': type, value} notation; a plain number goes out as the smallest signed integer type.

type Args = Record<string, unknown>;
const typed = amqplibTyped;
const INTERNAL_ERROR = closeOutcome('connection', 541, 0, 0, 'INTERNAL_ERROR');

/**
 * Declares queue `q` with `first`, then declares it again with each entry of `then`, each on a fresh channel
 * (and a fresh connection after one was closed). Returns the outcome of each redeclaration by label.
 */
async function redeclare(
  ctx: Ctx,
  q: string,
  first: Args,
  then: Record<string, Args>,
  opts: Options.AssertQueue = { durable: false },
) {
  let conn = await ctx.connect();
  await (await conn.channel()).assertQueue(q, { ...opts, arguments: first });
  const out: Record<string, Result> = {};
  for (const [label, args] of Object.entries(then)) {
    // an exclusive queue is only reachable from its own connection, so that one is kept as long as it lives
    if (conn.closed) conn = await ctx.connect();
    out[label] = await attempt(async () => (await conn.channel()).assertQueue(q, { ...opts, arguments: args }), conn);
  }
  return out;
}

/** Declares each case as a new queue `P-<label>` on a fresh channel; returns the outcomes by label. */
async function declareEach(ctx: Ctx, cases: Record<string, Args>, opts: Options.AssertQueue = { durable: false }) {
  let conn: Conn = await ctx.connect();
  const out: Record<string, Result> = {};
  for (const [label, args] of Object.entries(cases)) {
    if (conn.closed) conn = await ctx.connect();
    out[label] = await attempt(
      async () => (await conn.channel()).assertQueue(ctx.name(label), { ...opts, arguments: args }),
      conn,
    );
  }
  return out;
}

export default area('queue-args-equivalence', [
  // ---- 1. equivalence on redeclaration ----
  {
    name: 'the same number in any integer type (byte, short, int, long, unsigned, timestamp) is equivalent',
    compareText: true,
    run: async (ctx) => {
      const types = ['byte', 'unsignedbyte', 'short', 'unsignedshort', 'int', 'unsignedint', 'long', 'timestamp'];
      const as = (value: number) =>
        Object.fromEntries(
          types.map((t) => [t, { 'x-max-length': typed(t, value), 'x-message-ttl': typed('long', 1000) }]),
        );
      return {
        // declared as a signed int, again as each type
        fromInt: await redeclare(
          ctx,
          ctx.name('int'),
          { 'x-max-length': typed('int', 5), 'x-message-ttl': 1000 },
          as(5),
        ),
        // declared as a long, again as each type (1000 does not fit a byte: those are out of range on the wire)
        fromLong: await redeclare(
          ctx,
          ctx.name('long'),
          { 'x-max-length': typed('long', 100), 'x-message-ttl': typed('short', 1000) },
          Object.fromEntries(
            types.map((t) => [
              t,
              {
                'x-max-length': typed(t, 100),
                'x-message-ttl': typed(t === 'byte' || t === 'unsignedbyte' ? 'int' : t, 1000),
              },
            ]),
          ),
        ),
      };
    },
    check: (o) => {
      for (const r of [...Object.values(o.fromInt), ...Object.values(o.fromLong)]) expect(r).toEqual({ kind: 'ok' });
      expect(Object.keys(o.fromInt)).toHaveLength(8);
    },
  },
  {
    name: 'a different number, a float or double of the same value, or a string of its digits is 406 inequivalent with both values',
    compareText: true,
    run: async (ctx) => {
      const q = ctx.name();
      return redeclare(
        ctx,
        q,
        { 'x-max-length': typed('int', 5) },
        {
          different: { 'x-max-length': typed('long', 6) },
          double: { 'x-max-length': typed('double', 5) },
          float: { 'x-max-length': typed('float', 5) },
          longstr: { 'x-max-length': '5' },
          absent: {},
        },
      );
    },
    check: (o) =>
      expect(o).toEqual({
        different: inequivalent('x-max-length', 'P-q', "received '6' but current is '5'"),
        double: inequivalent('x-max-length', 'P-q', "received '5.0' but current is '5'"),
        float: inequivalent('x-max-length', 'P-q', "received '5.0' but current is '5'"),
        longstr: inequivalent('x-max-length', 'P-q', "received '5' but current is '5'"),
        absent: inequivalent('x-max-length', 'P-q', "received none but current is the value '5' of type 'signedint'"),
      }),
  },
  {
    name: 'floats: float and double of one value are equivalent; values are printed as Erlang prints floats',
    compareText: true,
    // x-queue-master-locator is compared but not validated (and not looked at for an exclusive queue): any type goes
    run: async (ctx) => {
      const q = ctx.name();
      const loc = (v: unknown) => ({ 'x-queue-master-locator': v });
      return redeclare(
        ctx,
        q,
        loc(typed('double', 1.5)),
        {
          float: loc(typed('float', 1.5)),
          double: loc(typed('double', 1.5)),
          'float 0.1': loc(typed('float', 0.1)),
          '2.5': loc(typed('double', 2.5)),
          '100.0': loc(typed('double', 100)),
          '1.0e5': loc(typed('double', 1e5)),
          '123456.0': loc(typed('double', 123456)),
          '0.0001': loc(typed('double', 0.0001)),
          '1.5e-4': loc(typed('double', 1.5e-4)),
          '1.0e-5': loc(typed('double', 1e-5)),
          '-0.0': loc(typed('double', -0)),
          '1.0e15': loc(typed('double', 1e15)),
          '1.2345678901234568e17': loc(typed('double', 123456789012345680)),
          '123456789012.5': loc(typed('double', 123456789012.5)),
          '5.0e-324': loc(typed('double', 5e-324)),
          int: loc(typed('int', 1)),
        },
        { exclusive: true },
      );
    },
    check: (o) => {
      const diff = (received: string) =>
        inequivalent('x-queue-master-locator', 'P-q', `received '${received}' but current is '1.5'`);
      expect(o.float).toEqual({ kind: 'ok' });
      expect(o.double).toEqual({ kind: 'ok' });
      expect(o['float 0.1']).toEqual(diff('0.10000000149011612'));
      for (const k of Object.keys(o).filter((k) => !['float', 'double', 'float 0.1', 'int'].includes(k)))
        expect(o[k]).toEqual(diff(k));
      expect(o.int).toEqual(diff('1'));
    },
  },
  {
    name: 'strings, booleans, binaries, arrays and tables: same bytes are equivalent whatever the string type; types print as RabbitMQ names them',
    compareText: true,
    run: async (ctx) => {
      const loc = (v: unknown) => ({ 'x-queue-master-locator': v });
      return {
        string: await redeclare(
          ctx,
          ctx.name('s'),
          loc('abc'),
          {
            binary: loc(Buffer.from('abc')),
            otherBinary: loc(Buffer.from('abd')),
            other: loc('abd'),
            bool: loc(true),
            absent: {},
          },
          { exclusive: true },
        ),
        binary: await redeclare(
          ctx,
          ctx.name('x'),
          loc(Buffer.from('abc')),
          { absent: {}, string: loc('abc') },
          { exclusive: true },
        ),
        array: await redeclare(
          ctx,
          ctx.name('a'),
          loc([1, 'a']),
          { same: loc([1, 'a']), otherTypes: loc([typed('long', 1), 'a']), other: loc([2, 'a']), absent: {} },
          { exclusive: true },
        ),
        table: await redeclare(
          ctx,
          ctx.name('t'),
          loc({ a: 1, b: 'x' }),
          { same: loc({ a: 1, b: 'x' }), reordered: loc({ b: 'x', a: 1 }), absent: {} },
          { exclusive: true },
        ),
        emptyArrayVsTable: await redeclare(ctx, ctx.name('e'), loc([]), { table: loc({}) }, { exclusive: true }),
        void: await redeclare(ctx, ctx.name('v'), loc(null), { same: loc(null), absent: {} }, { exclusive: true }),
        bool: await redeclare(
          ctx,
          ctx.name('b'),
          { 'x-single-active-consumer': true },
          { false: { 'x-single-active-consumer': false }, absent: {} },
        ),
      };
    },
    check: (o) => {
      const ok = { kind: 'ok' };
      const d = (q: string, detail: string) => inequivalent('x-queue-master-locator', `P-${q}`, detail);
      expect(o.string).toEqual({
        binary: ok,
        otherBinary: d('s', "received 'abd' but current is 'abc'"),
        other: d('s', "received 'abd' but current is 'abc'"),
        bool: d('s', "received 'true' but current is 'abc'"),
        absent: d('s', "received none but current is the value 'abc' of type 'longstr'"),
      });
      expect(o.binary).toEqual({
        absent: d('x', "received none but current is the value 'abc' of type 'binary'"),
        string: ok,
      });
      expect(o.array).toEqual({
        same: ok,
        otherTypes: d('a', `received '[{long,1},{longstr,<<"a">>}]' but current is '[{byte,1},{longstr,<<"a">>}]'`),
        other: d('a', `received '[{byte,2},{longstr,<<"a">>}]' but current is '[{byte,1},{longstr,<<"a">>}]'`),
        absent: d('a', `received none but current is the value '[{byte,1},{longstr,<<"a">>}]' of type 'array'`),
      });
      expect(o.table).toEqual({
        same: ok,
        // a table is a list to RabbitMQ: the order of its fields counts
        reordered: d(
          't',
          `received '[{<<"b">>,longstr,<<"x">>},{<<"a">>,byte,1}]' but current is '[{<<"a">>,byte,1},{<<"b">>,longstr,<<"x">>}]'`,
        ),
        absent: d(
          't',
          `received none but current is the value '[{<<"a">>,byte,1},{<<"b">>,longstr,<<"x">>}]' of type 'table'`,
        ),
      });
      expect(o.emptyArrayVsTable).toEqual({ table: ok });
      expect(o.void).toEqual({
        same: ok,
        absent: d('v', "received none but current is the value 'undefined' of type 'void'"),
      });
      expect(o.bool).toEqual({
        false: inequivalent('x-single-active-consumer', 'P-b', "received 'false' but current is 'true'"),
        absent: inequivalent(
          'x-single-active-consumer',
          'P-b',
          "received none but current is the value 'true' of type 'bool'",
        ),
      });
    },
  },
  {
    name: 'a decimal: an equal one is equivalent, absent is 406, any other value crashes the channel: 541 INTERNAL_ERROR',
    compareText: true,
    run: async (ctx) => {
      const dec = (places: number, digits: number) => ({
        'x-queue-master-locator': typed('decimal', { places, digits }),
      });
      return {
        decimal: await redeclare(ctx, ctx.name('d'), dec(1, 5), { same: dec(1, 5), absent: {} }, { exclusive: true }),
        // a new connection for each crash: the exclusive queue goes with the connection
        other: await redeclare(ctx, ctx.name('o'), dec(1, 5), { other: dec(0, 5) }, { exclusive: true }),
        integerAgainstDecimal: await redeclare(
          ctx,
          ctx.name('i'),
          dec(0, 5),
          { int: { 'x-queue-master-locator': 5 } },
          { exclusive: true },
        ),
        decimalAgainstInteger: await redeclare(
          ctx,
          ctx.name('n'),
          { 'x-max-length': 5 },
          { decimal: { 'x-max-length': typed('decimal', { places: 0, digits: 5 }) } },
        ),
        absentAgainstDecimal: await redeclare(ctx, ctx.name('a'), {}, { decimal: dec(1, 5) }),
      };
    },
    check: (o) => {
      expect(o.decimal).toEqual({
        same: { kind: 'ok' },
        absent: inequivalent(
          'x-queue-master-locator',
          'P-d',
          "received none but current is the value '{1,5}' of type 'decimal'",
        ),
      });
      expect(o.other).toEqual({ other: INTERNAL_ERROR });
      expect(o.integerAgainstDecimal).toEqual({ int: INTERNAL_ERROR });
      expect(o.decimalAgainstInteger).toEqual({ decimal: INTERNAL_ERROR });
      expect(o.absentAgainstDecimal).toEqual({
        decimal: inequivalent(
          'x-queue-master-locator',
          'P-a',
          "received the value '{1,5}' of type 'decimal' but current is none",
        ),
      });
    },
  },
  {
    name: 'which arguments are compared: the 13 classic queue arguments, in RabbitMQ order; unknown and other queue types arguments are not',
    compareText: true,
    run: async (ctx) => {
      const q = ctx.name();
      const base: Args = {
        'x-queue-master-locator': 'client-local',
        'x-queue-type': 'classic',
        'x-single-active-consumer': false,
        'x-queue-version': 1,
        'x-queue-mode': 'default',
        'x-overflow': 'drop-head',
        'x-max-priority': 3,
        'x-max-length-bytes': 100000,
        'x-max-length': 100,
        'x-dead-letter-routing-key': 'rk',
        'x-dead-letter-exchange': 'amq.direct',
        'x-message-ttl': 60000,
        'x-expires': 600000,
        'x-custom': 'a',
      };
      const changed: Record<string, unknown> = {
        'x-expires': 600001,
        'x-message-ttl': 60001,
        'x-dead-letter-exchange': 'amq.fanout',
        'x-dead-letter-routing-key': 'rk2',
        'x-max-length': 101,
        'x-max-length-bytes': 100001,
        'x-max-priority': 4,
        'x-overflow': 'reject-publish',
        'x-queue-mode': 'lazy',
        'x-queue-version': 2,
        'x-single-active-consumer': true,
        'x-queue-type': 'quorum',
        'x-queue-master-locator': 'min-masters',
        // not compared
        'x-custom': 'b',
        'x-delivery-limit': 5,
        'x-max-age': '1D',
      };
      const cases: Record<string, Args> = {};
      for (const [k, v] of Object.entries(changed)) cases[k] = { ...base, [k]: v };
      // everything different at once: RabbitMQ reports the first in its order, not the table's
      cases.all = { ...base, ...changed };
      return redeclare(ctx, q, base, cases);
    },
    check: (o) => {
      expect(o['x-custom']).toEqual({ kind: 'ok' });
      expect(o['x-delivery-limit']).toEqual({ kind: 'ok' });
      expect(o['x-max-age']).toEqual({ kind: 'ok' });
      expect(o['x-queue-type']).toEqual(
        inequivalent('x-queue-type', 'P-q', "received 'quorum' but current is 'classic'"),
      );
      expect(o['x-dead-letter-exchange']).toEqual(
        inequivalent('x-dead-letter-exchange', 'P-q', "received 'amq.fanout' but current is 'amq.direct'"),
      );
      expect(o.all).toEqual(inequivalent('x-expires', 'P-q', "received '600001' but current is '600000'"));
      for (const k of Object.keys(o).filter((k) => !['x-custom', 'x-delivery-limit', 'x-max-age', 'all'].includes(k)))
        expect(o[k]).toMatchObject({ code: 406, text: expect.stringContaining(`inequivalent arg '${k}'`) });
    },
  },
  {
    name: "x-queue-type: absent and 'classic' are equivalent both ways; quorum or stream against a classic queue is 406",
    compareText: true,
    run: async (ctx) => ({
      declaredClassic: await redeclare(
        ctx,
        ctx.name('c'),
        { 'x-queue-type': 'classic' },
        { absent: {}, quorum: { 'x-queue-type': 'quorum' } },
      ),
      declaredWithout: await redeclare(
        ctx,
        ctx.name('n'),
        {},
        {
          classic: { 'x-queue-type': 'classic' },
          stream: { 'x-queue-type': 'stream' },
          classicAsBinary: { 'x-queue-type': Buffer.from('classic') },
        },
      ),
    }),
    check: (o) =>
      expect(o).toEqual({
        declaredClassic: {
          absent: { kind: 'ok' },
          quorum: inequivalent('x-queue-type', 'P-c', "received 'quorum' but current is 'classic'"),
        },
        declaredWithout: {
          classic: { kind: 'ok' },
          stream: inequivalent(
            'x-queue-type',
            'P-n',
            "received the value 'stream' of type 'longstr' but current is none",
          ),
          classicAsBinary: inequivalent(
            'x-queue-type',
            'P-n',
            "received the value 'classic' of type 'binary' but current is none",
          ),
        },
      }),
  },
  {
    name: 'a redeclaration does not validate its arguments: an invalid value is only a different value; passive declares compare nothing',
    compareText: true,
    run: async (ctx) => {
      const q = ctx.name();
      const redeclared = await redeclare(
        ctx,
        q,
        { 'x-max-length': 5 },
        {
          negative: { 'x-max-length': -1 },
          invalidExtra: { 'x-max-length': 5, 'x-max-priority': 1000 },
          otherType: { 'x-max-length': 5, 'x-delivery-limit': 'x' },
        },
      );
      const conn = await ctx.connect();
      const ch = await conn.channel();
      const passive = await attempt(
        () =>
          rpc(
            ch,
            'QueueDeclare',
            {
              queue: q,
              ticket: 0,
              passive: true,
              durable: true,
              exclusive: false,
              autoDelete: true,
              nowait: false,
              arguments: { 'x-max-length': -1, 'x-expires': 'x' },
            },
            'QueueDeclareOk',
          ),
        conn,
      );
      return { redeclared, passive };
    },
    check: (o) =>
      expect(o).toEqual({
        redeclared: {
          negative: inequivalent('x-max-length', 'P-q', "received '-1' but current is '5'"),
          invalidExtra: inequivalent(
            'x-max-priority',
            'P-q',
            "received the value '1000' of type 'short' but current is none",
          ),
          otherType: { kind: 'ok' },
        },
        passive: { kind: 'ok' },
      }),
  },
  {
    name: 'flags: an exclusive queue is never durable (durable true and false are equivalent); a different exclusive flag is 405 before a durable mismatch',
    compareText: true,
    run: async (ctx) => {
      const conn = await ctx.connect();
      const q = ctx.name('x');
      await (await conn.channel()).assertQueue(q, { exclusive: true, durable: true });
      const exclusive = {
        notDurable: await attempt(
          async () => (await conn.channel()).assertQueue(q, { exclusive: true, durable: false }),
          conn,
        ),
        durable: await attempt(
          async () => (await conn.channel()).assertQueue(q, { exclusive: true, durable: true }),
          conn,
        ),
        notExclusiveDurable: await attempt(
          async () => (await conn.channel()).assertQueue(q, { exclusive: false, durable: true }),
          conn,
        ),
      };
      // a shared queue declared again as exclusive (and durable) by the connection that made it
      const s = ctx.name('s');
      await (await conn.channel()).assertQueue(s, { durable: false });
      const sharedExclusive = await attempt(
        async () => (await conn.channel()).assertQueue(s, { exclusive: true, durable: true }),
        conn,
      );
      return { exclusive, sharedExclusive };
    },
    check: (o) => {
      const locked = (q: string) =>
        declareRefused(
          405,
          `RESOURCE_LOCKED - cannot obtain exclusive access to locked queue '${q}' in vhost '/'. It could be originally declared on another connection or the exclusive property value does not match that of the original declaration.`,
        );
      expect(o).toEqual({
        exclusive: { notDurable: { kind: 'ok' }, durable: { kind: 'ok' }, notExclusiveDurable: locked('P-x') },
        sharedExclusive: locked('P-s'),
      });
    },
  },

  // ---- 2. arguments refused at creation ----
  {
    name: 'x-dead-letter-routing-key needs x-dead-letter-exchange (any name, even the default exchange or a missing one)',
    compareText: true,
    run: (ctx) =>
      declareEach(ctx, {
        alone: { 'x-dead-letter-routing-key': 'rk' },
        notAString: { 'x-dead-letter-routing-key': 5 },
        withDefault: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'rk' },
        withMissing: { 'x-dead-letter-exchange': ctx.name('nowhere'), 'x-dead-letter-routing-key': 'rk' },
        afterTtl: { 'x-dead-letter-routing-key': 'rk', 'x-message-ttl': -1 },
        beforeMaxLength: { 'x-max-length': -1, 'x-dead-letter-routing-key': 'rk' },
      }),
    check: (o) =>
      expect(o).toEqual({
        alone: invalidArg('x-dead-letter-routing-key', 'P-alone', 'routing_key_but_no_dlx_defined'),
        notAString: invalidArg('x-dead-letter-routing-key', 'P-notAString', '{unacceptable_type,byte}'),
        withDefault: { kind: 'ok' },
        withMissing: { kind: 'ok' },
        afterTtl: invalidArg('x-message-ttl', 'P-afterTtl', '{value_negative,-1}'),
        beforeMaxLength: invalidArg('x-dead-letter-routing-key', 'P-beforeMaxLength', 'routing_key_but_no_dlx_defined'),
      }),
  },
  {
    name: 'x-dead-letter-exchange that is not a string: 406 invalid type, before any other argument is looked at',
    compareText: true,
    run: (ctx) =>
      declareEach(ctx, {
        byte: { 'x-dead-letter-exchange': 5 },
        bool: { 'x-dead-letter-exchange': true },
        binary: { 'x-dead-letter-exchange': Buffer.from('amq.direct') },
        withInvalidQueueType: { 'x-queue-type': 'bogus', 'x-dead-letter-exchange': typed('long', 1) },
        withInvalidTtl: { 'x-expires': 0, 'x-dead-letter-exchange': typed('int', 1) },
      }),
    check: (o) => {
      const t = (type: string, q: string) =>
        declareRefused(
          406,
          `PRECONDITION_FAILED - invalid type '${type}' for arg 'x-dead-letter-exchange' in queue '${q}' in vhost '/'`,
        );
      expect(o).toEqual({
        byte: t('byte', 'P-byte'),
        bool: t('bool', 'P-bool'),
        binary: t('binary', 'P-binary'),
        withInvalidQueueType: t('long', 'P-withInvalidQueueType'),
        withInvalidTtl: t('signedint', 'P-withInvalidTtl'),
      });
    },
  },
  {
    name: 'x-dead-letter-exchange permissions are checked before the other arguments are validated: 403 rather than 406',
    compareText: true,
    run: async (ctx) => {
      const user = await connect(permUrl(ctx.url, 'perm'));
      try {
        const q = `cfg-${ctx.prefix}-q`;
        const declare = (args: Args) =>
          attempt(async () => (await user.channel()).assertQueue(q, { durable: false, arguments: args }), user);
        return {
          // the user may configure cfg- queues but read only rd- ones: dead-lettering from the queue needs read on it
          withDlx: await declare({ 'x-max-length': -1, 'x-dead-letter-exchange': 'amq.direct' }),
          withoutDlx: await declare({ 'x-max-length': -1 }),
        };
      } finally {
        await user.close();
      }
    },
    check: (o) =>
      expect(o).toEqual({
        withDlx: declareRefused(
          403,
          "ACCESS_REFUSED - access to queue 'cfg-P-q' in vhost 'warren-compat-perm' refused for user 'warren-compat-perm'",
        ),
        withoutDlx: {
          ...invalidArg('x-max-length', 'cfg-P-q', '{value_negative,-1}'),
          text: "PRECONDITION_FAILED - invalid arg 'x-max-length' for queue 'cfg-P-q' in vhost 'warren-compat-perm': {value_negative,-1}",
        },
      }),
  },
  {
    name: 'x-queue-mode, x-queue-type and x-queue-version: 406 with RabbitMQ texts for unknown values and types',
    compareText: true,
    run: (ctx) =>
      declareEach(ctx, {
        modeLazy: { 'x-queue-mode': 'lazy' },
        modeBogus: { 'x-queue-mode': 'bogus' },
        modeNotAString: { 'x-queue-mode': 5 },
        typeClassic: { 'x-queue-type': 'classic' },
        typeBogus: { 'x-queue-type': 'bogus' },
        typeNotAString: { 'x-queue-type': 5 },
        version1: { 'x-queue-version': 1 },
        version2: { 'x-queue-version': typed('long', 2) },
        version0: { 'x-queue-version': 0 },
        version3: { 'x-queue-version': 3 },
        versionNegative: { 'x-queue-version': -1 },
        versionString: { 'x-queue-version': '1' },
        versionDouble: { 'x-queue-version': 1.5 },
        singleActiveConsumerByte: { 'x-single-active-consumer': 1 },
      }),
    check: (o) =>
      expect(o).toEqual({
        modeLazy: { kind: 'ok' },
        modeBogus: invalidArg('x-queue-mode', 'P-modeBogus', `"unsupported queue mode 'bogus'"`),
        modeNotAString: invalidArg('x-queue-mode', 'P-modeNotAString', '{unacceptable_type,byte}'),
        typeClassic: { kind: 'ok' },
        typeBogus: invalidArg('x-queue-type', 'P-typeBogus', `"unsupported queue type 'bogus'"`),
        typeNotAString: invalidArg('x-queue-type', 'P-typeNotAString', '{unacceptable_type,byte}'),
        version1: { kind: 'ok' },
        version2: { kind: 'ok' },
        version0: invalidArg('x-queue-version', 'P-version0', `"unsupported queue version '0'"`),
        version3: invalidArg('x-queue-version', 'P-version3', `"unsupported queue version '3'"`),
        versionNegative: invalidArg('x-queue-version', 'P-versionNegative', '{value_negative,-1}'),
        versionString: invalidArg('x-queue-version', 'P-versionString', '"expected integer, got longstr"'),
        versionDouble: invalidArg('x-queue-version', 'P-versionDouble', '"expected integer, got double"'),
        singleActiveConsumerByte: invalidArg(
          'x-single-active-consumer',
          'P-singleActiveConsumerByte',
          '{unacceptable_type,byte}',
        ),
      }),
  },
  {
    name: 'several invalid arguments: x-queue-type first, then RabbitMQ order (not the table order), then other queue types arguments in table order',
    compareText: true,
    run: (ctx) =>
      declareEach(ctx, {
        lengthThenExpires: { 'x-max-length': -1, 'x-expires': 0 },
        expiresThenLength: { 'x-expires': 0, 'x-max-length': -1 },
        priorityThenTtl: { 'x-max-priority': 256, 'x-message-ttl': '1' },
        modeThenOverflow: { 'x-queue-mode': 'x', 'x-overflow': 'x' },
        lengthThenType: { 'x-max-length': -1, 'x-queue-type': 'bogus' },
        versionThenSac: { 'x-single-active-consumer': 'yes', 'x-queue-version': 9 },
        otherTypeThenLength: { 'x-delivery-limit': 5, 'x-max-length': -1 },
        maxAgeThenDeliveryLimit: { 'x-max-age': '1D', 'x-delivery-limit': 5 },
        deliveryLimitThenMaxAge: { 'x-delivery-limit': 5, 'x-max-age': '1D' },
      }),
    check: (o) =>
      expect(o).toEqual({
        lengthThenExpires: invalidArg('x-expires', 'P-lengthThenExpires', '{value_zero,0}'),
        expiresThenLength: invalidArg('x-expires', 'P-expiresThenLength', '{value_zero,0}'),
        priorityThenTtl: invalidArg('x-message-ttl', 'P-priorityThenTtl', '"expected integer, got longstr"'),
        modeThenOverflow: invalidArg('x-overflow', 'P-modeThenOverflow', 'invalid_overflow'),
        lengthThenType: invalidArg('x-queue-type', 'P-lengthThenType', `"unsupported queue type 'bogus'"`),
        versionThenSac: invalidArg('x-queue-version', 'P-versionThenSac', `"unsupported queue version '9'"`),
        otherTypeThenLength: invalidArg('x-max-length', 'P-otherTypeThenLength', '{value_negative,-1}'),
        maxAgeThenDeliveryLimit: declareRefused(
          406,
          "PRECONDITION_FAILED - invalid arg 'x-max-age' for queue 'P-maxAgeThenDeliveryLimit' in vhost '/' of queue type rabbit_classic_queue",
        ),
        deliveryLimitThenMaxAge: declareRefused(
          406,
          "PRECONDITION_FAILED - invalid arg 'x-delivery-limit' for queue 'P-deliveryLimitThenMaxAge' in vhost '/' of queue type rabbit_classic_queue",
        ),
      }),
  },
  {
    name: 'quorum and stream queue arguments on a classic queue: 406 of queue type rabbit_classic_queue, whatever their value',
    compareText: true,
    run: (ctx) =>
      declareEach(ctx, {
        'x-dead-letter-strategy': { 'x-dead-letter-strategy': 'at-least-once' },
        'x-max-in-memory-length': { 'x-max-in-memory-length': -1 },
        'x-max-in-memory-bytes': { 'x-max-in-memory-bytes': 10 },
        'x-quorum-initial-group-size': { 'x-quorum-initial-group-size': 3 },
        'x-delivery-limit': { 'x-delivery-limit': 'x' },
        'x-queue-leader-locator': { 'x-queue-leader-locator': 'bogus' },
        'x-max-age': { 'x-max-age': '1D' },
        'x-stream-max-segment-size-bytes': { 'x-stream-max-segment-size-bytes': 1 },
        'x-initial-cluster-size': { 'x-initial-cluster-size': 1 },
      }),
    check: (o) => {
      for (const [k, v] of Object.entries(o))
        expect(v).toEqual(
          declareRefused(
            406,
            `PRECONDITION_FAILED - invalid arg '${k}' for queue 'P-${k}' in vhost '/' of queue type rabbit_classic_queue`,
          ),
        );
      expect(Object.keys(o)).toHaveLength(9);
    },
  },
  {
    name: 'x-queue-master-locator: a known locator or anything on an exclusive queue is accepted; an unknown one crashes the declaration: 541',
    compareText: true,
    run: async (ctx) => ({
      known: await declareEach(ctx, {
        'client-local': { 'x-queue-master-locator': 'client-local' },
        'min-masters': { 'x-queue-master-locator': 'min-masters' },
        random: { 'x-queue-master-locator': 'random' },
      }),
      exclusive: await declareEach(
        ctx,
        { exclusiveBogus: { 'x-queue-master-locator': 'bogus' }, exclusiveByte: { 'x-queue-master-locator': 5 } },
        { exclusive: true },
      ),
      unknown: await declareEach(ctx, {
        bogus: { 'x-queue-master-locator': 'bogus' },
        byte: { 'x-queue-master-locator': 5 },
      }),
      // the crash leaves no queue behind
      leftover: await attempt(async () => (await ctx.channel()).checkQueue(ctx.name('bogus'))),
    }),
    check: (o) =>
      expect(o).toEqual({
        known: { 'client-local': { kind: 'ok' }, 'min-masters': { kind: 'ok' }, random: { kind: 'ok' } },
        exclusive: { exclusiveBogus: { kind: 'ok' }, exclusiveByte: { kind: 'ok' } },
        unknown: { bogus: INTERNAL_ERROR, byte: INTERNAL_ERROR },
        leftover: declareRefused(404, "NOT_FOUND - no queue 'P-bogus' in vhost '/'"),
      }),
  },
]);
