// @warren/messaging/testing: the test harness. A separate entry, so production code (which imports
// '@warren/messaging') never loads it; only tests import this.
export * from './messaging-harness';
export * from './delete-topology';
export * from './record-messages';
