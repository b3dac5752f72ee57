import { deadLetterQueueName, retryQueueName } from '@warren/messaging';
import { z } from 'zod';

/*
 * The graph the console draws, from four lists of the broker's management HTTP API (RabbitMQ's shapes, which
 * the bundled broker serves too): exchanges -> bindings -> queues -> consumers. Only the fields used here are
 * read; anything else in the documents is ignored, so either broker's extra fields do no harm.
 */

const rate = z.object({ rate: z.number() }).partial().optional();
const messageStats = z
  .object({ publish_in_details: rate, publish_details: rate, deliver_get_details: rate, ack_details: rate })
  .partial()
  .optional();

export const ManagementExchange = z.object({
  name: z.string(),
  vhost: z.string(),
  type: z.string(),
  internal: z.boolean().optional(),
  message_stats: messageStats,
});
export const ManagementQueue = z.object({
  name: z.string(),
  vhost: z.string(),
  messages_ready: z.number().optional(),
  messages_unacknowledged: z.number().optional(),
  consumers: z.number().optional(),
  arguments: z.record(z.string(), z.unknown()).optional(),
  message_stats: messageStats,
});
export const ManagementBinding = z.object({
  source: z.string(),
  vhost: z.string(),
  destination: z.string(),
  destination_type: z.enum(['queue', 'exchange']),
  routing_key: z.string(),
});
export const ManagementConsumer = z.object({
  queue: z.object({ name: z.string(), vhost: z.string() }),
  consumer_tag: z.string(),
  channel_details: z
    .object({ connection_name: z.string().optional(), name: z.string().optional() })
    .partial()
    .optional(),
});

export interface ManagementSnapshot {
  exchanges: unknown;
  queues: unknown;
  bindings: unknown;
  consumers: unknown;
  /** client_properties.connection_name (the service) by connection name, from /api/connections */
  connections?: unknown;
}

export const ManagementConnection = z.object({
  name: z.string(),
  client_properties: z.object({ connection_name: z.string().optional() }).partial().optional(),
});

export type QueueRole = 'work' | 'retry' | 'dead-letter' | 'other';

export interface TopologyExchange {
  id: string;
  name: string;
  type: string;
  /** messages a second published into it */
  publishRate: number;
}

export interface TopologyQueue {
  id: string;
  name: string;
  role: QueueRole;
  /** the work queue this one belongs to (itself for a work queue): retry and dead-letter queues group with it */
  group: string;
  ready: number;
  unacked: number;
  consumers: number;
  publishRate: number;
  deliverRate: number;
  ackRate: number;
}

export interface TopologyConsumer {
  id: string;
  queue: string;
  tag: string;
  /** who holds it: the connection's client-provided name (the service), else the connection's name */
  holder: string;
}

export interface TopologyEdge {
  id: string;
  from: string;
  to: string;
  kind: 'binding' | 'consumer';
  routingKey?: string;
  /**
   * Messages a second along the edge, when the API tells it: into a queue through its only binding, out of a
   * queue to its only consumer. With several, the API gives no split, so no figure is shown rather than a guess.
   */
  rate?: number;
}

export interface Topology {
  vhost: string;
  exchanges: TopologyExchange[];
  queues: TopologyQueue[];
  consumers: TopologyConsumer[];
  edges: TopologyEdge[];
  /** work queue -> its queues (the work queue first, then retry levels in order, then the dead-letter queue) */
  groups: Array<{ id: string; queues: string[] }>;
}

// the library's names read back (retryQueueName, deadLetterQueueName): which work queue a queue belongs to
const RETRY = /^(.*)\.retry\.(\d+)$/;
const DLQ = /^(.*)\.dlq$/;

/** Parses the four lists (throws a ZodError naming the first bad field) and builds the graph of one vhost. */
export function buildTopology(snapshot: ManagementSnapshot, vhost = '/'): Topology {
  const inVhost = <T extends { vhost: string }>(items: T[]) => items.filter((i) => i.vhost === vhost);
  const exchanges = inVhost(z.array(ManagementExchange).parse(snapshot.exchanges));
  const queues = inVhost(z.array(ManagementQueue).parse(snapshot.queues));
  const bindings = inVhost(z.array(ManagementBinding).parse(snapshot.bindings));
  const consumers = z
    .array(ManagementConsumer)
    .parse(snapshot.consumers)
    .filter((c) => c.queue.vhost === vhost);
  const connections = new Map(
    z
      .array(ManagementConnection)
      .parse(snapshot.connections ?? [])
      .map((c) => [c.name, c.client_properties?.connection_name]),
  );

  const queueNames = new Set(queues.map((q) => q.name));
  const baseOf = (name: string): { role: QueueRole; base: string } => {
    const retry = RETRY.exec(name);
    if (retry && queueNames.has(retry[1])) return { role: 'retry', base: retry[1] };
    const dlq = DLQ.exec(name);
    if (dlq && queueNames.has(dlq[1])) return { role: 'dead-letter', base: dlq[1] };
    return { role: 'other', base: name };
  };

  // every binding but the default exchange's implicit ones (it has no /api/bindings rows to draw anyway)
  const drawn = bindings.filter((b) => b.source !== '');
  const incoming = new Map<string, number>();
  for (const b of drawn)
    if (b.destination_type === 'queue') incoming.set(b.destination, (incoming.get(b.destination) ?? 0) + 1);
  const consumersOf = new Map<string, number>();
  for (const c of consumers) consumersOf.set(c.queue.name, (consumersOf.get(c.queue.name) ?? 0) + 1);

  const topoQueues: TopologyQueue[] = queues.map((q) => {
    const { role, base } = baseOf(q.name);
    // a queue with companions or consumers of its own is where work happens
    const isWork =
      role === 'other' &&
      (consumersOf.has(q.name) ||
        queueNames.has(deadLetterQueueName(q.name)) ||
        queueNames.has(retryQueueName(q.name, 1)));
    return {
      id: `queue:${q.name}`,
      name: q.name,
      role: isWork ? 'work' : role,
      group: base,
      ready: q.messages_ready ?? 0,
      unacked: q.messages_unacknowledged ?? 0,
      consumers: q.consumers ?? consumersOf.get(q.name) ?? 0,
      publishRate: q.message_stats?.publish_details?.rate ?? 0,
      deliverRate: q.message_stats?.deliver_get_details?.rate ?? 0,
      ackRate: q.message_stats?.ack_details?.rate ?? 0,
    };
  });
  const byName = new Map(topoQueues.map((q) => [q.name, q]));

  // exchanges: the named ones that route somewhere or are routed to (amq.* and the default stay out unless used)
  const usedExchanges = new Set(
    drawn.flatMap((b) => [b.source, ...(b.destination_type === 'exchange' ? [b.destination] : [])]),
  );
  const topoExchanges: TopologyExchange[] = exchanges
    .filter((e) => e.name !== '' && (usedExchanges.has(e.name) || !e.name.startsWith('amq.')))
    .map((e) => ({
      id: `exchange:${e.name}`,
      name: e.name,
      type: e.type,
      publishRate: e.message_stats?.publish_in_details?.rate ?? 0,
    }));

  const edges: TopologyEdge[] = drawn.map((b) => {
    const to = b.destination_type === 'queue' ? `queue:${b.destination}` : `exchange:${b.destination}`;
    const only = b.destination_type === 'queue' && incoming.get(b.destination) === 1;
    return {
      id: `binding:${b.source}->${to}:${b.routing_key}`,
      from: `exchange:${b.source}`,
      to,
      kind: 'binding',
      routingKey: b.routing_key,
      ...(only ? { rate: byName.get(b.destination)?.publishRate ?? 0 } : {}),
    };
  });

  const topoConsumers: TopologyConsumer[] = consumers.map((c) => {
    const connection = c.channel_details?.connection_name ?? '';
    return {
      id: `consumer:${c.queue.name}:${c.consumer_tag}`,
      queue: c.queue.name,
      tag: c.consumer_tag,
      holder: connections.get(connection) || connection || 'unknown',
    };
  });
  for (const c of topoConsumers) {
    const only = consumersOf.get(c.queue) === 1;
    edges.push({
      id: `consume:${c.id}`,
      from: `queue:${c.queue}`,
      to: c.id,
      kind: 'consumer',
      ...(only ? { rate: byName.get(c.queue)?.deliverRate ?? 0 } : {}),
    });
  }

  const members = new Map<string, TopologyQueue[]>();
  for (const q of topoQueues) members.set(q.group, [...(members.get(q.group) ?? []), q]);
  const order = (q: TopologyQueue) =>
    q.role === 'retry' ? Number(RETRY.exec(q.name)![2]) : q.role === 'dead-letter' ? Number.MAX_SAFE_INTEGER : 0;
  const groups = [...members.entries()]
    .filter(([, qs]) => qs.length > 1)
    .map(([id, qs]) => ({ id, queues: [...qs].sort((a, b) => order(a) - order(b)).map((q) => q.name) }))
    .sort((a, b) => a.id.localeCompare(b.id));

  return { vhost, exchanges: topoExchanges, queues: topoQueues, consumers: topoConsumers, edges, groups };
}
