// OpenTelemetry for a service process: metrics always (a Prometheus reader that GET /metrics serves, runtime
// metrics, resident memory), traces only when the standard OTEL_* variables ask for them. A service's
// `src/instrument.ts` calls startTelemetry() and is the first import of its main.ts: the trace instrumentations
// hook `require`, so they must be in place before @nestjs/*, express, pg and ioredis are first loaded. Nothing here
// may import those (or Nest) for the same reason; `@warren/service-kit/telemetry` is its own entry so that an
// entry file can load it without the rest of the kit.
import { context, metrics, propagation, trace, type ProxyTracerProvider } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { RuntimeNodeInstrumentation } from '@opentelemetry/instrumentation-runtime-node';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import { AggregationType, MeterProvider } from '@opentelemetry/sdk-metrics';
import type { NodeSDK } from '@opentelemetry/sdk-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { IncomingMessage } from 'node:http';
import { hostname } from 'node:os';
import { pino } from 'pino';
import { toPrometheusText } from './prometheus-text';

/** The meter service-kit's own instruments (HTTP duration, memory) are created on. */
export const SERVICE_KIT_METER = '@warren/service-kit';

/** Paths polled by health checks and scrapers: not worth a span, a histogram sample or a log line per request. */
export const QUIET_PATHS: ReadonlySet<string> = new Set(['/health', '/livez', '/readyz', '/metrics']);

/** The path of a request URL, without its query. */
export const pathOf = (url: string | undefined): string => (url ?? '').split('?', 1)[0];

// The trace instrumentations would also record metrics of their own (the HTTP one its own
// http.server.request.duration, under the name service-kit uses). /metrics is the same whether or not tracing is
// on, so their meters are dropped.
const TRACE_INSTRUMENTATION_METERS = [
  '@opentelemetry/instrumentation-http',
  '@opentelemetry/instrumentation-express',
  '@opentelemetry/instrumentation-nestjs-core',
  '@opentelemetry/instrumentation-pg',
  '@opentelemetry/instrumentation-ioredis',
];

export interface Telemetry {
  /** The service name the resource carries (OTEL_SERVICE_NAME, else the service's own). */
  service: string;
  /** Whether the trace SDK runs (OTEL_* asked for it). */
  tracing: boolean;
  /** The current values of every metric of the process, as Prometheus text. */
  scrape(): Promise<string>;
}

interface MetricsState {
  provider: MeterProvider;
  exporter: PrometheusExporter;
  runtime: RuntimeNodeInstrumentation;
  service: string;
}

// One of each per process: tests start many apps in one, and each app's start asks for them again.
let installed: MetricsState | undefined;
let tracer: Tracing | undefined;

interface Tracing {
  sdk: NodeSDK;
  /** Enabled when created (their require hooks), disabled by shutdownTelemetry: the SDK's shutdown leaves them. */
  instrumentations: Array<{ disable(): void }>;
}

/**
 * Installs the process's MeterProvider (once) and makes sure it is the global one. startService calls this too,
 * so an app created without instrument.ts (in a jest test) still serves /metrics; if a test registered a
 * provider of its own first, that one stays global and /metrics shows the runtime metrics only.
 */
export function installMetrics(service: string, env: NodeJS.ProcessEnv = process.env): Telemetry {
  if (!installed) {
    const resource = serviceResource(service, env);
    // The reader is pulled by GET /metrics on the service's own port: no second listener.
    const exporter = new PrometheusExporter({ preventServerStart: true });
    const provider = new MeterProvider({
      resource,
      readers: [exporter],
      views: TRACE_INSTRUMENTATION_METERS.map((meterName) => ({
        meterName,
        aggregation: { type: AggregationType.DROP },
      })),
    });
    const runtime = new RuntimeNodeInstrumentation();
    installed = { provider, exporter, runtime, service: String(resource.attributes[ATTR_SERVICE_NAME]) };
    metrics.setGlobalMeterProvider(provider);
    runtime.setMeterProvider(provider);
    provider
      .getMeter(SERVICE_KIT_METER)
      .createObservableGauge('process.memory.usage', {
        unit: 'By',
        description: 'Resident set size of the process (RSS).',
      })
      .addCallback((result) => result.observe(process.memoryUsage.rss()));
  } else if (metrics.getMeterProvider() !== installed.provider) {
    // a test's provider came and went (the API is free again): take the place back; refused while one is there
    metrics.setGlobalMeterProvider(installed.provider);
  }
  return telemetry(installed);
}

/** service.name (OTEL_SERVICE_NAME, else the service's own) and service.instance.id (WARREN_INSTANCE, else host-pid). */
function serviceResource(service: string, env: NodeJS.ProcessEnv): Resource {
  return resourceFromAttributes({
    [ATTR_SERVICE_NAME]: env.OTEL_SERVICE_NAME || service,
    'service.instance.id': env.WARREN_INSTANCE || `${hostname()}-${process.pid}`,
  });
}

function telemetry(state: MetricsState): Telemetry {
  return {
    service: state.service,
    tracing: tracer !== undefined,
    async scrape() {
      const { resourceMetrics, errors } = await state.exporter.collect();
      if (errors.length > 0)
        throw new AggregateError(errors, `collecting metrics failed: ${errors.map((e) => String(e)).join('; ')}`);
      return toPrometheusText(resourceMetrics);
    },
  };
}

export interface StartTelemetryOptions {
  /**
   * The environment to decide and validate from (default process.env). The SDK itself reads process.env: the two
   * differ only in tests of the decision.
   */
  env?: NodeJS.ProcessEnv;
  /**
   * On a malformed OTEL_* value, write a fatal JSON line naming it and exit 1 (what instrument.ts wants: the
   * service cannot start, and says why the way the rest of its log does). Default: throw.
   */
  exitOnError?: boolean;
}

/**
 * Metrics (installMetrics), and the OpenTelemetry Node SDK for traces when the environment asks for it
 * (tracingRequested). Idempotent: a second call returns what the first started.
 */
export function startTelemetry(service: string, options: StartTelemetryOptions = {}): Telemetry {
  const env = options.env ?? process.env;
  try {
    validateOtelEnv(env);
  } catch (err) {
    if (!options.exitOnError) throw err;
    pino({ base: { service, pid: process.pid, hostname: hostname() } }).fatal(
      { err },
      `${service} failed to start: ${(err as Error).message}`,
    );
    process.exit(1);
  }
  // Tracing first. Any instrumentation, the runtime metrics' one included, installs a require hook that remembers
  // every module loaded through it; `http` loaded through it before the HTTP instrumentation has registered (the
  // SDK's exporters load it) would stay unpatched, and no request would get a span.
  if (!tracer && tracingRequested(env)) tracer = startTracing(serviceResource(service, env));
  return installMetrics(service, env);
}

/**
 * Whether to start the trace SDK: an OTLP endpoint is set (OTEL_EXPORTER_OTLP_ENDPOINT or _TRACES_ENDPOINT), or
 * OTEL_TRACES_EXPORTER names an exporter other than none; never when OTEL_SDK_DISABLED=true. With none of them
 * set, no span is recorded and nothing is loaded for it.
 */
export function tracingRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  if (flag(env.OTEL_SDK_DISABLED)) return false;
  const exporters = list(env.OTEL_TRACES_EXPORTER);
  if (exporters.length > 0) return !exporters.includes('none');
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim());
}

const list = (raw: string | undefined): string[] =>
  (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

const flag = (raw: string | undefined): boolean => (raw ?? '').trim().toLowerCase() === 'true';

// the variables that take a comma-separated list rather than one value
const LISTS = new Set(['OTEL_TRACES_EXPORTER', 'OTEL_PROPAGATORS']);

const ONE_OF: Record<string, string[]> = {
  OTEL_TRACES_EXPORTER: ['otlp', 'console', 'zipkin', 'none'],
  OTEL_EXPORTER_OTLP_PROTOCOL: ['grpc', 'http/protobuf', 'http/json'],
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: ['grpc', 'http/protobuf', 'http/json'],
  OTEL_TRACES_SAMPLER: [
    'always_on',
    'always_off',
    'traceidratio',
    'parentbased_always_on',
    'parentbased_always_off',
    'parentbased_traceidratio',
  ],
  OTEL_PROPAGATORS: ['tracecontext', 'baggage', 'b3', 'b3multi', 'jaeger', 'none'],
};

/**
 * Refuses the OTEL_* values that decide whether, where and how spans are exported when they are malformed. The
 * SDK itself would fall back to a default without a word (its diagnostics are off unless OTEL_LOG_LEVEL is set),
 * so a typo in the protocol would send protobuf to a JSON-only receiver and lose every span quietly. Values not
 * checked here (batch sizes, timeouts, headers, resource attributes) are read by the SDK, which skips or defaults
 * a malformed one and says so at OTEL_LOG_LEVEL=warn. With OTEL_SDK_DISABLED=true nothing else is read.
 */
export function validateOtelEnv(env: NodeJS.ProcessEnv = process.env): void {
  const disabled = env.OTEL_SDK_DISABLED?.trim();
  if (disabled && !/^(true|false)$/i.test(disabled))
    throw new Error(`OTEL_SDK_DISABLED must be true or false, got '${env.OTEL_SDK_DISABLED}'`);
  if (flag(disabled)) return;
  for (const [name, allowed] of Object.entries(ONE_OF)) {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') continue;
    const values = LISTS.has(name) ? list(raw) : [raw.trim()];
    if (values.every((v) => allowed.includes(v))) continue;
    throw new Error(
      `${name} must be ${LISTS.has(name) ? 'one or more (comma-separated)' : 'one'} of ${allowed.join(', ')}; got '${raw}'`,
    );
  }
  for (const name of ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']) {
    const raw = env[name]?.trim();
    if (!raw) continue;
    let url: URL | undefined;
    try {
      url = new URL(raw);
    } catch {
      url = undefined;
    }
    if (!url || !/^https?:$/.test(url.protocol))
      throw new Error(`${name} must be an http:// or https:// URL, got '${raw}'`);
  }
  const sampler = env.OTEL_TRACES_SAMPLER?.trim();
  const arg = env.OTEL_TRACES_SAMPLER_ARG?.trim();
  if (arg && sampler?.endsWith('traceidratio')) {
    const ratio = Number(arg);
    if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1)
      throw new Error(`OTEL_TRACES_SAMPLER_ARG must be a ratio from 0 to 1 for ${sampler}, got '${arg}'`);
  }
}

/**
 * The Node SDK for traces only, everything else from OTEL_*: exporter (OTLP by default) and its protocol,
 * endpoint and headers, sampler, propagators (W3C trace context and baggage by default), resource attributes.
 * Its metric readers and log processors are set to none: metrics are the Prometheus reader's (one MeterProvider
 * per process), and logs go to stdout as JSON lines.
 */
function startTracing(resource: Resource): Tracing {
  // Loaded here, not at the top: the SDK with its exporters and instrumentations takes about 250 ms and 12 MB to
  // load, which a service with tracing off (the default) should not pay.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { NodeSDK } = require('@opentelemetry/sdk-node') as typeof import('@opentelemetry/sdk-node');
  const { HttpInstrumentation } =
    require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
  const { ExpressInstrumentation, ExpressLayerType } =
    require('@opentelemetry/instrumentation-express') as typeof import('@opentelemetry/instrumentation-express');
  const { NestInstrumentation } =
    require('@opentelemetry/instrumentation-nestjs-core') as typeof import('@opentelemetry/instrumentation-nestjs-core');
  const { PgInstrumentation } =
    require('@opentelemetry/instrumentation-pg') as typeof import('@opentelemetry/instrumentation-pg');
  const { IORedisInstrumentation } =
    require('@opentelemetry/instrumentation-ioredis') as typeof import('@opentelemetry/instrumentation-ioredis');
  /* eslint-enable @typescript-eslint/no-require-imports */
  // (constructing one enables it: its require hook is in place from here on)
  const instrumentations = [
    new HttpInstrumentation({ ignoreIncomingRequestHook: (req: IncomingMessage) => QUIET_PATHS.has(pathOf(req.url)) }),
    // Express only names the server span by its route (POST /orders): its own spans, one per middleware layer
    // (seven per order placed: query parser, JSON body, Nest's router...), were a fifth of an order's spans and
    // told nothing Nest's spans do not (npm run bench:tracing)
    new ExpressInstrumentation({
      ignoreLayersType: [ExpressLayerType.MIDDLEWARE, ExpressLayerType.ROUTER, ExpressLayerType.REQUEST_HANDLER],
    }),
    new NestInstrumentation(),
    new PgInstrumentation(),
    new IORedisInstrumentation(),
  ];
  const sdk = new NodeSDK({
    // the same service.name and service.instance.id as the metrics; OTEL_RESOURCE_ATTRIBUTES, the process and the
    // host are added by the SDK's detectors
    resource,
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations,
  });
  sdk.start();
  return { sdk, instrumentations };
}

/**
 * Exports the spans ended so far (the batch processor holds them for up to OTEL_BSP_SCHEDULE_DELAY). A service
 * calls it last on shutdown, after its handlers and the outbox's final flush, so the spans of its last work are
 * not lost to process.exit().
 */
export async function flushTelemetry(): Promise<void> {
  if (!tracer) return;
  const delegate = (trace.getTracerProvider() as ProxyTracerProvider).getDelegate?.() as
    { forceFlush?: () => Promise<void> } | undefined;
  await delegate?.forceFlush?.();
}

/** Stops the trace SDK and the metrics and forgets them, so the next startTelemetry starts afresh (tests). */
export async function shutdownTelemetry(): Promise<void> {
  const [tracing, state] = [tracer, installed];
  tracer = undefined;
  installed = undefined;
  if (tracing) {
    await tracing.sdk.shutdown();
    for (const instrumentation of tracing.instrumentations) instrumentation.disable();
    // what the SDK registered with the API: the tracer provider, the context manager, the propagator
    trace.disable();
    context.disable();
    propagation.disable();
  }
  if (state) {
    state.runtime.disable();
    await state.provider.shutdown();
    if (metrics.getMeterProvider() === state.provider) metrics.disable();
  }
}
