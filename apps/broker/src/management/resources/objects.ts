import { notFound } from '../http';
import type { Route } from '../router';
import { authorizeFor, visibleVhosts, type RequestContext } from '../context';
import type { Queue } from '../../queue/queue';
import type { Exchange } from '../../exchange';
import type { VirtualHost } from '../../vhost/vhost';
import { argumentsJson } from './json';

// Queues, exchanges and bindings: read-only views of what clients declared (GET /api/queues … /bindings).

const NODE = 'warren@localhost';

function queueJson(ctx: RequestContext, vhost: VirtualHost, queue: Queue, unacked: Map<object, number>) {
  const unacknowledged = unacked.get(queue) ?? 0;
  const stats = ctx.rates.queueStats(queue);
  return {
    ...(stats ? { message_stats: stats } : {}),
    name: queue.name,
    vhost: vhost.name,
    type: queue.quorum ? 'quorum' : 'classic',
    // a quorum queue on one node: its only member leads (RabbitMQ adds these three for quorum queues), and the
    // messages waiting for at-least-once dead-lettering
    ...(queue.quorum
      ? {
          leader: NODE,
          members: [NODE],
          online: [NODE],
          messages_dlx: queue.deadLetterPending.count,
          message_bytes_dlx: queue.deadLetterPending.bytes,
        }
      : {}),
    durable: queue.options.durable,
    auto_delete: queue.options.autoDelete,
    exclusive: queue.options.exclusive,
    arguments: argumentsJson(queue.options.arguments),
    node: NODE,
    state: 'running',
    consumers: queue.consumerCount,
    messages: queue.messageCount + unacknowledged,
    messages_ready: queue.messageCount,
    messages_unacknowledged: unacknowledged,
    message_bytes_ready: queue.store.bytes,
    // the bodies it holds: what a queue's memory mostly is
    memory: queue.store.bytes,
    policy: queue.policy ?? null,
    effective_policy_definition: queue.policyDefinition ?? {},
  };
}

function exchangeJson(vhost: VirtualHost, exchange: Exchange) {
  return {
    name: exchange.name,
    vhost: vhost.name,
    type: exchange.type,
    durable: exchange.options.durable,
    auto_delete: exchange.options.autoDelete,
    internal: exchange.options.internal,
    arguments: argumentsJson(exchange.options.arguments),
    user_who_performed_action: 'rmq-internal',
    policy: exchange.policy ?? null,
  };
}

function bindingsOf(vhost: VirtualHost) {
  const out = [];
  // the default exchange's implicit binding to every queue comes first, as RabbitMQ lists it
  for (const queue of vhost.queues.values())
    out.push({
      source: '',
      vhost: vhost.name,
      destination: queue.name,
      destination_type: 'queue',
      routing_key: queue.name,
      arguments: {},
      properties_key: queue.name,
    });
  for (const exchange of vhost.exchanges.values()) {
    for (const b of exchange.bindings.values()) {
      out.push({
        source: exchange.name,
        vhost: vhost.name,
        destination: b.destination.name,
        destination_type: b.destination.kind,
        routing_key: b.routingKey,
        arguments: argumentsJson(b.arguments),
        properties_key: b.arguments.size === 0 ? b.routingKey || '~' : `${b.routingKey}~${b.id.length}`,
      });
    }
  }
  return out;
}

/** The vhost named in the path, if the user may see it; otherwise 404, as RabbitMQ answers. */
export function vhostParam(ctx: RequestContext, name: string): VirtualHost {
  const vhost = visibleVhosts(ctx).find((v) => v.name === name);
  if (!vhost) throw notFound();
  return vhost;
}

/** The queue named in the path, in a vhost the user may see; otherwise 404. */
export function queueParam(ctx: RequestContext, p: Record<string, string>): { vhost: VirtualHost; queue: Queue } {
  const vhost = vhostParam(ctx, p.vhost);
  const queue = vhost.queues.get(p.name);
  if (!queue) throw notFound();
  return { vhost, queue };
}

const byName = <T extends { name: string }>(items: T[]) =>
  items.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

export const objectRoutes: Route<RequestContext>[] = [
  {
    method: 'GET',
    path: 'queues',
    access: 'management',
    handle: (ctx) => {
      const unacked = ctx.host.unackedCounts();
      return {
        status: 200,
        body: visibleVhosts(ctx).flatMap((v) =>
          byName([...v.queues.values()].map((q) => queueJson(ctx, v, q, unacked))),
        ),
      };
    },
  },
  {
    method: 'GET',
    path: 'queues/:vhost',
    access: 'management',
    handle: (ctx, p) => {
      const vhost = vhostParam(ctx, p.vhost);
      const unacked = ctx.host.unackedCounts();
      return { status: 200, body: byName([...vhost.queues.values()].map((q) => queueJson(ctx, vhost, q, unacked))) };
    },
  },
  {
    method: 'GET',
    path: 'queues/:vhost/:name',
    access: 'management',
    handle: (ctx, p) => {
      const { vhost, queue } = queueParam(ctx, p);
      return { status: 200, body: queueJson(ctx, vhost, queue, ctx.host.unackedCounts()) };
    },
  },
  {
    method: 'GET',
    path: 'exchanges',
    access: 'management',
    handle: (ctx) => ({
      status: 200,
      body: visibleVhosts(ctx).flatMap((v) => byName([...v.exchanges.values()].map((x) => exchangeJson(v, x)))),
    }),
  },
  {
    method: 'GET',
    path: 'exchanges/:vhost',
    access: 'management',
    handle: (ctx, p) => {
      const vhost = vhostParam(ctx, p.vhost);
      return { status: 200, body: byName([...vhost.exchanges.values()].map((x) => exchangeJson(vhost, x))) };
    },
  },
  {
    method: 'GET',
    path: 'exchanges/:vhost/:name',
    access: 'management',
    handle: (ctx, p) => {
      const vhost = vhostParam(ctx, p.vhost);
      // the default exchange is addressed as amq.default
      const exchange = vhost.exchanges.get(p.name === 'amq.default' ? '' : p.name);
      if (!exchange) throw notFound();
      return { status: 200, body: exchangeJson(vhost, exchange) };
    },
  },
  {
    method: 'GET',
    path: 'bindings',
    access: 'management',
    handle: (ctx) => ({ status: 200, body: visibleVhosts(ctx).flatMap(bindingsOf) }),
  },
  {
    method: 'GET',
    path: 'bindings/:vhost',
    access: 'management',
    handle: (ctx, p) => ({ status: 200, body: bindingsOf(vhostParam(ctx, p.vhost)) }),
  },
  {
    method: 'GET',
    path: 'queues/:vhost/:name/bindings',
    access: 'management',
    handle: (ctx, p) => {
      const { vhost, queue } = queueParam(ctx, p);
      return {
        status: 200,
        body: bindingsOf(vhost).filter((b) => b.destination_type === 'queue' && b.destination === queue.name),
      };
    },
  },
  ...(['source', 'destination'] as const).map((side): Route<RequestContext> => ({
    method: 'GET',
    path: `exchanges/:vhost/:name/bindings/${side}`,
    access: 'management',
    handle: (ctx, p) => {
      const vhost = vhostParam(ctx, p.vhost);
      if (!vhost.exchanges.has(p.name)) throw notFound();
      const mine = (b: ReturnType<typeof bindingsOf>[number]) =>
        side === 'source'
          ? b.source === p.name && p.name !== ''
          : b.destination_type === 'exchange' && b.destination === p.name;
      return { status: 200, body: bindingsOf(vhost).filter(mine) };
    },
  })),
  ...(['q', 'e'] as const).flatMap((kind): Route<RequestContext>[] => {
    const between = (ctx: RequestContext, p: Record<string, string>) =>
      bindingsOf(vhostParam(ctx, p.vhost)).filter(
        (b) =>
          b.source === p.source &&
          b.destination === p.destination &&
          b.destination_type === (kind === 'q' ? 'queue' : 'exchange'),
      );
    return [
      {
        method: 'GET',
        path: `bindings/:vhost/e/:source/${kind}/:destination`,
        access: 'management',
        handle: (ctx, p) => ({ status: 200, body: between(ctx, p) }),
      },
      {
        method: 'GET',
        path: `bindings/:vhost/e/:source/${kind}/:destination/:props`,
        access: 'management',
        handle: (ctx, p) => {
          const found = between(ctx, p).find((b) => b.properties_key === p.props);
          if (!found) throw notFound();
          return { status: 200, body: found };
        },
      },
      {
        method: 'DELETE',
        path: `bindings/:vhost/e/:source/${kind}/:destination/:props`,
        access: 'management',
        handle: (ctx, p) => {
          const vhost = vhostParam(ctx, p.vhost);
          const found = between(ctx, p).find((b) => b.properties_key === p.props);
          if (!found) throw notFound();
          const args = vhost.exchanges.get(p.source)?.bindings;
          const binding = [...(args?.values() ?? [])].find(
            (b) => b.destination.name === p.destination && b.routingKey === found.routing_key,
          );
          if (!binding) throw notFound();
          const authorize = authorizeFor(ctx, vhost);
          authorize('write', kind === 'q' ? 'queue' : 'exchange', p.destination);
          authorize('read', 'exchange', p.source);
          if (kind === 'q')
            vhost.unbindQueue(
              p.destination,
              p.source,
              binding.routingKey,
              binding.arguments,
              vhost.queues.get(p.destination)?.owner ?? {},
            );
          else vhost.unbindExchange(p.destination, p.source, binding.routingKey, binding.arguments);
          return { status: 204 };
        },
      },
    ];
  }),
  {
    method: 'DELETE',
    path: 'queues/:vhost/:name',
    access: 'management',
    handle: (ctx, p) => {
      const vhost = vhostParam(ctx, p.vhost);
      if (!vhost.queues.has(p.name)) throw notFound();
      authorizeFor(ctx, vhost)('configure', 'queue', p.name);
      const queue = vhost.queues.get(p.name);
      vhost.deleteQueue(p.name, queue?.owner ?? {}, false, false);
      return { status: 204 };
    },
  },
];
