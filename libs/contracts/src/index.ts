// @warren/contracts: every message that crosses a service boundary in Warren, defined once with its schema.
// Services import these; nothing else about another service is shared.
export * from './common';
export * from './orders';
export * from './inventory';
export * from './payments';
export * from './clickstream';
