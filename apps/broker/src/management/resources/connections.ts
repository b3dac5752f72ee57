import { ReplyCode } from '@warren/amqp-protocol';
import { replyText } from '../../errors';
import type { Connection } from '../../connection/connection';
import { notFound } from '../http';
import type { Route } from '../router';
import { seesAll, type RequestContext } from '../context';
import { argumentsJson } from './json';
import { vhostParam } from './objects';

// Connections, channels and consumers, as RabbitMQ lists them. Users without the monitoring or administrator
// tag see their own connections only.

function connections(ctx: RequestContext): Connection[] {
  return ctx.host
    .connectionList()
    .filter((c) => c.state === 'running' && (seesAll(ctx.user) || c.user === ctx.user.name));
}

function named(ctx: RequestContext, name: string): Connection {
  const found = connections(ctx).find((c) => c.info().name === name);
  if (!found) throw notFound();
  return found;
}

function channelsOf(connection: Connection) {
  const info = connection.info();
  return connection.channelList().map((channel) => channel.info(info));
}

function consumersOf(ctx: RequestContext, vhostName?: string) {
  const out = [];
  for (const connection of connections(ctx)) {
    if (vhostName !== undefined && connection.vhost?.name !== vhostName) continue;
    const info = connection.info();
    for (const channel of connection.channelList()) {
      for (const consumer of channel.consumerList()) {
        out.push({
          consumer_tag: consumer.tag,
          queue: { name: consumer.queue.name, vhost: connection.vhost.name },
          channel_details: {
            name: `${info.name} (${channel.id})`,
            number: channel.id,
            connection_name: info.name,
            peer_host: info.peer_host,
            peer_port: info.peer_port,
            user: info.user,
          },
          ack_required: !consumer.noAck,
          exclusive: consumer.exclusive,
          prefetch_count: consumer.prefetch,
          active: true,
          activity_status: 'up',
          arguments: argumentsJson(
            consumer.priority === 0
              ? new Map()
              : new Map([['x-priority', { type: 'I' as const, value: consumer.priority }]]),
          ),
        });
      }
    }
  }
  return out;
}

export const connectionRoutes: Route<RequestContext>[] = [
  {
    method: 'GET',
    path: 'connections',
    access: 'management',
    handle: (ctx) => ({ status: 200, body: connections(ctx).map((c) => c.info()) }),
  },
  {
    method: 'GET',
    path: 'vhosts/:vhost/connections',
    access: 'management',
    handle: (ctx, p) => {
      const vhost = vhostParam(ctx, p.vhost);
      return {
        status: 200,
        body: connections(ctx)
          .filter((c) => c.vhost === vhost)
          .map((c) => c.info()),
      };
    },
  },
  {
    method: 'GET',
    path: 'connections/:name',
    access: 'management',
    handle: (ctx, p) => ({ status: 200, body: named(ctx, p.name).info() }),
  },
  {
    method: 'DELETE',
    path: 'connections/:name',
    access: 'management',
    handle: (ctx, p) => {
      // as RabbitMQ: the X-Reason header is the text the client gets (verbatim, even empty), and without one
      // the management plugin's own words
      const reason = ctx.header('x-reason') ?? 'Closed via management plugin';
      named(ctx, p.name).close(ReplyCode.CONNECTION_FORCED, replyText(ReplyCode.CONNECTION_FORCED, reason));
      return { status: 204 };
    },
  },
  {
    method: 'GET',
    path: 'connections/:name/channels',
    access: 'management',
    handle: (ctx, p) => ({ status: 200, body: channelsOf(named(ctx, p.name)) }),
  },
  {
    method: 'GET',
    path: 'channels',
    access: 'management',
    handle: (ctx) => ({ status: 200, body: connections(ctx).flatMap(channelsOf) }),
  },
  {
    method: 'GET',
    path: 'consumers',
    access: 'management',
    handle: (ctx) => ({ status: 200, body: consumersOf(ctx) }),
  },
  {
    method: 'GET',
    path: 'consumers/:vhost',
    access: 'management',
    handle: (ctx, p) => ({ status: 200, body: consumersOf(ctx, vhostParam(ctx, p.vhost).name) }),
  },
];
