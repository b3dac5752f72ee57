import { processFds } from './util/process-fds';
import { createServer, Server } from 'node:http';
import type { ManagementHost } from './management/context';
import type { Metrics } from './metrics';
import { closeHttp, listen } from './util/listen';

/**
 * GET /metrics (totals) and /metrics/per-object (per queue), in Prometheus's text format with
 * rabbitmq_prometheus's names, types and labels for what the broker has, so the queries and dashboards written
 * for RabbitMQ work against it unchanged.
 */
export interface PrometheusHost extends ManagementHost {
  readonly metrics: Metrics;
}

type Kind = 'gauge' | 'counter' | 'untyped';

class Exposition {
  private readonly lines: string[] = [];

  add(name: string, kind: Kind, help: string, samples: [labels: Record<string, string>, value: number][]): void {
    this.lines.push(`# TYPE ${name} ${kind}`, `# HELP ${name} ${help}`);
    for (const [labels, value] of samples) {
      const keys = Object.entries(labels);
      const text = keys.length
        ? `{${keys.map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`).join(',')}}`
        : '';
      this.lines.push(`${name}${text} ${value}`);
    }
  }

  toString(): string {
    return `${this.lines.join('\n')}\n`;
  }
}

const AMQP = { protocol: 'amqp091' };
const CLASSIC = { protocol: 'amqp091', queue_type: 'rabbit_classic_queue' };

export function exposition(host: PrometheusHost, perObject: boolean): string {
  const out = new Exposition();
  const m = host.metrics;
  const unacked = host.unackedCounts();
  const queues = [...host.vhosts.values()].flatMap((vhost) =>
    [...vhost.queues.values()].map((queue) => ({ vhost: vhost.name, queue })),
  );
  let consumers = 0;
  for (const { queue } of queues) consumers += queue.consumerCount;
  out.add('rabbitmq_identity_info', 'untyped', 'RabbitMQ node & cluster identity info', [
    [{ rabbitmq_node: 'warren@localhost', rabbitmq_cluster: 'warren@localhost' }, 1],
  ]);
  out.add('rabbitmq_connections', 'gauge', 'Connections currently open', [[{}, host.connectionCount]]);
  out.add('rabbitmq_channels', 'gauge', 'Channels currently open', [[{}, host.channelCount]]);
  out.add('rabbitmq_consumers', 'gauge', 'Consumers currently connected', [[{}, consumers]]);
  out.add('rabbitmq_queues', 'gauge', 'Queues available', [[{}, queues.length]]);
  out.add('rabbitmq_connections_opened_total', 'counter', 'Total number of connections opened', [
    [{}, m.connectionsOpened],
  ]);
  out.add('rabbitmq_connections_closed_total', 'counter', 'Total number of connections closed or terminated', [
    [{}, m.connectionsClosed],
  ]);
  const perQueue = (value: (q: (typeof queues)[number]) => number): [Record<string, string>, number][] =>
    perObject
      ? queues.map((q) => [{ vhost: q.vhost, queue: q.queue.name }, value(q)])
      : [[{}, queues.reduce((sum, q) => sum + value(q), 0)]];
  out.add(
    'rabbitmq_queue_messages_ready',
    'gauge',
    'Messages ready to be delivered to consumers',
    perQueue((q) => q.queue.messageCount),
  );
  out.add(
    'rabbitmq_queue_messages_unacked',
    'gauge',
    'Messages delivered to consumers but not yet acknowledged',
    perQueue((q) => unacked.get(q.queue) ?? 0),
  );
  out.add(
    'rabbitmq_queue_messages',
    'gauge',
    'Sum of ready and unacknowledged messages - total queue depth',
    perQueue((q) => q.queue.messageCount + (unacked.get(q.queue) ?? 0)),
  );
  out.add(
    'rabbitmq_queue_messages_ready_bytes',
    'gauge',
    'Size in bytes of ready messages',
    perQueue((q) => q.queue.store.bytes),
  );
  if (perObject)
    out.add(
      'rabbitmq_queue_consumers',
      'gauge',
      'Consumers on a queue',
      perQueue((q) => q.queue.consumerCount),
    );
  out.add('rabbitmq_global_messages_received_total', 'counter', 'Total number of messages received from publishers', [
    [AMQP, m.received],
  ]);
  out.add('rabbitmq_global_messages_routed_total', 'counter', 'Total number of messages routed to queues or streams', [
    [AMQP, m.routed],
  ]);
  out.add(
    'rabbitmq_global_messages_unroutable_returned_total',
    'counter',
    'Total number of messages published as mandatory into an exchange and returned to the publisher as unroutable',
    [[AMQP, m.unroutableReturned]],
  );
  out.add(
    'rabbitmq_global_messages_unroutable_dropped_total',
    'counter',
    'Total number of messages published as non-mandatory into an exchange and dropped as unroutable',
    [[AMQP, m.unroutableDropped]],
  );
  out.add('rabbitmq_global_messages_confirmed_total', 'counter', 'Total number of messages confirmed to publishers', [
    [AMQP, m.confirmed],
  ]);
  out.add('rabbitmq_global_messages_delivered_total', 'counter', 'Total number of messages delivered to consumers', [
    [CLASSIC, m.delivered],
  ]);
  out.add(
    'rabbitmq_global_messages_redelivered_total',
    'counter',
    'Total number of messages redelivered to consumers',
    [[CLASSIC, m.redelivered]],
  );
  out.add(
    'rabbitmq_global_messages_acknowledged_total',
    'counter',
    'Total number of messages acknowledged by consumers',
    [[CLASSIC, m.acknowledged]],
  );
  out.add('rabbitmq_process_resident_memory_bytes', 'gauge', 'Memory used in bytes', [[{}, process.memoryUsage.rss()]]);
  const fds = processFds();
  out.add('rabbitmq_process_open_fds', 'gauge', 'Open file descriptors', [[{}, fds.used]]);
  out.add('rabbitmq_process_max_fds', 'gauge', 'Open file descriptors limit', [[{}, fds.total]]);
  out.add('rabbitmq_alarms_memory_used_watermark', 'untyped', 'is 1 if VM memory watermark alarm is in effect', [
    [{}, host.alarms.includes('memory') ? 1 : 0],
  ]);
  out.add(
    'rabbitmq_alarms_free_disk_space_watermark',
    'untyped',
    'is 1 if free disk space watermark alarm is in effect',
    [[{}, host.alarms.includes('disk') ? 1 : 0]],
  );
  return out.toString();
}

export class PrometheusServer {
  private server: Server | undefined;

  constructor(private readonly host: PrometheusHost) {}

  async listen(port: number, hostname?: string): Promise<number> {
    const server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      if (req.method !== 'GET' || (path !== '/metrics' && path !== '/metrics/per-object')) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
        return;
      }
      const body = exposition(this.host, path === '/metrics/per-object');
      res
        .writeHead(200, { 'content-type': 'text/plain; version=0.0.4', 'content-length': Buffer.byteLength(body) })
        .end(body);
    });
    this.server = server;
    return listen(server, port, hostname);
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await closeHttp(server);
  }
}
