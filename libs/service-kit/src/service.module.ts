import {
  Controller,
  Get,
  Inject,
  Injectable,
  Module,
  type DynamicModule,
  type MiddlewareConsumer,
  type NestModule,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
  type Provider,
} from '@nestjs/common';
import {
  HealthCheck,
  HealthCheckService,
  TerminusModule,
  TypeOrmHealthIndicator,
  type HealthIndicatorFunction,
} from '@nestjs/terminus';
import { APP_GUARD } from '@nestjs/core';
import { TypeOrmModule, getDataSourceToken } from '@nestjs/typeorm';
import { Messaging, type MessagingLogger } from '@warren/messaging';
import { MessagingHealthIndicator, MessagingModule } from '@warren/messaging/nest';
import { messagingEntities, messagingMigrations, OutboxRelay, TypeOrmInbox } from '@warren/messaging/typeorm';
import { Logger } from '@nestjs/common';
import { loggingModule } from './logging';
import type { DataSource } from 'typeorm';
import { databaseOptions, openDatabase, type DatabaseConfig } from './database';
import { readEnv } from './env';
import { topologyNames } from './topology-names';
import { HttpMetricsMiddleware, MetricsController, RouteMarker, TELEMETRY, TelemetryFlush } from './http-metrics';
import { installMetrics } from './telemetry';

export interface ServiceModuleOptions {
  /** The service name: connection name, SQLite file, queue prefix. */
  name: string;
  defaultPort: number;
  /** The service's own entities and migrations (the inbox and outbox tables are added for you). */
  entities?: DatabaseConfig['entities'];
  migrations?: DatabaseConfig['migrations'];
  /** false: no database (no TypeORM inbox or outbox either; use the Redis inbox). Default: a database. */
  database?: false;
  /** The work queue MessagingServer consumes event and command handlers from, e.g. 'payments.commands'. */
  queue: string;
  /** Messaging retry policy for this service's handlers. */
  retry?: { maxAttempts?: number; initialDelayMs?: number; multiplier?: number; maxDelayMs?: number };
  prefetch?: number;
}

/** Starts the outbox relay once the app is up, and stops it (publishing what is pending) before messaging closes. */
@Injectable()
class OutboxRelayLifecycle implements OnApplicationBootstrap, OnModuleDestroy {
  constructor(@Inject(OutboxRelay) private readonly relay: OutboxRelay) {}

  onApplicationBootstrap(): void {
    this.relay.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.relay.stop();
  }
}

/**
 * The checks GET /health runs: the database (when the service has one) and the broker. A service adds its
 * own (Redis, say) by injecting this array and pushing to it when its module initialises.
 */
export const HEALTH_CHECKS = Symbol('HEALTH_CHECKS');
export type HealthChecks = HealthIndicatorFunction[];

/**
 * Deletes inbox rows older than any redelivery can be (INBOX_RETENTION_HOURS, default a week), once an hour:
 * the inbox grows by a row per message otherwise.
 */
@Injectable()
class InboxPruner implements OnApplicationBootstrap, OnModuleDestroy {
  private timer?: NodeJS.Timeout;
  private readonly logger = new Logger('Inbox');

  constructor(@Inject(TypeOrmInbox) private readonly inbox: TypeOrmInbox) {}

  onApplicationBootstrap(): void {
    const retentionMs = Number(process.env.INBOX_RETENTION_HOURS ?? 24 * 7) * 3_600_000;
    const prune = () =>
      void this.inbox.prune(retentionMs).then(
        (n) => n > 0 && this.logger.log(`pruned ${n} inbox rows`),
        (err: Error) => this.logger.warn(`pruning the inbox failed: ${err.message}`),
      );
    this.timer = setInterval(prune, 3_600_000);
    this.timer.unref();
    prune();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }
}

@Controller('health')
class HealthController {
  constructor(
    @Inject(HealthCheckService) private readonly health: HealthCheckService,
    @Inject(HEALTH_CHECKS) private readonly checks: HealthChecks,
  ) {}

  /** 200 when the database answers and the broker connection is up with every consumer consuming; else 503. */
  @Get()
  @HealthCheck()
  check() {
    return this.health.check(this.checks);
  }
}

const nestLogger = (context: string): MessagingLogger => {
  const l = new Logger(context);
  return { log: (m) => l.log(m), warn: (m) => l.warn(m), error: (m) => l.error(m) };
};

/**
 * GET /metrics, the HTTP duration histogram and the span flush at shutdown. The process's MeterProvider is
 * installed when the app is created if instrument.ts did not install it (an app a test creates in-process).
 */
function telemetryProviders(service: string): Provider[] {
  return [
    { provide: TELEMETRY, useFactory: () => installMetrics(service) },
    { provide: APP_GUARD, useClass: RouteMarker },
    HttpMetricsMiddleware,
    TelemetryFlush,
  ];
}

/**
 * What every Warren service has: its own database (migrations at start), the messaging module with its
 * transport, the TypeORM inbox, the outbox relay, GET /health and GET /metrics. With `database: false`,
 * messaging, /health and /metrics only. Configuration comes from the environment
 * when the app is created (not when this module is imported), so tests can set it per app.
 */
@Module({})
export class ServiceModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(HttpMetricsMiddleware).forRoutes('*');
  }

  static forRoot(options: ServiceModuleOptions): DynamicModule {
    const messaging = MessagingModule.forRootAsync({
      useFactory: () => {
        const env = readEnv(options.name, options.defaultPort);
        const names = topologyNames();
        return {
          url: env.amqpUrl,
          serviceName: options.name,
          queueType: env.messagingQueueType,
          // which instance holds the connection, in the broker's views: `payments`, `payments-2` (the demo sets it)
          connectionName: process.env.WARREN_INSTANCE || options.name,
          eventsExchange: names.eventsExchange,
          commandsExchange: names.commandsExchange,
          retry: options.retry,
          prefetch: options.prefetch,
          logger: nestLogger('Messaging'),
          server: { queue: names.queue(options.queue), rpcQueue: names.queue(`${options.name}.rpc`) },
        };
      },
    });
    const terminus = TerminusModule.forRoot({ logger: false });
    const logging = loggingModule(options.name);
    if (options.database === false) {
      return {
        module: ServiceModule,
        global: true,
        imports: [logging, terminus, messaging],
        controllers: [HealthController, MetricsController],
        exports: [HEALTH_CHECKS],
        providers: [
          ...telemetryProviders(options.name),
          {
            provide: HEALTH_CHECKS,
            inject: [MessagingHealthIndicator],
            useFactory: (broker: MessagingHealthIndicator): HealthChecks => [() => broker.isHealthy('broker')],
          },
        ],
      };
    }
    return {
      module: ServiceModule,
      global: true,
      imports: [
        logging,
        terminus,
        TypeOrmModule.forRootAsync({
          useFactory: () => {
            const env = readEnv(options.name, options.defaultPort);
            return databaseOptions({
              service: options.name,
              databaseUrl: env.databaseUrl,
              dataDir: env.dataDir,
              sqliteSynchronous: env.sqliteSynchronous,
              entities: [
                ...messagingEntities,
                ...((options.entities ?? []) as unknown[]),
              ] as DatabaseConfig['entities'],
              migrations: [
                ...messagingMigrations,
                ...((options.migrations ?? []) as unknown[]),
              ] as DatabaseConfig['migrations'],
              schema: process.env.DATABASE_SCHEMA,
            });
          },
          // migrations run under a lock, so instances starting together do not race (database.ts)
          dataSourceFactory: (dataSourceOptions) => openDatabase(dataSourceOptions!),
        }),
        messaging,
      ],
      controllers: [HealthController, MetricsController],
      providers: [
        ...telemetryProviders(options.name),
        {
          provide: HEALTH_CHECKS,
          inject: [TypeOrmHealthIndicator, MessagingHealthIndicator],
          useFactory: (db: TypeOrmHealthIndicator, broker: MessagingHealthIndicator): HealthChecks => [
            () => db.pingCheck('database', { timeout: 2000 }),
            () => broker.isHealthy('broker'),
          ],
        },
        {
          provide: TypeOrmInbox,
          inject: [getDataSourceToken()],
          useFactory: (ds: DataSource) => new TypeOrmInbox(ds, { logger: nestLogger('Inbox') }),
        },
        {
          provide: OutboxRelay,
          inject: [getDataSourceToken(), Messaging],
          // A short lease: after a crash, the next instance takes over the outbox within seconds (renewed every
          // third of it while alive). OUTBOX_LEASE_MS tunes it.
          useFactory: (ds: DataSource, messaging: Messaging) =>
            new OutboxRelay(ds, messaging, {
              pollIntervalMs: 500,
              leaseMs: Number(process.env.OUTBOX_LEASE_MS ?? 5000),
              logger: nestLogger('Outbox'),
            }),
        },
        OutboxRelayLifecycle,
        InboxPruner,
      ],
      exports: [TypeOrmInbox, OutboxRelay, HEALTH_CHECKS],
    };
  }
}
