// @warren/messaging/nest: the NestJS integration. A separate entry point so that the core (@warren/messaging)
// loads without NestJS installed.
export * from './messaging.constants';
export * from './messaging.module';
export * from './interfaces/messaging-module-options.interface';
export * from './interfaces/messaging-server-options.interface';
export * from './interfaces/messaging-pattern-extras.interface';
export * from './server/messaging.server';
export * from './client/messaging.client';
export * from './ctx-host/messaging.context';
export * from './health/messaging.health-indicator';
export * from './interceptors/handler-failure.interceptor';
