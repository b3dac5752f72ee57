// @warren/service-kit: what every Warren service starts with (environment, its own database, request
// validation). Small on purpose: services share messages, not code paths.
export * from './env';
export * from './database';
export * from './zod-body.pipe';
