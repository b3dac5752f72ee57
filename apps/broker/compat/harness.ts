/*
 * Harness for the side-by-side compatibility scenarios.
 *
 * A scenario is a small amqplib (or raw-socket) program that exercises one
 * behaviour and returns an *outcome*: plain data describing what was observed.
 * The runner (compat.spec.ts) runs every scenario against each broker target,
 * normalises the outcomes (server-generated names, consumer tags, timestamps,
 * the per-run name prefix) and checks (1) the scenario's own expectations and
 * (2) that both brokers produced deep-equal outcomes.
 *
 * This module is what scenarios import; each concept lives in its own file.
 */
export * from './scenario';
export * from './outcomes';
export * from './normalise';
export * from './timing';
export * from './amqplib-connection';
export * from './context';
export * from './consuming';
export * from './routing';
export * from './raw-socket';
export { RawClient, rawFrame, type Frame, type CloseOutcome } from '../test/support/raw-client';
