import type { Route } from '../router';
import type { RequestContext } from '../context';
import { visibleVhosts } from '../context';
import { vhostParam } from './objects';

// The overview and the health checks monitoring systems poll.

export const PRODUCT = { name: 'Warren', version: '0.1.0', rabbitmqVersion: '3.10.8' };

export const healthRoutes: Route<RequestContext>[] = [
  {
    method: 'GET',
    path: 'overview',
    access: 'management',
    handle: (ctx) => {
      const vhosts = visibleVhosts(ctx);
      const unacked = ctx.host.unackedCounts();
      let ready = 0;
      let unacknowledged = 0;
      let queues = 0;
      let exchanges = 0;
      let consumers = 0;
      for (const vhost of vhosts) {
        exchanges += vhost.exchanges.size;
        for (const queue of vhost.queues.values()) {
          queues++;
          consumers += queue.consumerCount;
          ready += queue.messageCount;
          unacknowledged += unacked.get(queue) ?? 0;
        }
      }
      return {
        status: 200,
        body: {
          management_version: PRODUCT.rabbitmqVersion,
          // the RabbitMQ version whose behaviour the broker reproduces, for tools that check it
          rabbitmq_version: PRODUCT.rabbitmqVersion,
          product_name: PRODUCT.name,
          product_version: PRODUCT.version,
          erlang_version: 'none',
          cluster_name: 'warren@localhost',
          node: 'warren@localhost',
          object_totals: { connections: ctx.host.connectionCount, channels: ctx.host.channelCount, exchanges, queues, consumers },
          queue_totals: { messages: ready + unacknowledged, messages_ready: ready, messages_unacknowledged: unacknowledged },
          message_stats: ctx.rates.overallStats(),
          listeners: ctx.host.listeners.map((l) => ({ node: 'warren@localhost', protocol: l.protocol, ip_address: '::', port: l.port })),
        },
      };
    },
  },
  {
    method: 'GET',
    path: 'aliveness-test/:vhost',
    access: 'management',
    handle: (ctx, p) => {
      vhostParam(ctx, p.vhost);
      return { status: 200, body: { status: 'ok' } };
    },
  },
  ...['alarms', 'local-alarms'].map(
    (check): Route<RequestContext> => ({
      method: 'GET',
      path: `health/checks/${check}`,
      access: 'monitoring',
      handle: (ctx) =>
        ctx.host.alarms.length === 0
          ? { status: 200, body: { status: 'ok' } }
          : { status: 503, body: { status: 'failed', reason: 'resource alarm(s) in effect in the cluster', alarms: ctx.host.alarms.map((resource) => ({ node: 'warren@localhost', resource })) } },
    }),
  ),
  { method: 'GET', path: 'health/checks/virtual-hosts', access: 'monitoring', handle: () => ({ status: 200, body: { status: 'ok' } }) },
];
