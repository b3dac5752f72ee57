import { connect } from 'amqplib';
import { z } from 'zod';
import {
  defineMessage,
  Headers,
  Messaging,
  MessageValidationError,
  parseTraceparent,
  UnroutableError,
  type IncomingMessage,
} from '../src';
import { MessagingHarness } from '../src/testing';
import { cleanup, testBrokers, uniqueName } from './support/brokers';

const Greeting = defineMessage('greeting.sent', z.object({ text: z.string().min(1) }));

describe.each(testBrokers())('publishing ($name)', ({ url }) => {
  let messaging: Messaging;
  let harness: MessagingHarness;
  const exchange = uniqueName('events');
  const commands = uniqueName('commands');
  const queue = uniqueName('publish');

  beforeAll(async () => {
    messaging = new Messaging({
      url,
      serviceName: 'publish-test',
      eventsExchange: exchange,
      commandsExchange: commands,
    });
    harness = new MessagingHarness(messaging);
    await messaging.start();
  });
  afterAll(async () => {
    await messaging.close();
    await cleanup(url, { queues: [queue], exchanges: [exchange, commands] });
  });

  it('publishes persistent JSON with ids, type, timestamp and a traceparent, confirmed by the broker', async () => {
    const conn = await connect(url);
    const ch = await conn.createChannel();
    await ch.assertExchange(exchange, 'topic', { durable: true });
    const { queue: q } = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(q, exchange, 'greeting.#');
    const before = Date.now();
    const sent = await messaging.emit(Greeting, { text: 'hello' });
    const got = await waitForGet(ch, q);
    await conn.close();
    expect(got.properties).toMatchObject({
      deliveryMode: 2,
      contentType: 'application/json',
      messageId: sent.messageId,
      correlationId: sent.messageId,
      type: 'greeting.sent',
      appId: 'publish-test',
    });
    expect(got.properties.timestamp * 1000).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(parseTraceparent(got.properties.headers?.[Headers.traceparent])).toBeDefined();
    expect(JSON.parse(got.content.toString())).toEqual({ text: 'hello' });
    expect(harness.all('published', (p) => p.messageId === sent.messageId)).toHaveLength(1);
  });

  it('rejects an unroutable message with UnroutableError instead of dropping it', async () => {
    await expect(
      messaging.emit(Greeting, { text: 'nobody listens' }, { routingKey: 'nobody.home' }),
    ).rejects.toBeInstanceOf(UnroutableError);
    await expect(messaging.emit(Greeting, { text: 'x' }, { routingKey: 'nobody.home' })).rejects.toThrow(
      /routing key 'nobody.home' was returned: 312 NO_ROUTE/,
    );
  });

  // A consumer's retry copy carries the message's id while the original's publish may still await its confirm (the
  // broker delivers before it confirms a persistent message). A return for the copy must fail the copy, not the
  // original: else the original's publisher hears "unroutable" for a message that was delivered, and the copy's
  // publish succeeds though nobody got it (the consumer then acks the message it failed to move: lost).
  it('gives a return to the publish it belongs to when two in flight share a message id', async () => {
    const conn = await connect(url);
    const ch = await conn.createChannel();
    const { queue: q } = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(q, exchange, 'pair.routed');
    const pairs = 200;
    const outcomes = await Promise.all(
      Array.from({ length: pairs }, async (_, i) => {
        const messageId = `pair-${i}`;
        const [routed, returned] = await Promise.allSettled([
          messaging.publish({ exchange, routingKey: 'pair.routed', messageId, payload: { i } }),
          messaging.publish({ exchange: '', routingKey: uniqueName('no-such-queue'), messageId, payload: { i } }),
        ]);
        return `${routed.status}/${returned.status === 'rejected' && returned.reason instanceof UnroutableError ? 'unroutable' : returned.status}`;
      }),
    );
    await conn.close();
    expect(outcomes.filter((o) => o !== 'fulfilled/unroutable')).toEqual([]);
  });

  it('refuses a payload that breaks its contract before anything is sent', async () => {
    const published = harness.all('published').length;
    await expect(messaging.emit(Greeting, { text: '' })).rejects.toBeInstanceOf(MessageValidationError);
    await expect(messaging.emit(Greeting, { text: 42 } as never)).rejects.toThrow(/invalid greeting.sent: text:/);
    expect(harness.all('published')).toHaveLength(published);
  });

  it('fails clearly when the exchange does not exist, and keeps publishing afterwards', async () => {
    await expect(messaging.publish({ exchange: uniqueName('missing'), routingKey: 'x', payload: {} })).rejects.toThrow(
      /NOT_FOUND - no exchange/,
    );
    await messaging.topology.apply(messaging.connection.model!);
    const conn = await connect(url);
    const ch = await conn.createChannel();
    const { queue: q } = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(q, exchange, 'greeting.sent');
    await messaging.emit(Greeting, { text: 'still here' });
    expect(JSON.parse((await waitForGet(ch, q)).content.toString())).toEqual({ text: 'still here' });
    await conn.close();
  });

  it('waits for the socket to drain when publishing faster than the network takes it, losing nothing', async () => {
    const conn = await connect(url);
    const ch = await conn.createChannel();
    const { queue: q } = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(q, exchange, 'bulk.#');
    // amqplib buffers up to 1024 frames per channel before publish() returns false: go well past that
    const n = 3000;
    const sent = await Promise.all(
      Array.from({ length: n }, (_, i) => messaging.publish({ exchange, routingKey: 'bulk.load', payload: { i } })),
    );
    expect(messaging.counters.backpressureWaits).toBeGreaterThan(0);
    expect(new Set(sent.map((s) => s.messageId)).size).toBe(n);
    const { messageCount } = await ch.checkQueue(q);
    expect(messageCount).toBe(n);
    await conn.close();
  });

  it('propagates trace, causation and correlation from the handled message to what the handler publishes', async () => {
    const Reply = defineMessage('greeting.answered', z.object({ text: z.string() }));
    const seen: IncomingMessage[] = [];
    await messaging.consume({
      queue,
      bindings: [{ pattern: 'greeting.*' }],
      handlers: [
        {
          pattern: 'greeting.sent',
          contract: Greeting,
          handle: (m) =>
            messaging
              .emit(Reply, { text: `re: ${(m.payload as { text: string }).text}` })
              .then(() => void seen.push(m)),
        },
        { pattern: 'greeting.answered', handle: (m) => void seen.push(m) },
      ],
    });
    const first = await messaging.emit(Greeting, { text: 'trace me' }, { correlationId: 'order-42' });
    await harness.waitForCount('acked', 2, { queue });
    const [incoming, reply] = [
      seen.find((m) => m.type === 'greeting.sent')!,
      seen.find((m) => m.type === 'greeting.answered')!,
    ];
    expect(incoming.messageId).toBe(first.messageId);
    expect(reply.correlationId).toBe('order-42');
    expect(reply.causationId).toBe(first.messageId);
    const [a, b] = [parseTraceparent(incoming.traceparent)!, parseTraceparent(reply.traceparent)!];
    expect(b.traceId).toBe(a.traceId);
    expect(b.spanId).not.toBe(a.spanId);
  });
});

async function waitForGet(ch: import('amqplib').Channel, q: string) {
  for (let i = 0; i < 200; i++) {
    const m = await ch.get(q, { noAck: true });
    if (m) return m;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`nothing arrived in ${q}`);
}
