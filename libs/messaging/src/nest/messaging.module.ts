import {
  Global,
  Inject,
  Logger,
  Module,
  type DynamicModule,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
  type Provider,
} from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { HealthIndicatorService } from '@nestjs/terminus';
import { Messaging } from '../core/messaging';
import { MessagingClient } from './client/messaging.client';
import { MessagingHealthIndicator } from './health/messaging.health-indicator';
import { HandlerFailureInterceptor } from './interceptors/handler-failure.interceptor';
import type {
  MessagingModuleAsyncOptions,
  MessagingModuleOptions,
} from './interfaces/messaging-module-options.interface';
import { MESSAGING_MODULE_OPTIONS } from './messaging.constants';
import { MessagingServer } from './server/messaging.server';

/**
 * The NestJS face of the library, global: provides the Messaging instance, MessagingClient, MessagingServer and
 * MessagingHealthIndicator. Messaging starts when the app bootstraps (as a global module, before the feature
 * modules' bootstrap hooks, so they can publish) and closes gracefully on shutdown: consumers stop, in-flight
 * handlers finish, then the connection closes. That happens in onModuleDestroy, which Nest calls on global
 * modules after the feature modules', and before any onApplicationShutdown (where TypeORM, for one, closes
 * the database the handlers still need). MessagingServer.listen() also starts Messaging, for apps that start
 * their microservices before init().
 *
 *   MessagingModule.forRoot({ url: process.env.AMQP_URL!, serviceName: 'payments', server: { queue: 'payments.order-placed' } })
 */
@Global()
@Module({})
export class MessagingModule implements OnApplicationBootstrap, OnModuleDestroy {
  constructor(@Inject(Messaging) private readonly messaging: Messaging) {}

  static forRoot(options: MessagingModuleOptions): DynamicModule {
    return MessagingModule.build({ provide: MESSAGING_MODULE_OPTIONS, useValue: options }, []);
  }

  static forRootAsync(options: MessagingModuleAsyncOptions): DynamicModule {
    return MessagingModule.build(
      { provide: MESSAGING_MODULE_OPTIONS, useFactory: options.useFactory, inject: options.inject ?? [] },
      options.imports ?? [],
    );
  }

  private static build(optionsProvider: Provider, imports: DynamicModule['imports']): DynamicModule {
    return {
      module: MessagingModule,
      global: true,
      imports,
      providers: [
        optionsProvider,
        {
          provide: Messaging,
          inject: [MESSAGING_MODULE_OPTIONS],
          useFactory: ({ server: _server, ...options }: MessagingModuleOptions) =>
            new Messaging({ ...options, logger: options.logger ?? new Logger('Messaging') }),
        },
        {
          provide: MessagingServer,
          inject: [Messaging, MESSAGING_MODULE_OPTIONS],
          useFactory: (messaging: Messaging, options: MessagingModuleOptions) =>
            new MessagingServer(messaging, options.server),
        },
        MessagingClient,
        HealthIndicatorService,
        MessagingHealthIndicator,
        { provide: APP_INTERCEPTOR, useClass: HandlerFailureInterceptor },
      ],
      exports: [Messaging, MessagingServer, MessagingClient, MessagingHealthIndicator],
    };
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.messaging.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.messaging.close();
  }
}
