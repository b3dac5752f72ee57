// @warren/messaging: the public API. Everything a service uses is exported here; deep imports fail lint.
export * from './errors';
export * from './contracts/define-message';
export * from './core';
export * from './testing';
export * from './dlq';
