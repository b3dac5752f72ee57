export * from './messaging-harness';
