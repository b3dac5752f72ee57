export * from './messaging.error';
export * from './non-retryable.error';
export * from './retry-until.error';
export * from './validation.error';
export * from './unroutable.error';
export * from './broker-unavailable.error';
export * from './publish-nacked.error';
export * from './rpc.error';
