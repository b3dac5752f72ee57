import type { EventEmitter } from 'node:events';

/** Counters a service can expose (e.g. on /metrics or /health details). */
export interface MessagingCounters {
  published: number;
  consumed: number;
  acked: number;
  retried: number;
  deadLettered: number;
  reconnections: number;
  /** Times publishing paused for the socket to drain. */
  backpressureWaits: number;
  /** Channels (publisher, consumer, RPC) the broker closed under a live connection, and how many came back. */
  channelsClosed: number;
  channelRecoveryFailures: number;
  channelsRecovered: number;
}

export function countEvents(emitter: EventEmitter): MessagingCounters {
  const c: MessagingCounters = {
    published: 0,
    consumed: 0,
    acked: 0,
    retried: 0,
    deadLettered: 0,
    reconnections: 0,
    backpressureWaits: 0,
    channelsClosed: 0,
    channelRecoveryFailures: 0,
    channelsRecovered: 0,
  };
  emitter.on('published', () => c.published++);
  emitter.on('consumed', () => c.consumed++);
  emitter.on('acked', () => c.acked++);
  emitter.on('retried', () => c.retried++);
  emitter.on('dead-lettered', () => c.deadLettered++);
  emitter.on('disconnected', () => c.reconnections++);
  emitter.on('backpressure', () => c.backpressureWaits++);
  emitter.on('channel-closed', () => c.channelsClosed++);
  emitter.on('channel-recovery-failed', () => c.channelRecoveryFailures++);
  emitter.on('channel-recovered', () => c.channelsRecovered++);
  return c;
}
