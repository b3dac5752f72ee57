// startTelemetry's decisions (trace SDK or not, from OTEL_*; malformed values refused), its idempotence, the trace
// SDK's resource, the Prometheus names the exporter's output gets, and how the kit's
// MeterProvider lives beside a test's own.
import { metrics, trace } from '@opentelemetry/api';
import { DataPointType, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { installTestTelemetry } from '../../../tools/testing/otel';
import { parsePrometheusText } from '../../../tools/testing/prometheus';
import {
  flushTelemetry,
  installMetrics,
  shutdownTelemetry,
  startTelemetry,
  toPrometheusText,
  tracingRequested,
  unitSuffix,
  validateOtelEnv,
} from '../src';

const OTEL_KEYS = () => Object.keys(process.env).filter((k) => k.startsWith('OTEL_'));

describe('tracingRequested', () => {
  it.each([
    [{}, false],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, true],
    [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' }, true],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: '  ' }, false],
    [{ OTEL_TRACES_EXPORTER: 'console' }, true],
    [{ OTEL_TRACES_EXPORTER: 'otlp,console' }, true],
    [{ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, false],
    [{ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, false],
    [{ OTEL_SDK_DISABLED: 'TRUE', OTEL_TRACES_EXPORTER: 'console' }, false],
    [{ OTEL_SDK_DISABLED: 'false', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, true],
    // settings that say how, not whether: no exporter is asked for
    [{ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_SERVICE_NAME: 'x', OTEL_TRACES_SAMPLER: 'always_on' }, false],
  ])('%j -> %s', (env, expected) => {
    expect(tracingRequested(env)).toBe(expected);
  });
});

describe('validateOtelEnv', () => {
  it('accepts what the SDK understands', () => {
    expect(() =>
      validateOtelEnv({
        OTEL_SDK_DISABLED: 'false',
        OTEL_TRACES_EXPORTER: 'otlp, console',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'https://collector.example:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces',
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.25',
        OTEL_PROPAGATORS: 'tracecontext,baggage',
      }),
    ).not.toThrow();
    expect(() =>
      validateOtelEnv({
        OTEL_EXPORTER_OTLP_PROTOCOL: '',
        OTEL_TRACES_SAMPLER: 'always_on',
        OTEL_TRACES_SAMPLER_ARG: 'ignored by always_on',
      }),
    ).not.toThrow();
  });

  it.each([
    [{ OTEL_SDK_DISABLED: 'yes' }, "OTEL_SDK_DISABLED must be true or false, got 'yes'"],
    [
      { OTEL_TRACES_EXPORTER: 'jaeger' },
      "OTEL_TRACES_EXPORTER must be one or more (comma-separated) of otlp, console, zipkin, none; got 'jaeger'",
    ],
    [
      { OTEL_TRACES_EXPORTER: 'otlp,consol' },
      "OTEL_TRACES_EXPORTER must be one or more (comma-separated) of otlp, console, zipkin, none; got 'otlp,consol'",
    ],
    [
      { OTEL_EXPORTER_OTLP_PROTOCOL: 'json' },
      "OTEL_EXPORTER_OTLP_PROTOCOL must be one of grpc, http/protobuf, http/json; got 'json'",
    ],
    [
      { OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http' },
      "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL must be one of grpc, http/protobuf, http/json; got 'http'",
    ],
    [
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' },
      "OTEL_EXPORTER_OTLP_ENDPOINT must be an http:// or https:// URL, got 'collector:4318'",
    ],
    [
      { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'not a url' },
      "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT must be an http:// or https:// URL, got 'not a url'",
    ],
    [
      { OTEL_TRACES_SAMPLER: 'sometimes' },
      "OTEL_TRACES_SAMPLER must be one of always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio; got 'sometimes'",
    ],
    [
      { OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '1.5' },
      "OTEL_TRACES_SAMPLER_ARG must be a ratio from 0 to 1 for traceidratio, got '1.5'",
    ],
    [
      { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: 'half' },
      "OTEL_TRACES_SAMPLER_ARG must be a ratio from 0 to 1 for parentbased_traceidratio, got 'half'",
    ],
    [
      { OTEL_PROPAGATORS: 'w3c' },
      "OTEL_PROPAGATORS must be one or more (comma-separated) of tracecontext, baggage, b3, b3multi, jaeger, none; got 'w3c'",
    ],
  ])('refuses %j', (env, message) => {
    expect(() => validateOtelEnv(env)).toThrow(message);
  });

  it('reads nothing else when the SDK is disabled (the documented way to switch it off whatever else is set)', () => {
    expect(() => validateOtelEnv({ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_PROTOCOL: 'json' })).not.toThrow();
  });
});

describe('startTelemetry', () => {
  const saved = { ...process.env };
  // a collector that is never reached: these tests start no exporter that would send to it
  const collector = {
    env: {
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    },
  };

  beforeEach(() => {
    for (const k of OTEL_KEYS()) delete process.env[k];
  });
  afterEach(async () => {
    await shutdownTelemetry();
    for (const k of OTEL_KEYS()) delete process.env[k];
    Object.assign(process.env, saved);
  });

  const recording = () => {
    const span = trace.getTracer('test').startSpan('probe');
    span.end();
    return span.isRecording() || span.spanContext().traceFlags !== 0;
  };

  it('starts no trace SDK without OTEL_* settings, and serves metrics all the same', async () => {
    const telemetry = startTelemetry('kit-telemetry');
    expect(telemetry.tracing).toBe(false);
    expect(recording()).toBe(false);
    const families = parsePrometheusText(await telemetry.scrape());
    expect(families.get('target_info')!.samples[0].labels).toMatchObject({ service_name: 'kit-telemetry' });
    expect(families.has('process_memory_usage_bytes')).toBe(true);
  });

  it('honours OTEL_SDK_DISABLED=true even with an endpoint set', () => {
    Object.assign(process.env, collector.env, { OTEL_SDK_DISABLED: 'true' });
    expect(startTelemetry('kit-telemetry').tracing).toBe(false);
    expect(recording()).toBe(false);
  });

  it('throws on a malformed value unless told to exit, leaving nothing started', () => {
    Object.assign(process.env, collector.env, { OTEL_TRACES_SAMPLER: 'often' });
    expect(() => startTelemetry('kit-telemetry')).toThrow(
      "OTEL_TRACES_SAMPLER must be one of always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio; got 'often'",
    );
    expect(recording()).toBe(false);
  });

  // (OTLP export itself is proven by telemetry-process.spec.ts: its HTTP transport loads `http` by dynamic import,
  // which jest's module system cannot run)
  it('starts the trace SDK once from OTEL_* (the console exporter here), naming the service and the instance', async () => {
    Object.assign(process.env, {
      OTEL_TRACES_EXPORTER: 'console',
      OTEL_SERVICE_NAME: 'renamed',
      WARREN_INSTANCE: 'kit-telemetry-2',
      OTEL_NODE_RESOURCE_DETECTORS: 'env',
    });
    const printed: unknown[] = [];
    const dir = jest.spyOn(console, 'dir').mockImplementation((item: unknown) => void printed.push(item));
    try {
      const first = startTelemetry('kit-telemetry');
      const provider = (trace.getTracerProvider() as unknown as { getDelegate(): unknown }).getDelegate();
      const meterProvider = metrics.getMeterProvider();
      const second = startTelemetry('kit-telemetry');
      expect([first.tracing, second.tracing, second.service]).toEqual([true, true, 'renamed']);
      // the same SDK: no second tracer provider, and the SDK registered no MeterProvider of its own
      expect((trace.getTracerProvider() as unknown as { getDelegate(): unknown }).getDelegate()).toBe(provider);
      expect(metrics.getMeterProvider()).toBe(meterProvider);

      const span = trace.getTracer('test').startSpan('the probe');
      span.end();
      await flushTelemetry();
      expect(printed).toEqual([
        expect.objectContaining({
          name: 'the probe',
          traceId: span.spanContext().traceId,
          resource: {
            attributes: expect.objectContaining({
              'service.name': 'renamed',
              'service.instance.id': 'kit-telemetry-2',
            }),
          },
        }),
      ]);
    } finally {
      dir.mockRestore();
    }
  });
});

describe("the kit's MeterProvider beside a test's own", () => {
  afterEach(() => shutdownTelemetry());

  it("leaves a test's provider global (the test reads its own metrics) and takes the place back once it is gone", async () => {
    const test = installTestTelemetry();
    const kit = installMetrics('kit-telemetry');
    metrics.getMeter('probe').createCounter('probe.count').add(1);
    expect(await test.total('probe.count')).toBe(1);
    expect(parsePrometheusText(await kit.scrape()).has('process_memory_usage_bytes')).toBe(true);
    await test.shutdown();
    metrics.disable(); // what a test file's end leaves: nothing registered
    installMetrics('kit-telemetry');
    metrics.getMeter('probe').createCounter('probe.count').add(2);
    const families = parsePrometheusText(await kit.scrape());
    expect(families.get('probe_count_total')!.samples.map((s) => s.value)).toEqual([2]);
  });
});

describe('Prometheus names', () => {
  it.each([
    ['s', false, 'seconds'],
    ['ms', false, 'milliseconds'],
    ['By', true, 'bytes'],
    ['By/s', true, 'bytes_per_second'],
    ['{message}', true, ''],
    ['{resource}', false, ''],
    ['1', true, 'ratio'],
    ['1', false, ''],
    ['', false, ''],
    ['{request}/s', false, 'per_second'],
  ])('unit %j (gauge: %s) adds %j', (unit, gauge, suffix) => {
    expect(unitSuffix(unit, gauge)).toBe(suffix);
  });

  const metric = (
    name: string,
    unit: string,
    dataPointType: DataPointType,
    isMonotonic: boolean,
    value: number,
    queue = 'orders.events',
  ): MetricData =>
    ({
      descriptor: { name, unit, description: `${name} described`, valueType: 1, type: 'COUNTER' },
      aggregationTemporality: 1,
      dataPointType,
      isMonotonic,
      dataPoints: [{ attributes: { 'messaging.destination.name': queue }, startTime: [0, 0], endTime: [0, 0], value }],
    }) as unknown as MetricData;

  it('adds the unit and then _total for counters, drops annotations, merges a family two meters share', () => {
    const collected: ResourceMetrics = {
      resource: resourceFromAttributes({ 'service.name': 'orders' }),
      scopeMetrics: [
        {
          scope: { name: '@warren/messaging' },
          metrics: [
            metric('messaging.client.consumed.messages', '{message}', DataPointType.SUM, true, 3),
            metric('warren.outbox.oldest_age', 's', DataPointType.GAUGE, false, 1.5),
          ],
        },
        {
          scope: { name: '@warren/orders' },
          metrics: [
            metric('messaging.client.consumed.messages', '{message}', DataPointType.SUM, true, 4, 'payments.events'),
            metric('warren.outbox.oldest_age', 's', DataPointType.SUM, true, 9),
          ],
        },
      ],
    };
    const text = toPrometheusText(collected);
    const families = parsePrometheusText(text);
    expect([...families.keys()]).toEqual([
      'target_info',
      'messaging_client_consumed_messages_total',
      'warren_outbox_oldest_age_seconds',
    ]);
    expect(families.get('messaging_client_consumed_messages_total')).toMatchObject({
      type: 'counter',
      help: 'messaging.client.consumed.messages described',
    });
    expect(families.get('messaging_client_consumed_messages_total')!.samples.map((s) => [s.labels, s.value])).toEqual([
      [{ messaging_destination_name: 'orders.events' }, 3],
      [{ messaging_destination_name: 'payments.events' }, 4],
    ]);
    // a clash of types: the first kept, the second left out rather than typing the family twice
    expect(families.get('warren_outbox_oldest_age_seconds')).toMatchObject({
      type: 'gauge',
      samples: [expect.objectContaining({ value: 1.5 })],
    });
    expect(text).not.toMatch(/otel_scope_name|# UNIT/);
  });
});
