import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { currentScope, Headers, Messaging, parseTraceparent, type IncomingMessage } from '../src';
import { MessagingHarness } from '../src/testing';
import { cleanup, eventually, testBrokers, uniqueName } from './support/brokers';

// Half-configured processes: a tracer provider with no propagator (the traceparent is then written and read by the
// library itself), and a propagator with no tracer provider (the SDK not started: the hand-made ids, as with no SDK
// at all, which every other suite runs under).
describe.each(testBrokers())('tracing fallbacks on $name', ({ url }) => {
  const events = uniqueName('events');
  const queues: string[] = [];
  let instances: Messaging[] = [];

  async function chain(queue: string) {
    const messaging = new Messaging({
      url,
      serviceName: 'fallback-test',
      eventsExchange: events,
      commandsExchange: uniqueName('commands'),
    });
    instances.push(messaging);
    const harness = new MessagingHarness(messaging);
    const seen: Array<IncomingMessage & { activeSpan?: string; scopeTrace?: string }> = [];
    await messaging.consume({
      queue,
      bindings: [{ pattern: `${queue}.*` }],
      handlers: [
        {
          pattern: `${queue}.first`,
          handle: async (m) => {
            seen.push({
              ...m,
              activeSpan: trace.getActiveSpan()?.spanContext().spanId,
              scopeTrace: currentScope()?.traceId,
            });
            await messaging.publish({ exchange: events, routingKey: `${queue}.second`, payload: {} });
          },
        },
        { pattern: `${queue}.second`, handle: (m) => void seen.push(m) },
      ],
    });
    await messaging.start();
    const sent = await messaging.publish({ exchange: events, routingKey: `${queue}.first`, payload: {} });
    await harness.waitForCount('acked', 2, { queue });
    return {
      sent,
      first: seen.find((m) => m.type === `${queue}.first`)!,
      second: seen.find((m) => m.type === `${queue}.second`)!,
    };
  }

  function newQueue(purpose: string): string {
    const q = uniqueName(purpose);
    queues.push(q);
    return q;
  }

  afterEach(async () => {
    await Promise.all(instances.map((m) => m.close()));
    instances = [];
  });
  afterAll(() => cleanup(url, { queues, exchanges: [events] }));

  describe('a tracer provider and no propagator', () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    beforeAll(() => {
      context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
      trace.setGlobalTracerProvider(provider);
    });
    afterAll(async () => {
      await provider.shutdown();
      trace.disable();
      context.disable();
    });

    it('writes the traceparent from the span and reads it back by hand: the trace holds together', async () => {
      const queue = newQueue('no-propagator');
      const { sent, first, second } = await chain(queue);
      const spans = () =>
        exporter.getFinishedSpans().filter((s) => String(s.attributes['warren.message.type']).startsWith(queue));
      await eventually('four spans', () => (spans().length === 4 ? true : undefined));
      const find = (kind: SpanKind, type: string) =>
        spans().find((s) => s.kind === kind && s.attributes['warren.message.type'] === `${queue}.${type}`)!;
      const [send1, process1, send2, process2] = [
        find(SpanKind.PRODUCER, 'first'),
        find(SpanKind.CONSUMER, 'first'),
        find(SpanKind.PRODUCER, 'second'),
        find(SpanKind.CONSUMER, 'second'),
      ];
      expect(parseTraceparent(sent.traceparent)).toEqual({
        traceId: send1.spanContext().traceId,
        spanId: send1.spanContext().spanId,
        flags: '01',
      });
      expect(process1.parentSpanContext?.spanId).toBe(send1.spanContext().spanId);
      expect(first.activeSpan).toBe(process1.spanContext().spanId);
      expect(send2.parentSpanContext?.spanId).toBe(process1.spanContext().spanId);
      expect(parseTraceparent(second.traceparent)?.spanId).toBe(send2.spanContext().spanId);
      expect(process2.parentSpanContext?.spanId).toBe(send2.spanContext().spanId);
      for (const s of [process1, send2, process2]) expect(s.spanContext().traceId).toBe(send1.spanContext().traceId);
    });
  });

  describe('a propagator and a context manager, no tracer provider', () => {
    beforeAll(() => {
      context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
      propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    });
    afterAll(() => {
      propagation.disable();
      context.disable();
    });

    it('keeps the hand-made ids: a valid traceparent on every message, the handler continuing its trace under a new span id', async () => {
      const queue = newQueue('no-tracer');
      const { sent, first, second } = await chain(queue);
      const [a, b] = [parseTraceparent(sent.traceparent)!, parseTraceparent(second.traceparent)!];
      expect(a).toBeDefined();
      expect(first.headers[Headers.traceparent]).toBe(sent.traceparent);
      expect(first.activeSpan).toBeUndefined();
      expect(first.scopeTrace).toBe(a.traceId);
      expect(b.traceId).toBe(a.traceId);
      expect(b.spanId).not.toBe(a.spanId);
    });
  });
});
