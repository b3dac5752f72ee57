import {
  Controller,
  Get,
  Inject,
  Injectable,
  Module,
  Sse,
  type DynamicModule,
  type MessageEvent,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Observable } from 'rxjs';
import type { TraceReceiverState } from '../contracts/traces';
import type { ConsoleConfig } from './config';
import { Controls } from './controls';
import { ControlsController } from './controls.controller';
import { DeadLettersController } from './dead-letters.controller';
import { OrdersController } from './orders.controller';
import { ScenariosController } from './scenarios.controller';
import { createSources, type Sources } from './sources';
import { CONFIG, SOURCES, TRACES } from './tokens';
import { TracesController } from './traces.controller';
import { otlpTracesHandler } from './traces/otlp-http';
import { TraceReceiver } from './traces/trace-receiver';

/**
 * The console's live data: GET /api/stream is server-sent events, one event per source (named after it) each
 * time its state changes, every current state first. However many browsers listen, each source is polled once
 * per interval (SharedSource), and only while one listens. GET /api/health tells each source's state.
 */
@Controller('api')
class StreamController implements OnModuleDestroy {
  constructor(
    @Inject(SOURCES) private readonly sources: Sources,
    @Inject(TRACES) private readonly traces: TraceReceiver,
  ) {}

  @Sse('stream')
  stream(): Observable<MessageEvent> {
    return new Observable<MessageEvent>((subscriber) => {
      const unsubscribes = Object.entries(this.sources).map(([name, source]) =>
        source.subscribe((state) => subscriber.next({ type: name, data: state })),
      );
      return () => unsubscribes.forEach((unsubscribe) => unsubscribe());
    });
  }

  /** Each source's state, and the trace receiver's counts (without its list of recent orders). */
  @Get('health')
  health(): {
    sources: Record<string, { status: string; subscribers: number; requests: number }>;
    traces: Omit<TraceReceiverState, 'recentOrders'>;
  } {
    const { recentOrders: _, ...traces } = this.traces.state();
    return {
      sources: Object.fromEntries(
        Object.entries(this.sources).map(([name, s]) => [
          name,
          { status: s.state.status, subscribers: s.subscribers, requests: s.requests },
        ]),
      ),
      traces,
    };
  }

  onModuleDestroy(): void {
    for (const source of Object.values(this.sources)) source.stop();
  }
}

/** Closes the trace receiver with the app (its forwarder's queue, its stream's pending publish). */
@Injectable()
class TraceReceiverLife implements OnModuleDestroy {
  constructor(@Inject(TRACES) private readonly traces: TraceReceiver) {}

  onModuleDestroy(): void {
    this.traces.close();
  }
}

@Module({})
export class ConsoleModule {
  static forRoot(config: ConsoleConfig): DynamicModule {
    return {
      module: ConsoleModule,
      controllers: [
        StreamController,
        OrdersController,
        DeadLettersController,
        ControlsController,
        ScenariosController,
        TracesController,
      ],
      providers: [
        { provide: CONFIG, useValue: config },
        { provide: TRACES, useFactory: () => new TraceReceiver(config.traces) },
        // the receiver's state is pushed on the same stream as the polled sources
        {
          provide: SOURCES,
          useFactory: (traces: TraceReceiver) => ({ ...createSources(config), traces: traces.source }),
          inject: [TRACES],
        },
        Controls,
        TraceReceiverLife,
      ],
    };
  }
}

/**
 * The OTLP receiver, POST /v1/traces, in front of Nest's body parsers (otlp-http.ts says why). Call it before
 * app.listen(), which installs those parsers.
 */
export function receiveTraces(app: NestExpressApplication): void {
  app.use('/v1/traces', otlpTracesHandler(app.get<TraceReceiver>(TRACES)));
}

/** Serves the built web app at /; without a build, / says how to make one (the API works either way). */
export function serveWeb(app: NestExpressApplication, webDir: string): void {
  if (existsSync(join(webDir, 'index.html'))) {
    app.useStaticAssets(webDir, { index: 'index.html', maxAge: 0 });
    return;
  }
  app
    .getHttpAdapter()
    .get('/', (_req: unknown, res: { status(n: number): { type(t: string): { send(b: string): void } } }) =>
      res
        .status(503)
        .type('text/plain')
        .send(
          `The console's web app is not built (no ${webDir}/index.html): npx vite build -c apps/console/vite.config.ts\n`,
        ),
    );
}
