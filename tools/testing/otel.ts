// OpenTelemetry for a test process: an in-memory span exporter and a metric reader the test collects from,
// registered as the global providers with the context manager and the W3C propagator the services get from the
// Node SDK in production. Install it before the app is created: a meter taken from the API before a provider is
// registered stays a no-op, and the app's services take theirs when they are constructed.
import { context, metrics, propagation, trace, type Attributes, type HrTime } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  DataPointType,
  MeterProvider,
  MetricReader,
  type DataPoint,
  type Histogram,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';

/** A reader that exports nothing on its own: the test pulls the current values with collect(). */
class PullReader extends MetricReader {
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }

  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

/** One data point of a metric as a test reads it: a counter's or gauge's value, a histogram's count and sum. */
export interface MetricPoint {
  attributes: Attributes;
  value: number;
  /** Histograms only. */
  count?: number;
  sum?: number;
}

export interface TestTelemetry {
  /** Every span ended so far. */
  spans(): ReadableSpan[];
  spansNamed(name: string): ReadableSpan[];
  /** The points of one metric (by instrument name) as of now; [] when it has none yet. */
  points(name: string): Promise<MetricPoint[]>;
  /** The sum of a counter's values (a histogram's counts) over the series whose attributes include `attributes`. */
  total(name: string, attributes?: Attributes): Promise<number>;
  /** The metric's description as the SDK holds it (unit, type), undefined when nothing was recorded. */
  metric(name: string): Promise<MetricData | undefined>;
  /** Whether `span` is `ancestor` or below it in the spans ended so far. */
  isDescendant(span: ReadableSpan, ancestor: ReadableSpan): boolean;
  /** Unregisters the providers and drops what they hold. */
  shutdown(): Promise<void>;
}

export const spanId = (s: ReadableSpan): string => s.spanContext().spanId;
export const traceId = (s: ReadableSpan): string => s.spanContext().traceId;
export const parentId = (s: ReadableSpan): string | undefined => s.parentSpanContext?.spanId;
export const durationMs = (t: HrTime): number => t[0] * 1000 + t[1] / 1e6;

export function installTestTelemetry(): TestTelemetry {
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const reader = new PullReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  // Registered, not replaced: disabling what is there first would also orphan the tracers modules took from the
  // API when they were imported (the API's proxies belong to the provider slot they were taken from). The API
  // refuses a second registration; so does this.
  const registered = [
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable()),
    propagation.setGlobalPropagator(new W3CTraceContextPropagator()),
    trace.setGlobalTracerProvider(tracerProvider),
    metrics.setGlobalMeterProvider(meterProvider),
  ];
  if (registered.includes(false))
    throw new Error(
      'OpenTelemetry providers are registered already in this test file: install the test telemetry once, before any app starts',
    );

  const metric = async (name: string): Promise<MetricData | undefined> => {
    const { resourceMetrics } = await reader.collect();
    return resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === name);
  };
  const points = async (name: string): Promise<MetricPoint[]> => {
    const m = await metric(name);
    if (!m) return [];
    if (m.dataPointType === DataPointType.HISTOGRAM) {
      return (m.dataPoints as DataPoint<Histogram>[]).map((p) => ({
        attributes: p.attributes,
        value: p.value.count,
        count: p.value.count,
        sum: p.value.sum,
      }));
    }
    if (m.dataPointType === DataPointType.SUM || m.dataPointType === DataPointType.GAUGE)
      return (m.dataPoints as DataPoint<number>[]).map((p) => ({ attributes: p.attributes, value: p.value }));
    throw new Error(`${name} is an exponential histogram: read it with metric()`);
  };
  const spans = () => exporter.getFinishedSpans();
  return {
    spans,
    spansNamed: (name) => spans().filter((s) => s.name === name),
    points,
    metric,
    async total(name, attributes = {}) {
      const matching = (await points(name)).filter((p) =>
        Object.entries(attributes).every(([k, v]) => p.attributes[k] === v),
      );
      return matching.reduce((sum, p) => sum + p.value, 0);
    },
    isDescendant(span, ancestor) {
      const byId = new Map(spans().map((s) => [spanId(s), s]));
      for (let s: ReadableSpan | undefined = span; s; s = byId.get(parentId(s) ?? '')) {
        if (spanId(s) === spanId(ancestor) && traceId(s) === traceId(ancestor)) return true;
      }
      return false;
    },
    async shutdown() {
      await meterProvider.shutdown();
      await tracerProvider.shutdown();
      for (const api of [trace, metrics, context, propagation]) api.disable();
    },
  };
}
