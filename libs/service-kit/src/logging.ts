import type { DynamicModule } from '@nestjs/common';
import { isSpanContextValid, trace } from '@opentelemetry/api';
import { currentScope } from '@warren/messaging';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { hostname } from 'node:os';
import { Logger, LoggerModule, PinoLogger, type Params } from 'nestjs-pino';
import { pathOf, QUIET_PATHS } from './telemetry';

/** How a service writes its log: one JSON object per line (for collectors), or pino-pretty's text (for people). */
export type LogFormat = 'json' | 'pretty';

function prettyAvailable(): boolean {
  try {
    require.resolve('pino-pretty'); // a devDependency: present in the workspace, absent from container images
    return true;
  } catch {
    return false;
  }
}

/**
 * LOG_FORMAT=json|pretty; unset: pretty on a terminal (when pino-pretty is installed), JSON lines otherwise: in
 * containers, under the demo (its logs go to files) and in tests.
 */
export function logFormat(env: NodeJS.ProcessEnv = process.env, isTTY = Boolean(process.stdout.isTTY)): LogFormat {
  const raw = env.LOG_FORMAT;
  if (raw !== undefined && raw !== '' && raw !== 'json' && raw !== 'pretty')
    throw new Error(`LOG_FORMAT must be json or pretty, got '${raw}'`);
  if (raw === 'json') return 'json';
  if (raw === 'pretty') {
    if (!prettyAvailable())
      throw new Error('LOG_FORMAT=pretty needs the pino-pretty package, which is not installed (use LOG_FORMAT=json)');
    return 'pretty';
  }
  return isTTY && prettyAvailable() ? 'pretty' : 'json';
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** LOG_LEVEL (pino's levels), info by default. */
export function logLevel(env: NodeJS.ProcessEnv = process.env): string {
  const level = env.LOG_LEVEL || 'info';
  if (!LEVELS.includes(level)) throw new Error(`LOG_LEVEL must be one of ${LEVELS.join(', ')}, got '${level}'`);
  return level;
}

/** The trace fields of a log line: those of the active span, else of the message being handled, else none. */
export interface TraceFields {
  trace_id: string;
  span_id: string;
  /** W3C trace flags as two hex digits: '01' when the trace is sampled. */
  trace_flags: string;
}

/**
 * What every line written inside a span carries, so a log search can jump to the trace and back. The active
 * span is OpenTelemetry's (the SDK's HTTP server span, the messaging library's consumer span). Without an SDK
 * there is none, but a message handler still runs in the library's MessageScope, which holds the trace the
 * message's traceparent names: its lines carry that.
 */
export function traceFields(): TraceFields | Record<string, never> {
  const span = trace.getActiveSpan()?.spanContext();
  if (span && isSpanContextValid(span))
    return { trace_id: span.traceId, span_id: span.spanId, trace_flags: span.traceFlags.toString(16).padStart(2, '0') };
  const scope = currentScope();
  if (scope) return { trace_id: scope.traceId, span_id: scope.spanId, trace_flags: scope.flags };
  return {};
}

/** nestjs-pino's settings for a service: every line carries `service`; HTTP requests logged once each on completion. */
export function loggingParams(service: string, env: NodeJS.ProcessEnv = process.env): Params {
  const format = logFormat(env);
  return {
    pinoHttp: {
      level: logLevel(env),
      base: { service, pid: process.pid, hostname: hostname() },
      mixin: traceFields,
      ...(format === 'pretty'
        ? {
            transport: {
              target: 'pino-pretty',
              options: {
                singleLine: true,
                translateTime: 'SYS:HH:MM:ss.l',
                ignore: 'pid,hostname,service',
                colorize: !env.NO_COLOR,
              },
            },
          }
        : {}),
      autoLogging: { ignore: (req: IncomingMessage) => QUIET_PATHS.has(pathOf(req.url)) },
      customLogLevel: (_req: IncomingMessage, res: ServerResponse, err?: Error) =>
        err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
      // the request line without headers: they may carry the admin token
      serializers: {
        req: (req: { method: string; url: string; id: unknown }) => ({ id: req.id, method: req.method, url: req.url }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
    },
  };
}

/** The logger module every service imports (through ServiceModule). */
export function loggingModule(service: string): DynamicModule {
  return LoggerModule.forRootAsync({ useFactory: () => loggingParams(service) });
}

/** The application logger a service is created with: the same settings as the module's request logging. */
export function appLogger(service: string, env: NodeJS.ProcessEnv = process.env): Logger {
  const params = loggingParams(service, env);
  return new Logger(new PinoLogger(params), params);
}
