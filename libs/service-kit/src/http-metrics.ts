import {
  Controller,
  Get,
  Inject,
  Injectable,
  Logger,
  Res,
  type CanActivate,
  type ExecutionContext,
  type NestMiddleware,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { metrics, type Attributes, type Histogram } from '@opentelemetry/api';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PROMETHEUS_CONTENT_TYPE } from './prometheus-text';
import { flushTelemetry, pathOf, QUIET_PATHS, SERVICE_KIT_METER, type Telemetry } from './telemetry';

/** The process's telemetry, installed when the app is created (installMetrics); injected so it exists first. */
export const TELEMETRY = Symbol('TELEMETRY');

// The semantic conventions' buckets for HTTP durations in seconds (the SDK's default ones are for milliseconds).
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

// Any other method is one series, `_OTHER`, as the conventions say: a client must not be able to add series.
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);

// Where RouteMarker leaves the pattern of the route that took the request.
const MATCHED_ROUTE = Symbol('warren.matchedRoute');

/** What Express leaves on a request it routed (the route's pattern, the mount path of its router), and our mark. */
interface RoutedRequest extends IncomingMessage {
  originalUrl?: string;
  baseUrl?: string;
  route?: { path?: unknown };
  [MATCHED_ROUTE]?: string;
}

/**
 * A global guard that lets everything through and notes which route of the app took the request. Express's own
 * `req.route` cannot say it at the end: Nest mounts module middleware (the request logger's) as a catch-all route
 * of every method, which is what a request no controller matched still holds when it is answered 404. Guards run
 * once a controller's route has matched, global ones before a controller's own, so a 401 from the admin guard has
 * its route too.
 */
@Injectable()
export class RouteMarker implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const req = context.switchToHttp().getRequest<RoutedRequest>();
    if (typeof req.route?.path === 'string') req[MATCHED_ROUTE] = `${req.baseUrl ?? ''}${req.route.path}`;
    return true;
  }
}

/**
 * Records `http.server.request.duration` (seconds) for every request but the quiet paths (/health, /metrics), when
 * the response is finished: errors too, whatever answered them (a guard, a pipe, an exception filter, the 404 of
 * no route). `http.route` is the pattern of the route that took the request (`/orders/:id`, see RouteMarker),
 * never the URL, so ids do not become series; a request no route matched has none. A request the client abandons
 * before its answer is not counted.
 */
@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  private readonly duration: Histogram;

  constructor(@Inject(TELEMETRY) _telemetry: Telemetry) {
    // taken here, not at module load: the provider is installed by now (see TELEMETRY)
    this.duration = metrics.getMeter(SERVICE_KIT_METER).createHistogram('http.server.request.duration', {
      unit: 's',
      description: 'Duration of HTTP server requests, from the request reaching the app to the response finishing.',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    });
  }

  use(req: RoutedRequest, res: ServerResponse, next: () => void): void {
    if (QUIET_PATHS.has(pathOf(req.originalUrl ?? req.url))) return next();
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      const attributes: Attributes = {
        'http.request.method': KNOWN_METHODS.has(req.method ?? '') ? req.method : '_OTHER',
        'http.response.status_code': res.statusCode,
      };
      const route = req[MATCHED_ROUTE];
      if (route !== undefined) attributes['http.route'] = route;
      this.duration.record(Number(process.hrtime.bigint() - started) / 1e9, attributes);
    });
    next();
  }
}

/** GET /metrics: every metric of the process in the Prometheus text format, for a scraper (no auth, as /health). */
@Controller('metrics')
export class MetricsController {
  constructor(@Inject(TELEMETRY) private readonly telemetry: Telemetry) {}

  @Get()
  async scrape(@Res() res: ServerResponse): Promise<void> {
    const text = await this.telemetry.scrape();
    res.writeHead(200, { 'Content-Type': PROMETHEUS_CONTENT_TYPE, 'Cache-Control': 'no-store' });
    res.end(text);
  }
}

/** How long the shutdown waits for the last spans to be exported. */
export const FLUSH_TIMEOUT_MS = 5_000;

/**
 * Exports the spans still held in the batch when the app closes. Nest runs onApplicationShutdown after every
 * module's onModuleDestroy (handlers finished, outbox flushed), and startService exits the process after it. A
 * collector that is down or slow costs at most FLUSH_TIMEOUT_MS and a warning (the exporter would retry for up
 * to OTEL_EXPORTER_OTLP_TIMEOUT): losing the last spans must not fail the shutdown or eat its whole budget.
 */
@Injectable()
export class TelemetryFlush implements OnApplicationShutdown {
  private readonly logger = new Logger('Telemetry');

  async onApplicationShutdown(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<'timeout'>(
      (resolve) => (timer = setTimeout(() => resolve('timeout'), FLUSH_TIMEOUT_MS)),
    );
    try {
      const outcome = await Promise.race([flushTelemetry().then(() => 'flushed' as const), gaveUp]);
      if (outcome === 'timeout')
        this.logger.warn(`the last spans were not exported within ${FLUSH_TIMEOUT_MS} ms; exiting without them`);
    } catch (err) {
      this.logger.warn(`the last spans could not be exported: ${(err as Error)?.message ?? String(err)}`);
    } finally {
      clearTimeout(timer);
    }
  }
}
