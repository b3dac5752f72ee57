import { randomUUID } from 'node:crypto';
import { context, metrics, propagation, SpanKind, SpanStatusCode, trace, type Attributes } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { DataPointType, MeterProvider, MetricReader, type MetricData } from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { connect } from 'amqplib';
import { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import {
  currentScope,
  Headers,
  Messaging,
  NonRetryableError,
  parseTraceparent,
  retryQueueName,
  UnroutableError,
  type IncomingMessage,
  type MessageHandler,
} from '../src';
import { MessagingHarness } from '../src/testing';
import { RedisInbox, runInTransaction, TypeOrmInbox } from '../src/inbox';
import { Outbox, OutboxRelay } from '../src/outbox';
import { cleanup, eventually, testBrokers, uniqueName } from './support/brokers';
import { SideEffect, TestDatabase, testDatabases } from './support/databases';
import { startTestRedis, type TestRedis } from '../../../tools/testing/redis';

// The SDK pieces a service registers, in memory: each jest file has globals of its own, so the other suites run
// with no SDK (tracing off) and this one with everything on.
const exporter = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

/** A reader the test collects from when it wants the numbers (cumulative, so counts add up over the file). */
class CollectingReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}
const reader = new CollectingReader();
const meterProvider = new MeterProvider({ readers: [reader] });
const contextManager = new AsyncLocalStorageContextManager();

beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(tracerProvider);
  metrics.setGlobalMeterProvider(meterProvider);
});
afterAll(async () => {
  await meterProvider.shutdown();
  await tracerProvider.shutdown();
  trace.disable();
  metrics.disable();
  propagation.disable();
  context.disable();
});

const FAST_RETRY = { maxAttempts: 3, initialDelayMs: 20, multiplier: 2, maxDelayMs: 100 };

/** Every data point of the metric `name` whose attributes include `attrs`. */
async function points(name: string, attrs: Attributes): Promise<Array<{ attributes: Attributes; value: unknown }>> {
  const { resourceMetrics, errors } = await reader.collect();
  expect(errors).toEqual([]);
  const found: MetricData[] = resourceMetrics.scopeMetrics
    .filter((s) => s.scope.name === '@warren/messaging')
    .flatMap((s) => s.metrics.filter((m) => m.descriptor.name === name));
  return found
    .flatMap((m) => m.dataPoints as Array<{ attributes: Attributes; value: unknown }>)
    .filter((p) => Object.entries(attrs).every(([k, v]) => p.attributes[k] === v));
}

/** The sum of a counter's points (or a histogram's counts) that match `attrs`. */
async function total(name: string, attrs: Attributes): Promise<number> {
  return (await points(name, attrs)).reduce(
    (sum, p) => sum + (typeof p.value === 'number' ? p.value : (p.value as { count: number }).count),
    0,
  );
}

/** The last value of a gauge (undefined when it reported none). */
async function gauge(name: string): Promise<number | undefined> {
  const { resourceMetrics } = await reader.collect();
  for (const s of resourceMetrics.scopeMetrics) {
    for (const m of s.metrics)
      if (m.descriptor.name === name && m.dataPointType === DataPointType.GAUGE)
        return m.dataPoints.at(-1)?.value as number | undefined;
  }
  return undefined;
}

const finished = (test: (s: ReadableSpan) => boolean) => exporter.getFinishedSpans().filter(test);
const one = (what: string, test: (s: ReadableSpan) => boolean) =>
  eventually(what, () => {
    const found = finished(test);
    if (found.length > 1) throw new Error(`${found.length} spans for ${what}`);
    return found[0];
  });
/** The one send (producer) or process (consumer) span of a message, by its id. */
const producerOf = (what: string, messageId: string) =>
  one(what, (s) => s.attributes['messaging.message.id'] === messageId && s.kind === SpanKind.PRODUCER);
const consumerOf = (what: string, messageId: string) =>
  one(what, (s) => s.attributes['messaging.message.id'] === messageId && s.kind === SpanKind.CONSUMER);
const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;
const idOf = (s: ReadableSpan) => s.spanContext().spanId;
const traceOf = (s: ReadableSpan) => s.spanContext().traceId;
const tracer = trace.getTracer('test');

describe.each(testBrokers())('tracing and metrics on $name', ({ url }) => {
  const events = uniqueName('events');
  const commands = uniqueName('commands');
  const queues: string[] = [];
  let instances: Messaging[] = [];

  function newQueue(purpose: string): string {
    const q = uniqueName(purpose);
    queues.push(q);
    return q;
  }

  async function instance(
    queue?: string,
    handlers: MessageHandler[] = [],
    opts: { rpc?: boolean; deliveryLimit?: number; delayedMessages?: 'ttl-queues' } = {},
  ) {
    const { rpc = false, deliveryLimit, delayedMessages } = opts;
    const messaging = new Messaging({
      url,
      serviceName: 'telemetry-test',
      eventsExchange: events,
      commandsExchange: commands,
      retry: FAST_RETRY,
      publishTimeoutMs: 2_000,
      deliveryLimit,
      delayedMessages,
    });
    instances.push(messaging);
    const harness = new MessagingHarness(messaging);
    if (queue)
      await messaging.consume({
        queue,
        bindings: [{ exchange: rpc ? commands : events, pattern: queue }],
        handlers,
        rpc,
      });
    await messaging.start();
    return { messaging, harness };
  }

  afterEach(async () => {
    await Promise.all(instances.map((m) => m.close()));
    instances = [];
  });
  afterAll(() => cleanup(url, { queues, exchanges: [events, commands] }));

  it('publish then consume: a producer span and its child consumer span, one trace, the conventions attributes, the handler inside', async () => {
    const queue = newQueue('trace-basic');
    const inside: Array<{ spanId?: string; scopeSpanId?: string; scopeTraceId?: string }> = [];
    const { messaging, harness } = await instance(queue, [
      {
        pattern: 'order.placed',
        handle: () =>
          void inside.push({
            spanId: trace.getActiveSpan()?.spanContext().spanId,
            scopeSpanId: currentScope()?.spanId,
            scopeTraceId: currentScope()?.traceId,
          }),
      },
    ]);
    const sent = await messaging.publish({
      exchange: events,
      routingKey: queue,
      type: 'order.placed',
      payload: { n: 1 },
      correlationId: 'order-1',
    });
    await harness.acked({ queue });
    const producer = await producerOf('the send span', sent.messageId);
    const consumer = await consumerOf('the process span', sent.messageId);

    expect(producer.name).toBe(`send ${events}`);
    expect(producer.instrumentationScope.name).toBe('@warren/messaging');
    expect(producer.attributes).toEqual({
      'messaging.system': 'rabbitmq',
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'send',
      'messaging.destination.name': events,
      'messaging.rabbitmq.destination.routing_key': queue,
      'messaging.message.id': sent.messageId,
      'messaging.message.conversation_id': 'order-1',
      'warren.message.type': 'order.placed',
    });
    expect(producer.status.code).toBe(SpanStatusCode.UNSET);
    expect(parentOf(producer)).toBeUndefined(); // nothing was active: a new trace
    // the message carries the producer span's context
    expect(parseTraceparent(sent.traceparent)).toEqual({
      traceId: traceOf(producer),
      spanId: idOf(producer),
      flags: '01',
    });

    expect(consumer.name).toBe(`process ${queue}`);
    expect(traceOf(consumer)).toBe(traceOf(producer));
    expect(parentOf(consumer)).toBe(idOf(producer));
    expect(consumer.attributes).toMatchObject({
      'messaging.system': 'rabbitmq',
      'messaging.operation.type': 'process',
      'messaging.destination.name': queue,
      'messaging.rabbitmq.destination.routing_key': queue,
      'messaging.message.id': sent.messageId,
      'messaging.message.conversation_id': 'order-1',
      'warren.message.type': 'order.placed',
      'warren.outcome': 'ok',
    });
    // the handler ran in the consumer span, and its MessageScope (what logs and hand-made ids use) agrees
    expect(inside).toEqual([{ spanId: idOf(consumer), scopeSpanId: idOf(consumer), scopeTraceId: traceOf(consumer) }]);

    expect(
      await total('messaging.client.sent.messages', {
        'messaging.destination.name': events,
        'warren.message.type': 'order.placed',
        'messaging.system': 'rabbitmq',
      }),
    ).toBe(1);
    expect(
      await total('messaging.client.consumed.messages', {
        'messaging.destination.name': queue,
        'warren.message.type': 'order.placed',
      }),
    ).toBe(1);
    const durations = await points('messaging.process.duration', { 'messaging.destination.name': queue });
    expect(durations).toHaveLength(1);
    expect(durations[0].attributes['error.type']).toBeUndefined();
    expect((durations[0].value as { count: number }).count).toBe(1);
  });

  it('an active span (an HTTP request) is the parent of the send span, and what a handler publishes is a child of its process span', async () => {
    const queue = newQueue('trace-chain');
    const { messaging, harness } = await instance(queue, [
      {
        pattern: `${queue}.first`,
        handle: (m) =>
          messaging.publish({
            exchange: events,
            routingKey: queue,
            type: `${queue}.second`,
            payload: { after: m.messageId },
          }),
      },
      { pattern: `${queue}.second`, handle: () => undefined },
    ]);
    const sent = await tracer.startActiveSpan('POST /orders', { kind: SpanKind.SERVER }, async (http) => {
      try {
        return await messaging.publish({ exchange: events, routingKey: queue, type: `${queue}.first`, payload: {} });
      } finally {
        http.end();
      }
    });
    await harness.waitForCount('acked', 2, { queue });
    const http = await one(
      'the HTTP span',
      (s) => s.name === 'POST /orders' && parseTraceparent(sent.traceparent)?.traceId === traceOf(s),
    );
    const send1 = await producerOf('the first send', sent.messageId);
    const process1 = await consumerOf('the first process', sent.messageId);
    const send2 = await one(
      'the second send',
      (s) => s.attributes['warren.message.type'] === `${queue}.second` && s.kind === SpanKind.PRODUCER,
    );
    const process2 = await one(
      'the second process',
      (s) => s.attributes['warren.message.type'] === `${queue}.second` && s.kind === SpanKind.CONSUMER,
    );
    expect(parentOf(send1)).toBe(idOf(http));
    expect(parentOf(process1)).toBe(idOf(send1));
    expect(parentOf(send2)).toBe(idOf(process1));
    expect(parentOf(process2)).toBe(idOf(send2));
    for (const s of [send1, process1, send2, process2]) expect(traceOf(s)).toBe(traceOf(http));
  });

  it('a handler that throws: an ERROR process span with the exception, retried then ok; failed, retried and duration move', async () => {
    const queue = newQueue('trace-retry');
    let calls = 0;
    const { messaging, harness } = await instance(queue, [
      {
        pattern: queue,
        handle: () => {
          if (++calls === 1) throw new TypeError('flaky dependency');
        },
      },
    ]);
    const sent = await messaging.publish({ exchange: events, routingKey: queue, payload: {} });
    await harness.acked({ queue });
    const processes = await eventually('two process spans', () => {
      const found = finished(
        (s) => s.attributes['messaging.message.id'] === sent.messageId && s.kind === SpanKind.CONSUMER,
      );
      return found.length === 2
        ? found.sort(
            (a, b) => Number(a.attributes['warren.message.attempt']) - Number(b.attributes['warren.message.attempt']),
          )
        : undefined;
    });
    const [failed, ok] = processes;
    expect(failed.status).toEqual({ code: SpanStatusCode.ERROR, message: 'flaky dependency' });
    expect(failed.attributes).toMatchObject({
      'warren.outcome': 'retried',
      'error.type': 'TypeError',
      'warren.message.attempt': 1,
    });
    expect(failed.events.map((e) => e.name)).toEqual(['exception', 'retried']);
    expect(failed.events[0].attributes).toMatchObject({
      'exception.type': 'TypeError',
      'exception.message': 'flaky dependency',
    });
    expect(ok.status.code).toBe(SpanStatusCode.UNSET);
    expect(ok.attributes).toMatchObject({ 'warren.outcome': 'ok', 'warren.message.attempt': 2 });
    // both attempts continue the producer's trace, as children of its span
    const producer = await producerOf('the send span', sent.messageId);
    expect(processes.map(parentOf)).toEqual([idOf(producer), idOf(producer)]);
    // the retry's copy is not a publish of the application's: no span, not counted as sent
    expect(
      finished((s) => s.kind === SpanKind.PRODUCER && s.attributes['messaging.message.id'] === sent.messageId),
    ).toHaveLength(1);
    expect(await total('messaging.client.sent.messages', { 'warren.message.type': queue })).toBe(1);

    const attrs = { 'messaging.destination.name': queue, 'warren.message.type': queue };
    expect(await total('messaging.client.consumed.messages', attrs)).toBe(2);
    expect(await total('warren.messaging.failed.messages', attrs)).toBe(1);
    expect(await total('warren.messaging.retried.messages', attrs)).toBe(1);
    expect(await total('warren.messaging.dead_lettered.messages', attrs)).toBe(0);
    expect(await total('messaging.process.duration', { ...attrs, 'error.type': 'TypeError' })).toBe(1);
    expect(await total('messaging.process.duration', attrs)).toBe(2);
  });

  it('a message parked in the DLQ: dead_lettered counted with its reason, the span says so', async () => {
    const queue = newQueue('trace-dlq');
    const { messaging, harness } = await instance(queue, [
      {
        pattern: queue,
        handle: () => {
          throw new NonRetryableError('card declined');
        },
      },
    ]);
    const sent = await messaging.publish({ exchange: events, routingKey: queue, payload: {} });
    await harness.deadLettered({ queue });
    const span = await consumerOf('the process span', sent.messageId);
    expect(span.attributes).toMatchObject({ 'warren.outcome': 'dead-lettered', 'error.type': 'NonRetryableError' });
    expect(span.events.map((e) => [e.name, e.attributes?.['warren.failure.reason']])).toEqual([
      ['exception', undefined],
      ['dead-lettered', 'non-retryable'],
    ]);
    const attrs = { 'messaging.destination.name': queue, 'warren.message.type': queue };
    expect(
      await total('warren.messaging.dead_lettered.messages', { ...attrs, 'warren.failure.reason': 'non-retryable' }),
    ).toBe(1);
    expect(await total('warren.messaging.failed.messages', attrs)).toBe(1);
    expect(await total('warren.messaging.retried.messages', attrs)).toBe(0);
  });

  it('a message past the delivery limit on a classic queue: dead_lettered with reason delivery_limit, not consumed, no process span', async () => {
    const queue = newQueue('trace-poison');
    const handled: string[] = [];
    const handlers: MessageHandler[] = [{ pattern: queue, handle: (m) => void handled.push(m.messageId) }];
    const first = await instance(queue, handlers, { deliveryLimit: 1 });
    await first.messaging.close(); // the queue stays, with nobody on it
    // a message whose earlier delivery already ended without a settle once, delivered again without a settle
    const { messaging: publisher } = await instance();
    const sent = await publisher.publish({
      exchange: events,
      routingKey: queue,
      payload: {},
      headers: { [Headers.unsettledDeliveries]: 1 },
    });
    const conn = await connect(url);
    try {
      const ch = await conn.createChannel();
      await eventually('the message in the queue', async () => (await ch.get(queue, { noAck: false })) || undefined);
      await ch.close(); // unsettled: the broker redelivers it, flagged
    } finally {
      await conn.close();
    }
    const { harness } = await instance(queue, handlers, { deliveryLimit: 1 });
    await harness.deadLettered({ queue, messageId: sent.messageId });
    expect(handled).toEqual([]);
    expect(
      await total('warren.messaging.dead_lettered.messages', {
        'messaging.destination.name': queue,
        'warren.message.type': queue,
        'warren.failure.reason': 'delivery_limit',
      }),
    ).toBe(1);
    expect(await total('messaging.client.consumed.messages', { 'messaging.destination.name': queue })).toBe(0);
    expect(
      finished((s) => s.kind === SpanKind.CONSUMER && s.attributes['messaging.message.id'] === sent.messageId),
    ).toEqual([]);
  });

  it('a failed message that cannot be moved (its retry queue deleted): an ERROR span with outcome requeued, then handled', async () => {
    const queue = newQueue('trace-requeue');
    let calls = 0;
    const { messaging, harness } = await instance(
      queue,
      [
        {
          pattern: queue,
          handle: () => {
            if (++calls === 1) throw new Error('first try fails');
          },
        },
      ],
      { delayedMessages: 'ttl-queues' },
    );
    const conn = await connect(url);
    try {
      const ch = await conn.createChannel();
      await ch.deleteQueue(retryQueueName(queue, 1));
      await ch.close();
    } finally {
      await conn.close();
    }
    // (this publish once failed 312 NO_ROUTE on RabbitMQ: the return of the consumer's retry copy, which carries the
    // same message id, was taken for its own; publish.spec.ts has the regression test)
    const sent = await messaging.publish({ exchange: events, routingKey: queue, payload: {} });
    await harness.acked({ queue, messageId: sent.messageId });
    const onQueue = () =>
      finished((s) => s.kind === SpanKind.CONSUMER && s.attributes['messaging.destination.name'] === queue);
    const spans = await eventually('two process spans', () => {
      const found = onQueue().filter((s) => s.attributes['messaging.message.id'] === sent.messageId);
      return found.length === 2
        ? found.sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1])
        : undefined;
    }).catch((err: Error) => {
      // what was seen instead, to tell a lost span from a message handled another way
      const seen = onQueue().map(
        (s) => `${String(s.attributes['messaging.message.id'])}: ${String(s.attributes['warren.outcome'])}`,
      );
      throw new Error(
        `${err.message}; sent ${sent.messageId}, handler called ${calls} times; process spans on the queue: ${seen.join(', ') || 'none'}`,
      );
    });
    expect(spans.map((s) => [s.attributes['warren.outcome'], s.status.code])).toEqual([
      ['requeued', SpanStatusCode.ERROR],
      ['ok', SpanStatusCode.UNSET],
    ]);
    const attrs = { 'messaging.destination.name': queue, 'warren.message.type': queue };
    expect(await total('warren.messaging.failed.messages', attrs)).toBe(1);
    expect(await total('warren.messaging.retried.messages', attrs)).toBe(0);
    expect(await total('messaging.client.consumed.messages', attrs)).toBe(2);
  });

  it('a publish the broker refuses: an ERROR send span and a sent count with error.type', async () => {
    const { messaging } = await instance();
    const routingKey = uniqueName('nobody-listens');
    await expect(messaging.publish({ exchange: events, routingKey, payload: {} })).rejects.toBeInstanceOf(
      UnroutableError,
    );
    const span = await one(
      'the failed send',
      (s) => s.attributes['messaging.rabbitmq.destination.routing_key'] === routingKey,
    );
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes['error.type']).toBe('UnroutableError');
    expect(span.events.map((e) => e.name)).toEqual(['exception']);
    expect(
      await total('messaging.client.sent.messages', {
        'warren.message.type': routingKey,
        'error.type': 'UnroutableError',
      }),
    ).toBe(1);
    expect(await total('messaging.client.sent.messages', { 'warren.message.type': routingKey })).toBe(1);
  });

  it('a delayed publish: a send span until the broker holds it, the process span its child; a route that cannot be made is an ERROR send', async () => {
    const queue = newQueue('trace-delayed');
    const { messaging, harness } = await instance(queue, [{ pattern: queue, handle: () => undefined }]);
    const sent = await messaging.publish({ exchange: events, routingKey: queue, payload: {}, delay: 30 });
    await harness.acked({ queue });
    const send = await producerOf('the delayed send', sent.messageId);
    const processed = await consumerOf('its process span', sent.messageId);
    expect(send.name).toBe(`send ${events}`);
    expect(parentOf(processed)).toBe(idOf(send));

    const missing = uniqueName('missing-exchange');
    await expect(
      messaging.publish({ exchange: missing, routingKey: 'k', payload: {}, delay: 30 }),
    ).rejects.toMatchObject({ code: 'CHANNEL_ERROR' });
    const failed = await one('the failed delayed send', (s) => s.name === `send ${missing}`);
    expect(failed.status.code).toBe(SpanStatusCode.ERROR);
    expect(failed.attributes['error.type']).toBe('MessagingError');
    expect(
      await total('messaging.client.sent.messages', {
        'messaging.destination.name': missing,
        'error.type': 'MessagingError',
      }),
    ).toBe(1);
  });

  it('RPC: the request is a producer span, the handler a consumer span under it, the reply a send under that; the caller stays in its trace', async () => {
    const queue = newQueue('trace-rpc');
    await instance(
      queue,
      [{ pattern: queue, handle: (m: IncomingMessage<{ a: number }>) => ({ doubled: m.payload.a * 2 }) }],
      { rpc: true },
    );
    const { messaging: caller } = await instance();
    const { result, callerTrace, afterAwait } = await tracer.startActiveSpan('GET /quote', async (http) => {
      const r = await caller.request<{ doubled: number }>(queue, { a: 21 }, { exchange: commands });
      const after = trace.getActiveSpan()?.spanContext().spanId;
      http.end();
      return { result: r, callerTrace: http.spanContext(), afterAwait: after };
    });
    expect(result).toEqual({ doubled: 42 });
    expect(afterAwait).toBe(callerTrace.spanId);
    const request = await one(
      'the request span',
      (s) => s.name === `send ${commands}` && traceOf(s) === callerTrace.traceId,
    );
    const handler = await one('the handler span', (s) => s.name === `process ${queue}`);
    const reply = await one(
      'the reply span',
      (s) => s.name === 'send amq.default' && traceOf(s) === callerTrace.traceId,
    );
    expect(parentOf(request)).toBe(callerTrace.spanId);
    expect(request.kind).toBe(SpanKind.PRODUCER);
    expect(parentOf(handler)).toBe(idOf(request));
    expect(traceOf(handler)).toBe(callerTrace.traceId);
    expect(parentOf(reply)).toBe(idOf(handler));
    expect(reply.attributes['warren.message.type']).toBe(`${queue}.reply`);
    expect(
      await total('messaging.client.sent.messages', {
        'messaging.destination.name': commands,
        'warren.message.type': queue,
      }),
    ).toBe(1);
    expect(
      await total('messaging.client.sent.messages', {
        'messaging.destination.name': 'amq.default',
        'warren.message.type': `${queue}.reply`,
      }),
    ).toBe(1);
  });

  it('an RPC that fails: the request span ends with the error', async () => {
    const queue = newQueue('trace-rpc-fail');
    await instance(queue, [{ pattern: queue, handle: () => Promise.reject(new Error('no stock')) }], { rpc: true });
    const { messaging: caller } = await instance();
    await expect(caller.request(queue, {}, { exchange: commands })).rejects.toThrow('no stock');
    const request = await one(
      'the request span',
      (s) => s.name === `send ${commands}` && s.attributes['warren.message.type'] === queue,
    );
    expect(request.status.code).toBe(SpanStatusCode.ERROR);
    expect(request.attributes['error.type']).toBe('RpcRemoteError');
    const handler = await one('the handler span', (s) => s.name === `process ${queue}`);
    expect(handler.attributes['warren.outcome']).toBe('rpc-error');
    expect(await total('warren.messaging.failed.messages', { 'messaging.destination.name': queue })).toBe(1);
  });

  describe.each(testDatabases())('outbox and inbox with $name', (kind) => {
    let database: TestDatabase;
    let ds: DataSource;
    beforeAll(async () => {
      database = await TestDatabase.create(kind);
      ds = await database.open();
    });
    afterAll(() => database?.drop());

    it('outbox: the row carries the writer span, the relay send is its child with a link, the process span is under the send; backlog to 0', async () => {
      const queue = newQueue('trace-outbox');
      const received: IncomingMessage[] = [];
      const { harness } = await instance(queue, [{ pattern: 'order.placed', handle: (m) => void received.push(m) }]);
      // the relay's Messaging is not started yet: the rows wait, and the gauges show them
      const relayMessaging = new Messaging({
        url,
        serviceName: 'telemetry-relay',
        eventsExchange: events,
        commandsExchange: commands,
      });
      instances.push(relayMessaging);
      const relay = new OutboxRelay(ds, relayMessaging, {
        pollIntervalMs: 50,
        leaseMs: 1_000,
        leaseName: uniqueName('lease'),
        backoff: { initialDelayMs: 30, maxDelayMs: 100 },
      });
      try {
        relay.start();
        const rows = await tracer.startActiveSpan('POST /orders', async (http) => {
          try {
            return await runInTransaction(ds, async (manager) => [
              await Outbox.add(manager, {
                exchange: events,
                routingKey: queue,
                type: 'order.placed',
                payload: { n: 1 },
                correlationId: 'order-9',
              }),
              await Outbox.add(manager, {
                exchange: events,
                routingKey: queue,
                type: 'order.placed',
                payload: { n: 2 },
                correlationId: 'order-9',
              }),
            ]);
          } finally {
            http.end();
          }
        });
        expect(await gauge('warren.outbox.backlog')).toBe(2);
        expect(
          await eventually('an oldest age above 0', async () =>
            (await gauge('warren.outbox.oldest_age'))! > 0 ? true : undefined,
          ),
        ).toBe(true);
        await relayMessaging.start();
        await harness.waitForCount('acked', 2, { queue });
        await eventually('the backlog at 0', async () =>
          (await gauge('warren.outbox.backlog')) === 0 ? true : undefined,
        );
        expect(await gauge('warren.outbox.oldest_age')).toBe(0);

        const http = await one(
          'the writer span',
          (s) =>
            s.name === 'POST /orders' &&
            s.spanContext().traceId === parseTraceparent(JSON.parse(rows[0].headers)[Headers.traceparent])?.traceId,
        );
        // no span of its own for the write: the row names the span that wrote it
        expect(
          exporter.getFinishedSpans().filter((s) => s.name === `create ${events}` && traceOf(s) === traceOf(http)),
        ).toEqual([]);
        for (const row of rows) {
          const send = await one(
            'the relay send span',
            (s) => s.name === `send ${events}` && s.attributes['messaging.message.id'] === row.messageId,
          );
          const processed = await one(
            'the process span',
            (s) => s.name === `process ${queue}` && s.attributes['messaging.message.id'] === row.messageId,
          );
          expect(parseTraceparent(JSON.parse(row.headers)[Headers.traceparent])?.spanId).toBe(idOf(http));
          expect(send.kind).toBe(SpanKind.PRODUCER);
          expect(send.attributes).toMatchObject({
            'messaging.operation.type': 'send',
            'messaging.destination.name': events,
            'messaging.message.conversation_id': 'order-9',
            'warren.message.type': 'order.placed',
          });
          expect(parentOf(send)).toBe(idOf(http));
          expect(send.links).toEqual([
            {
              context: expect.objectContaining({ traceId: traceOf(http), spanId: idOf(http) }),
              attributes: { 'warren.link': 'outbox-row' },
            },
          ]);
          expect(parentOf(processed)).toBe(idOf(send));
          for (const s of [send, processed]) expect(traceOf(s)).toBe(traceOf(http));
          // the message carries the send span's context, not the row's
          expect(parseTraceparent(received.find((m) => m.messageId === row.messageId)?.traceparent)?.spanId).toBe(
            idOf(send),
          );
        }
        // idle rounds record nothing
        const before = exporter.getFinishedSpans().length;
        expect(await relay.flush(2_000)).toBe(true);
        expect(exporter.getFinishedSpans().length).toBe(before);
      } finally {
        await relay.stop(1_000);
      }
      // stopped: no longer measured (the reader keeps the last value; a new row does not show)
      await runInTransaction(ds, (manager) =>
        Outbox.add(manager, { exchange: events, routingKey: queue, payload: { n: 3 } }),
      );
      expect(await gauge('warren.outbox.backlog')).toBe(0);
    });

    it('outbox: a write outside any span gets a create span of its own, a root, under which the relay sends', async () => {
      const queue = newQueue('trace-outbox-root');
      const { harness } = await instance(queue, [{ pattern: 'order.placed', handle: () => undefined }]);
      const relayMessaging = new Messaging({
        url,
        serviceName: 'telemetry-relay',
        eventsExchange: events,
        commandsExchange: commands,
      });
      instances.push(relayMessaging);
      await relayMessaging.start();
      const relay = new OutboxRelay(ds, relayMessaging, {
        pollIntervalMs: 50,
        leaseMs: 1_000,
        leaseName: uniqueName('lease'),
      });
      try {
        const row = await runInTransaction(ds, (manager) =>
          Outbox.add(manager, {
            exchange: events,
            routingKey: queue,
            type: 'order.placed',
            payload: { n: 1 },
            correlationId: 'order-10',
          }),
        );
        relay.start();
        await harness.waitForCount('acked', 1, { queue });
        const create = await one(
          'the create span',
          (s) => s.name === `create ${events}` && s.attributes['messaging.message.id'] === row.messageId,
        );
        const send = await one(
          'the relay send span',
          (s) => s.name === `send ${events}` && s.attributes['messaging.message.id'] === row.messageId,
        );
        const processed = await one(
          'the process span',
          (s) => s.name === `process ${queue}` && s.attributes['messaging.message.id'] === row.messageId,
        );
        expect(create.kind).toBe(SpanKind.PRODUCER);
        expect(create.attributes).toMatchObject({
          'messaging.operation.type': 'create',
          'messaging.destination.name': events,
          'messaging.message.conversation_id': 'order-10',
          'warren.message.type': 'order.placed',
        });
        expect(parentOf(create)).toBeUndefined();
        expect(parseTraceparent(JSON.parse(row.headers)[Headers.traceparent])?.spanId).toBe(idOf(create));
        expect(parentOf(send)).toBe(idOf(create));
        expect(send.links).toEqual([
          { context: expect.objectContaining({ spanId: idOf(create) }), attributes: { 'warren.link': 'outbox-row' } },
        ]);
        expect(parentOf(processed)).toBe(idOf(send));
      } finally {
        await relay.stop(1_000);
      }
    });

    it('outbox gauges: a backlog query that fails reports nothing and says why', async () => {
      const source = await database.open();
      const warnings: string[] = [];
      const relayMessaging = new Messaging({
        url,
        serviceName: 'telemetry-relay',
        eventsExchange: events,
        commandsExchange: commands,
      });
      instances.push(relayMessaging);
      const relay = new OutboxRelay(source, relayMessaging, {
        pollIntervalMs: 50,
        leaseName: uniqueName('lease'),
        logger: { log: () => undefined, warn: (m) => void warnings.push(m), error: () => undefined },
      });
      relay.start();
      try {
        await source.destroy(); // the database goes away under the running relay
        await reader.collect();
        expect(warnings.filter((w) => w.startsWith('could not measure the outbox backlog:'))).toHaveLength(1);
      } finally {
        await relay.stop(1_000);
      }
    });

    it('TypeOrmInbox: a redelivered duplicate is counted once', async () => {
      const queue = newQueue('inbox-typeorm');
      const inbox = new TypeOrmInbox(ds);
      const { messaging, harness } = await instance(queue, [
        {
          pattern: queue,
          handle: inbox.idempotent(queue, (m, manager) => manager.insert(SideEffect, { messageId: m.messageId })),
        },
      ]);
      const id = randomUUID();
      await messaging.publish({ exchange: events, routingKey: queue, payload: {}, messageId: id });
      await harness.acked({ queue, messageId: id });
      await messaging.publish({ exchange: events, routingKey: queue, payload: {}, messageId: id });
      await harness.waitForCount('acked', 2, { queue });
      expect(await ds.getRepository(SideEffect).countBy({ messageId: id })).toBe(1);
      expect(
        await total('warren.inbox.duplicates', { 'messaging.destination.name': queue, 'warren.message.type': queue }),
      ).toBe(1);
    });
  });

  describe('RedisInbox', () => {
    let redis: TestRedis;
    const clients: Redis[] = [];
    const prefix = uniqueName('inbox');
    beforeAll(async () => {
      redis = await startTestRedis();
    });
    afterAll(async () => {
      const c = new Redis(redis.url);
      const keys = await c.keys(`${prefix}:*`);
      if (keys.length) await c.del(...keys);
      await Promise.all([c, ...clients].map((x) => x.quit()));
      await redis.stop();
    });

    it('a redelivered duplicate is counted once; a call with only a message id counts under the consumer name', async () => {
      const queue = newQueue('inbox-redis');
      const client = new Redis(redis.url);
      clients.push(client);
      const inbox = new RedisInbox(client, { keyPrefix: prefix });
      let applied = 0;
      const { messaging, harness } = await instance(queue, [
        { pattern: queue, handle: inbox.idempotent(queue, async () => void applied++) },
      ]);
      const id = randomUUID();
      await messaging.publish({ exchange: events, routingKey: queue, payload: {}, messageId: id });
      await harness.acked({ queue, messageId: id });
      await messaging.publish({ exchange: events, routingKey: queue, payload: {}, messageId: id });
      await harness.waitForCount('acked', 2, { queue });
      expect(applied).toBe(1);
      expect(
        await total('warren.inbox.duplicates', { 'messaging.destination.name': queue, 'warren.message.type': queue }),
      ).toBe(1);

      const consumer = uniqueName('mailer');
      await inbox.handle({ messageId: id }, consumer, async () => undefined);
      expect(await inbox.handle({ messageId: id }, consumer, async () => undefined)).toEqual({ duplicate: true });
      const counted = await points('warren.inbox.duplicates', { 'messaging.destination.name': consumer });
      expect(counted.map((p) => [p.attributes, p.value])).toEqual([[{ 'messaging.destination.name': consumer }, 1]]);
    });
  });
});
