// @warren/messaging/testing: helpers for tests (the in-memory harness, a suite's recorded messages, deleting a
// queue's topology). A separate entry, so production code (which imports '@warren/messaging') never loads them.
export * from './messaging-harness';
export * from './delete-topology';
export * from './record-messages';
