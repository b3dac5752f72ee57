import type { AccessControl, UserRecord } from '../access/access-control';
import type { RabbitDefinitions } from '../access/definitions-file';
import type { Connection } from '../connection/connection';
import type { Metrics } from '../metrics';
import type { RateSampler } from './rates';
import type { Authorize, VirtualHost } from '../vhost/vhost';
import { resourceName } from '../access/access-control';
import { notAuthorised } from './http';

/** What the management API reads from the broker; the broker implements it. */
export interface ManagementHost {
  readonly access: AccessControl;
  readonly vhosts: ReadonlyMap<string, VirtualHost>;
  readonly connectionCount: number;
  readonly channelCount: number;
  /** Unacknowledged deliveries per queue, over every connection. */
  unackedCounts(): Map<object, number>;
  /** Resource alarms in force ('memory', 'disk'). */
  readonly alarms: readonly string[];
  /** The listeners, as overview lists them. */
  readonly listeners: { protocol: string; port: number }[];
  addVhost(name: string): VirtualHost;
  deleteVhost(name: string): boolean;
  importDefinitions(defs: RabbitDefinitions): void;
  /** Open client connections. */
  connectionList(): Connection[];
  readonly metrics: Metrics;
  /** Users, vhosts, permissions or policies changed: keep them across a restart. */
  saveAccess(): void;
}

export interface RequestContext {
  host: ManagementHost;
  rates: RateSampler;
  user: UserRecord;
  /** The JSON body (an object), read on demand. */
  body(): Promise<Record<string, unknown>>;
  /** A request header by its lower-case name (undefined when absent; an empty header is ''). */
  header(name: string): string | undefined;
}

/** Tags that see every vhost (others see the vhosts they have a permission in). */
export function seesAll(user: UserRecord): boolean {
  return user.tags.includes('administrator') || user.tags.includes('monitoring');
}

export function visibleVhosts(ctx: RequestContext): VirtualHost[] {
  const all = [...ctx.host.vhosts.values()];
  return seesAll(ctx.user) ? all : all.filter((v) => ctx.host.access.mayAccessVhost(ctx.user.name, v.name));
}

/** The user's permissions in `vhost`, checked where the AMQP operation behind a route checks them. */
export function authorizeFor(ctx: RequestContext, vhost: VirtualHost): Authorize {
  return (kind, type, name) => {
    if (!ctx.host.access.permits(ctx.user.name, vhost.name, kind, resourceName(type, name)))
      throw notAuthorised('Access refused.');
  };
}

/** Ready and unacknowledged messages and consumers over `vhosts` (overview, vhost listings). */
export function queueTotals(ctx: RequestContext, vhosts: Iterable<VirtualHost>) {
  const unacked = ctx.host.unackedCounts();
  const totals = { queues: 0, consumers: 0, ready: 0, unacknowledged: 0 };
  for (const vhost of vhosts) {
    for (const queue of vhost.queues.values()) {
      totals.queues++;
      totals.consumers += queue.consumerCount;
      totals.ready += queue.messageCount;
      totals.unacknowledged += unacked.get(queue) ?? 0;
    }
  }
  return totals;
}
