import type { Route } from '../router';
import type { RequestContext } from '../context';
import { queueTotals, visibleVhosts } from '../context';
import { notFound } from '../http';
import { processFds } from '../../util/process-fds';
import { vhostParam } from './objects';

const NODE = 'warren@localhost';
const startedAt = Date.now();

/** The one node, in the fields monitoring tools read from GET /api/nodes. */
function nodeJson(ctx: RequestContext) {
  const fds = processFds();
  return {
    name: NODE,
    type: 'disc',
    running: true,
    uptime: Date.now() - startedAt,
    mem_used: process.memoryUsage.rss(),
    mem_alarm: ctx.host.alarms.includes('memory'),
    disk_free_alarm: ctx.host.alarms.includes('disk'),
    fd_used: fds.used,
    fd_total: fds.total,
    sockets_used: ctx.host.connectionCount,
    proc_used: 1,
  };
}

// The overview and the health checks monitoring systems poll.

export const PRODUCT = { name: 'Warren', version: '0.1.0', rabbitmqVersion: '3.10.8' };

export const healthRoutes: Route<RequestContext>[] = [
  {
    method: 'GET',
    path: 'overview',
    access: 'management',
    handle: (ctx) => {
      const vhosts = visibleVhosts(ctx);
      const { queues, consumers, ready, unacknowledged } = queueTotals(ctx, vhosts);
      let exchanges = 0;
      for (const vhost of vhosts) exchanges += vhost.exchanges.size;
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
          object_totals: {
            connections: ctx.host.connectionCount,
            channels: ctx.host.channelCount,
            exchanges,
            queues,
            consumers,
          },
          queue_totals: {
            messages: ready + unacknowledged,
            messages_ready: ready,
            messages_unacknowledged: unacknowledged,
          },
          message_stats: ctx.rates.overallStats(),
          listeners: ctx.host.listeners.map((l) => ({
            node: 'warren@localhost',
            protocol: l.protocol,
            ip_address: '::',
            port: l.port,
          })),
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
  ...['alarms', 'local-alarms'].map((check): Route<RequestContext> => ({
    method: 'GET',
    path: `health/checks/${check}`,
    access: 'management',
    handle: (ctx) =>
      ctx.host.alarms.length === 0
        ? { status: 200, body: { status: 'ok' } }
        : {
            status: 503,
            body: {
              status: 'failed',
              reason: 'resource alarm(s) in effect in the cluster',
              alarms: ctx.host.alarms.map((resource) => ({ node: 'warren@localhost', resource })),
            },
          },
  })),
  {
    method: 'GET',
    path: 'health/checks/virtual-hosts',
    access: 'management',
    handle: () => ({ status: 200, body: { status: 'ok' } }),
  },
  {
    method: 'GET',
    path: 'health/checks/port-listener/:port',
    access: 'management',
    handle: (ctx, p) => {
      const ports = ctx.host.listeners.map((l) => l.port);
      const port = Number(p.port);
      return ports.includes(port)
        ? { status: 200, body: { status: 'ok', port } }
        : { status: 503, body: { status: 'failed', reason: 'No active listener', missing: port, ports } };
    },
  },
  { method: 'GET', path: 'nodes', access: 'monitoring', handle: (ctx) => ({ status: 200, body: [nodeJson(ctx)] }) },
  {
    method: 'GET',
    path: 'nodes/:name',
    access: 'monitoring',
    handle: (ctx, p) => {
      if (p.name !== NODE) throw notFound();
      return { status: 200, body: nodeJson(ctx) };
    },
  },
];
