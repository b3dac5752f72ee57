import { trace } from '@opentelemetry/api';
import { runInScope } from '@warren/messaging';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { installTestTelemetry, type TestTelemetry } from '../../../tools/testing/otel';
import { logFormat, loggingParams, logLevel, traceFields } from '../src/logging';

describe('service logging settings', () => {
  it('writes JSON lines unless on a terminal, and pretty text on one (pino-pretty is installed here)', () => {
    expect(logFormat({}, false)).toBe('json');
    expect(logFormat({}, true)).toBe('pretty');
    expect(logFormat({ LOG_FORMAT: 'json' }, true)).toBe('json');
    expect(logFormat({ LOG_FORMAT: 'pretty' }, false)).toBe('pretty');
  });

  it('refuses an unknown LOG_FORMAT or LOG_LEVEL with the accepted values', () => {
    expect(() => logFormat({ LOG_FORMAT: 'xml' }, false)).toThrow("LOG_FORMAT must be json or pretty, got 'xml'");
    expect(() => logLevel({ LOG_LEVEL: 'loud' })).toThrow(
      "LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got 'loud'",
    );
    expect(logLevel({})).toBe('info');
    expect(logLevel({ LOG_LEVEL: 'debug' })).toBe('debug');
  });

  it('tags every line with the service, uses no transport for JSON, and keeps request headers out', () => {
    const params = loggingParams('orders', { LOG_FORMAT: 'json' });
    const http = params.pinoHttp as {
      base: unknown;
      transport?: unknown;
      serializers: { req: (r: unknown) => unknown };
    };
    expect(http.base).toEqual({ service: 'orders', pid: process.pid, hostname: expect.any(String) });
    expect(http.transport).toBeUndefined();
    expect(
      http.serializers.req({ id: 1, method: 'POST', url: '/orders', headers: { authorization: 'Bearer secret' } }),
    ).toEqual({ id: 1, method: 'POST', url: '/orders' });
    expect(
      (loggingParams('orders', { LOG_FORMAT: 'pretty' }).pinoHttp as { transport: { target: string } }).transport
        .target,
    ).toBe('pino-pretty');
  });
});

describe('trace fields on log lines', () => {
  let telemetry: TestTelemetry;
  beforeAll(() => {
    telemetry = installTestTelemetry();
  });
  afterAll(() => telemetry.shutdown());

  /** A pino logger with the service's settings (its mixin included) writing into an array of parsed lines. */
  function logger(): { log: pino.Logger; lines: Array<Record<string, unknown>> } {
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write: (chunk: Buffer, _enc, done) => (lines.push(JSON.parse(chunk.toString('utf8'))), done()),
    });
    const { level, base, mixin } = loggingParams('orders', { LOG_FORMAT: 'json' }).pinoHttp as pino.LoggerOptions;
    return { log: pino({ level, base, mixin }, sink), lines };
  }

  const scope = {
    traceId: 'a'.repeat(32),
    spanId: 'b'.repeat(16),
    flags: '01',
    messageId: 'm-1',
    correlationId: 'order-1',
  };

  it('carries the active span’s trace id, span id and flags on every line written inside it', () => {
    const { log, lines } = logger();
    const span = trace.getTracer('test').startActiveSpan('handle', (s) => {
      log.info('inside');
      s.end();
      return s;
    });
    log.info('outside');
    expect(lines.map((l) => [l.msg, l.trace_id, l.span_id, l.trace_flags])).toEqual([
      ['inside', span.spanContext().traceId, span.spanContext().spanId, '01'],
      ['outside', undefined, undefined, undefined],
    ]);
  });

  it('falls back to the message being handled when no span is active (no SDK), and prefers the span when there is one', () => {
    const { log, lines } = logger();
    runInScope(scope, () => log.info('handling'));
    const span = runInScope(scope, () =>
      trace.getTracer('test').startActiveSpan('child', (s) => {
        log.info('in a span too');
        s.end();
        return s;
      }),
    );
    expect(lines.map((l) => [l.msg, l.trace_id, l.span_id, l.trace_flags])).toEqual([
      ['handling', scope.traceId, scope.spanId, '01'],
      ['in a span too', span.spanContext().traceId, span.spanContext().spanId, '01'],
    ]);
  });

  it('adds nothing outside any span or message', () => {
    expect(traceFields()).toEqual({});
  });
});
