import { area, attempt, captureError, Consumer, quiet, closeOutcome } from '../harness';

const REPLY_TO = 'amq.rabbitmq.reply-to';

export default area('direct-reply-to', [
  {
    name: 'RPC round trip: reply-to is rewritten to a routable name; the reply reaches the requester',
    run: async (ctx) => {
      const server = await ctx.channel();
      const q = ctx.name('rpc');
      await server.assertQueue(q, { durable: false });
      const requests = await Consumer.start(server, q, { noAck: true }, (m) => {
        server.sendToQueue(m.properties.replyTo, Buffer.from(`re:${m.content.toString()}`), {
          correlationId: m.properties.correlationId,
        });
      });
      const client = await ctx.channel();
      const replies = await Consumer.start(client, REPLY_TO, { noAck: true });
      client.sendToQueue(q, Buffer.from('ping'), { replyTo: REPLY_TO, correlationId: 'c1' });
      const [reply] = await replies.waitFor(1);
      const [req] = requests.messages;
      return {
        requestReplyTo: req.properties.replyTo,
        rewritten: req.properties.replyTo.startsWith(`${REPLY_TO}.`),
        reply: {
          body: reply.content.toString(),
          exchange: reply.fields.exchange,
          routingKey: reply.fields.routingKey,
          correlationId: reply.properties.correlationId,
          consumerTag: reply.fields.consumerTag === replies.tag,
        },
      };
    },
    check: (o) =>
      expect(o).toEqual({
        requestReplyTo: 'amq.rabbitmq.reply-to.*',
        rewritten: true,
        reply: {
          body: 're:ping',
          exchange: '',
          routingKey: 'amq.rabbitmq.reply-to.*',
          correlationId: 'c1',
          consumerTag: true,
        },
      }),
  },
  {
    name: 'consuming amq.rabbitmq.reply-to without no-ack: 406',
    compareText: true,
    run: async (ctx) => {
      const { conn, ch } = await ctx.open();
      return attempt(
        ch.consume(REPLY_TO, () => undefined, { noAck: false }),
        conn,
      );
    },
    check: (o) =>
      expect(o).toEqual(
        closeOutcome('channel', 406, 60, 20, 'PRECONDITION_FAILED - reply consumer cannot acknowledge'),
      ),
  },
  {
    name: 'publishing with reply-to amq.rabbitmq.reply-to without consuming it first: 406',
    compareText: true,
    run: async (ctx) => {
      const { conn, ch } = await ctx.open();
      const q = ctx.name();
      await ch.assertQueue(q, { durable: false });
      ch.sendToQueue(q, Buffer.from('m'), { replyTo: REPLY_TO });
      return attempt(ch.checkQueue(q), conn);
    },
    check: (o) =>
      expect(o).toEqual(
        closeOutcome('channel', 406, 60, 40, 'PRECONDITION_FAILED - fast reply consumer does not exist'),
      ),
  },
  {
    name: 'a second reply-to consumer on the same channel: 406',
    run: async (ctx) => {
      const { conn, ch } = await ctx.open();
      await ch.consume(REPLY_TO, () => undefined, { noAck: true });
      return attempt(
        ch.consume(REPLY_TO, () => undefined, { noAck: true }),
        conn,
      );
    },
    compareText: true,
    check: (o) =>
      expect(o).toEqual(closeOutcome('channel', 406, 60, 20, 'PRECONDITION_FAILED - reply consumer already set')),
  },
  {
    name: 'passive declare of amq.rabbitmq.reply-to succeeds and reports consumer_count 1 (with or without a reply consumer)',
    run: async (ctx) => {
      const { conn, ch } = await ctx.open();
      const before = await captureError(ch.checkQueue(REPLY_TO), conn);
      await ch.consume(REPLY_TO, () => undefined, { noAck: true });
      const after = await captureError(ch.checkQueue(REPLY_TO), conn);
      return { before, after };
    },
    check: (o) =>
      expect(o).toEqual({
        before: { kind: 'ok', value: { queue: REPLY_TO, messageCount: 0, consumerCount: 1 } },
        after: { kind: 'ok', value: { queue: REPLY_TO, messageCount: 0, consumerCount: 1 } },
      }),
  },
  {
    name: 'replies to a stale reply-to name are dropped; mandatory returns 312',
    run: async (ctx) => {
      const { ch } = await ctx.openConfirm();
      const client = await ctx.channel();
      const replies = await Consumer.start(client, REPLY_TO, { noAck: true });
      const q = ctx.name();
      await ch.assertQueue(q, { durable: false });
      client.sendToQueue(q, Buffer.from('req'), { replyTo: REPLY_TO });
      let req: any = false;
      while (!req) req = await ch.get(q, { noAck: true });
      const replyTo = req.properties.replyTo;
      await client.close();
      const events: string[] = [];
      ch.on('return', (m) => events.push(`return:${(m.fields as any).replyCode}`));
      ch.sendToQueue(replyTo, Buffer.from('late'), { mandatory: true }, (err) => events.push(err ? 'nack' : 'ack'));
      await ch.waitForConfirms();
      await quiet(50);
      return { events, delivered: replies.messages.length };
    },
    check: (o) => expect(o).toEqual({ events: ['return:312', 'ack'], delivered: 0 }),
  },
  {
    name: 'cancelling the reply-to consumer: further publishes with that reply-to fail',
    run: async (ctx) => {
      const { conn, ch } = await ctx.open();
      const q = ctx.name();
      await ch.assertQueue(q, { durable: false });
      const c = await Consumer.start(ch, REPLY_TO, { noAck: true });
      await c.cancel();
      ch.sendToQueue(q, Buffer.from('m'), { replyTo: REPLY_TO });
      return attempt(ch.checkQueue(q), conn);
    },
    check: (o) => expect(o).toMatchObject({ kind: 'error', level: 'channel', code: 406, classId: 60, methodId: 40 }),
  },
]);
