// The x-delayed-message exchange of RabbitMQ's delayed-message plugin (rabbitmq-delayed-message-exchange, v3.10
// series), which the bundled broker has built in. The reference RabbitMQ runs without that plugin, so these
// cannot be compared side by side: each scenario is marked `differsFromRabbitmq`, and its check asserts
// RabbitMQ's refusal of the unknown exchange type there (503 COMMAND_INVALID, observed live on 3.10.8) and
// the plugin's behaviour on the bundled broker, as its source has it:
//   rabbit_exchange_type_delayed_message.erl  validate/1 (x-delayed-type), route/2 (held = routed nowhere)
//   rabbit_delayed_message_utils.erl          get_delay/1 (x-delay: integers, strings, floats)
//   rabbit_delayed_message.erl                one timer for the earliest due time, route when due
import type { Channel } from 'amqplib';
import { area, attempt, Consumer, Ctx, quiet, Scenario, closeOutcome, boundQueue } from '../harness';

const WHY = 'x-delayed-message is a plugin the reference RabbitMQ does not run';

/** What RabbitMQ without the plugin answers to declaring an x-delayed-message exchange. */
const REFUSED = {
  declare: closeOutcome('connection', 503, 40, 10, "COMMAND_INVALID - unknown exchange type 'x-delayed-message'"),
};

/** Declares an x-delayed-message exchange; on RabbitMQ without the plugin, the refusal. */
async function declareDelayed(
  ch: Channel,
  conn: Parameters<typeof attempt>[1],
  name: string,
  args: Record<string, unknown>,
) {
  return attempt(ch.assertExchange(name, 'x-delayed-message', { durable: false, arguments: args }), conn);
}

/** A scenario whose run starts by declaring the delayed exchange and stops there when it is refused. */
function delayed(name: string, body: (ctx: Ctx) => Promise<unknown>, expected: (o: any) => void): Scenario {
  return {
    name,
    differsFromRabbitmq: WHY,
    compareText: true,
    timeoutMs: 15_000,
    run: body,
    check: (o, target) => (target === 'rabbitmq' ? expect(o).toEqual(REFUSED) : expected(o)),
  };
}

export default area('delayed-message', [
  delayed(
    'x-delayed-message with x-delayed-type direct: held until due, then routed by key in due order',
    async (ctx) => {
      const { conn, ch } = await ctx.openConfirm();
      const x = ctx.name('dx');
      const declare = await declareDelayed(ch, conn, x, { 'x-delayed-type': 'direct' });
      if (declare.kind === 'error') return { declare };
      const q = await boundQueue(ctx, ch, x, 'k');
      const consumer = await Consumer.start(ch, q, { noAck: true });
      const sent = Date.now();
      for (const d of [400, 100, 250, 100]) ch.publish(x, 'k', Buffer.from(`d${d}`), { headers: { 'x-delay': d } });
      ch.publish(x, 'k', Buffer.from('now'), {});
      ch.publish(x, 'other', Buffer.from('unbound'), { headers: { 'x-delay': 50 } });
      await ch.waitForConfirms();
      const got = await consumer.waitFor(5, 5000);
      const elapsed = Date.now() - sent;
      return {
        declare,
        order: got.map((m) => m.content.toString()),
        first: {
          exchange: got[1].fields.exchange,
          routingKey: got[1].fields.routingKey,
          redelivered: got[1].fields.redelivered,
          headers: got[1].properties.headers,
        },
        tookAtLeast400: elapsed >= 400,
      };
    },
    (o) =>
      expect(o).toEqual({
        declare: { kind: 'ok' },
        order: ['now', 'd100', 'd100', 'd250', 'd400'],
        first: { exchange: 'P-dx', routingKey: 'k', redelivered: false, headers: { 'x-delay': 100 } },
        tookAtLeast400: true,
      }),
  ),
  delayed(
    'x-delayed-type missing, not a string, itself or unknown: 406 / 406 / 406 / 503 (plugin validate/1)',
    async (ctx) => {
      const results: unknown[] = [];
      for (const args of [
        {},
        { 'x-delayed-type': 5 },
        { 'x-delayed-type': 'x-delayed-message' },
        { 'x-delayed-type': 'nope' },
      ]) {
        const { conn, ch } = await ctx.open();
        const r = await declareDelayed(ch, conn, ctx.name(`bad${results.length}`), args);
        if (ctx.target === 'rabbitmq' && r.kind === 'error' && r.code === 503 && /x-delayed-message/.test(r.text ?? ''))
          return { declare: r };
        results.push(r);
      }
      return { declare: { kind: 'ok' }, results };
    },
    (o) =>
      expect(o).toMatchObject({
        results: [
          {
            kind: 'error',
            level: 'channel',
            code: 406,
            text: "PRECONDITION_FAILED - Invalid argument, 'x-delayed-type' must be an existing exchange type",
          },
          {
            kind: 'error',
            level: 'channel',
            code: 406,
            text: "PRECONDITION_FAILED - Invalid argument, 'x-delayed-type' must be an existing exchange type",
          },
          {
            kind: 'error',
            level: 'channel',
            code: 406,
            text: "PRECONDITION_FAILED - Invalid argument, 'x-delayed-message' can't be used for 'x-delayed-type'",
          },
          { kind: 'error', level: 'connection', code: 503, text: "COMMAND_INVALID - unknown exchange type 'nope'" },
        ],
      }),
  ),
  delayed(
    'a held message is routed nowhere at publish: mandatory returns it at once (312), confirm ack, delivered when due',
    async (ctx) => {
      const { conn, ch } = await ctx.openConfirm();
      const x = ctx.name('dx');
      const declare = await declareDelayed(ch, conn, x, { 'x-delayed-type': 'fanout' });
      if (declare.kind === 'error') return { declare };
      const q = await boundQueue(ctx, ch, x, '');
      const events: string[] = [];
      ch.on('return', (m) => events.push(`return:${(m.fields as any).replyCode}:${m.content}`));
      ch.publish(x, 'k', Buffer.from('held'), { mandatory: true, headers: { 'x-delay': 100 } }, (err) =>
        events.push(err ? 'nack' : 'ack'),
      );
      ch.publish(x, 'k', Buffer.from('direct'), { mandatory: true }, (err) => events.push(err ? 'nack' : 'ack'));
      await ch.waitForConfirms();
      const consumer = await Consumer.start(ch, q, { noAck: true });
      const got = await consumer.waitFor(2, 5000);
      return { declare, events, delivered: got.map((m) => m.content.toString()) };
    },
    (o) =>
      expect(o).toEqual({
        declare: { kind: 'ok' },
        events: ['return:312:held', 'ack', 'ack'],
        delivered: ['direct', 'held'],
      }),
  ),
  delayed(
    'x-delay values: 0, negative, past 2^32-1, boolean route at once; strings and floats are converted',
    async (ctx) => {
      const { conn, ch } = await ctx.openConfirm();
      const x = ctx.name('dx');
      const declare = await declareDelayed(ch, conn, x, { 'x-delayed-type': 'direct' });
      if (declare.kind === 'error') return { declare };
      const q = await boundQueue(ctx, ch, x, 'k');
      const cases: [string, unknown][] = [
        ['zero', 0],
        ['negative', -1000],
        ['too-large', 4294967296],
        ['boolean', true],
        ['string', '150'],
        ['float', 150.7],
      ];
      for (const [name, value] of cases) ch.publish(x, 'k', Buffer.from(name), { headers: { 'x-delay': value } });
      await ch.waitForConfirms();
      const consumer = await Consumer.start(ch, q, { noAck: true });
      await quiet(50);
      const soon = consumer.messages.map((m) => m.content.toString()).sort();
      const all = await consumer.waitFor(6, 5000);
      return {
        declare,
        soon,
        later: all
          .slice(4)
          .map((m) => m.content.toString())
          .sort(),
      };
    },
    (o) =>
      expect(o).toEqual({
        declare: { kind: 'ok' },
        soon: ['boolean', 'negative', 'too-large', 'zero'],
        later: ['float', 'string'],
      }),
  ),
  delayed(
    'an x-delay string that is not an integer: the plugin crashes routing it, 541 on the connection',
    async (ctx) => {
      const { conn, ch } = await ctx.open();
      const x = ctx.name('dx');
      const declare = await declareDelayed(ch, conn, x, { 'x-delayed-type': 'direct' });
      if (declare.kind === 'error') return { declare };
      const closed = await attempt(async () => {
        ch.publish(x, 'k', Buffer.from('m'), { headers: { 'x-delay': 'soon' } });
        await ch.checkExchange(x);
      }, conn);
      return { declare, closed: { kind: closed.kind, level: (closed as any).level, code: (closed as any).code } };
    },
    (o) => expect(o).toEqual({ declare: { kind: 'ok' }, closed: { kind: 'error', level: 'connection', code: 541 } }),
  ),
  delayed(
    'a held message goes to the alternate exchange at once (routed nowhere), and through the bindings when due',
    async (ctx) => {
      const { conn, ch } = await ctx.openConfirm();
      const ae = ctx.name('ae');
      await ch.assertExchange(ae, 'fanout', { durable: false });
      const x = ctx.name('dx');
      const declare = await declareDelayed(ch, conn, x, { 'x-delayed-type': 'direct', 'alternate-exchange': ae });
      if (declare.kind === 'error') return { declare };
      const aeq = ctx.name('aeq');
      await ch.assertQueue(aeq, { durable: false });
      const q = await boundQueue(ctx, ch, x, 'k');
      await ch.bindQueue(aeq, ae, '');
      ch.publish(x, 'k', Buffer.from('held'), { headers: { 'x-delay': 100 } });
      await ch.waitForConfirms();
      const inAe = await ch.get(aeq, { noAck: true });
      const consumer = await Consumer.start(ch, q, { noAck: true });
      const got = await consumer.waitFor(1, 5000);
      return { declare, inAe: inAe && inAe.content.toString(), delivered: got.map((m) => m.content.toString()) };
    },
    (o) => expect(o).toEqual({ declare: { kind: 'ok' }, inAe: 'held', delivered: ['held'] }),
  ),
]);
