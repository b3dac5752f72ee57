// @warren/service-kit: what every Warren service starts with (environment, its own database, messaging with
// inbox and outbox, health, request validation). Small on purpose: services share messages, not code paths.
export * from './env';
export * from './database';
export * from './zod.pipes';
export * from './admin-auth';
export * from './topology-names';
export * from './service.module';
export * from './start-service';
export * from './redis.module';
export * from './logging';
export * from './telemetry';
export * from './prometheus-text';
export { HttpMetricsMiddleware, MetricsController, TELEMETRY } from './http-metrics';
