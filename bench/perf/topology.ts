// Queues (and optionally an exchange) for a perf run: declared on an admin connection before the clients
// start, deleted afterwards when the tool named them itself.

import { randomBytes } from 'node:crypto';
import {
  EXCHANGE_DECLARE,
  EXCHANGE_DECLARE_OK,
  QUEUE_BIND,
  QUEUE_BIND_OK,
  QUEUE_DECLARE,
  QUEUE_DECLARE_OK,
  QUEUE_DELETE,
  QUEUE_DELETE_OK,
} from '@warren/amqp-protocol';
import type { Channel } from './client';

export interface TopologyOptions {
  /** Queue name, or base name when there are several queues; generated (and deleted at the end) when absent. */
  queue?: string;
  queues: number;
  durable: boolean;
  /** '' = the default exchange (routing key = queue name); otherwise a direct exchange, declared unless amq.*. */
  exchange: string;
}

export interface Topology {
  queues: string[];
  exchange: string;
  /** Routing key of each queue (its name). */
  routingKeys: string[];
  /** Whether teardown deletes the queues (the tool named them). */
  owned: boolean;
}

export function queueNames(options: Pick<TopologyOptions, 'queue' | 'queues'>): { names: string[]; owned: boolean } {
  const owned = options.queue === undefined || options.queue === '';
  const base = owned ? `perf-${process.pid}-${randomBytes(3).toString('hex')}` : (options.queue as string);
  const names = options.queues <= 1 ? [base] : Array.from({ length: options.queues }, (_, i) => `${base}-${i + 1}`);
  return { names, owned };
}

/** Declares the queues (and exchange + bindings) on `ch`. */
export async function declareTopology(ch: Channel, options: TopologyOptions): Promise<Topology> {
  const { names, owned } = queueNames(options);
  const empty = new Map();
  if (options.exchange !== '' && !options.exchange.startsWith('amq.')) {
    await ch.rpc(
      EXCHANGE_DECLARE,
      { exchange: options.exchange, type: 'direct', durable: options.durable, arguments: empty },
      EXCHANGE_DECLARE_OK,
    );
  }
  for (const queue of names) {
    await ch.rpc(
      QUEUE_DECLARE,
      { queue, durable: options.durable, exclusive: false, autoDelete: false, arguments: empty },
      QUEUE_DECLARE_OK,
    );
    if (options.exchange !== '') {
      await ch.rpc(
        QUEUE_BIND,
        { queue, exchange: options.exchange, routingKey: queue, arguments: empty },
        QUEUE_BIND_OK,
      );
    }
  }
  return { queues: names, exchange: options.exchange, routingKeys: names, owned };
}

/** Deletes the queues the tool named itself; the caller's own queues stay. */
export async function deleteTopology(ch: Channel, topology: Topology): Promise<void> {
  if (!topology.owned) return;
  for (const queue of topology.queues) {
    await ch.rpc(QUEUE_DELETE, { queue, ifUnused: false, ifEmpty: false }, QUEUE_DELETE_OK);
  }
}

/**
 * Which queues consumer `index` (of `consumers`) reads: with more queues than consumers each queue gets
 * exactly one consumer; with fewer, consumers share queues round-robin.
 */
export function queuesOfConsumer(queues: string[], index: number, consumers: number): string[] {
  if (queues.length >= consumers) return queues.filter((_, q) => q % consumers === index);
  return [queues[index % queues.length]];
}
