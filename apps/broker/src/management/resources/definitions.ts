import { DefinitionsError, parseDefinitions } from '../../access/definitions-file';
import { badRequest } from '../http';
import type { Route } from '../router';
import type { RequestContext } from '../context';
import type { VirtualHost } from '../../vhost/vhost';
import { argumentsJson } from './json';
import { PRODUCT } from './health';
import { vhostParam } from './objects';
import { policyJson } from './policies';

// GET and POST /api/definitions: RabbitMQ's definitions JSON, so an export from either broker imports into the
// other. Exported as RabbitMQ exports them: every queue but exclusive ones, every exchange but the default
// and amq.* ones, and the bindings between them.

function topology(vhost: VirtualHost) {
  const queues = [...vhost.queues.values()]
    .filter((q) => !q.options.exclusive)
    .map((q) => ({
      name: q.name,
      vhost: vhost.name,
      durable: q.options.durable,
      auto_delete: q.options.autoDelete,
      arguments: argumentsJson(q.options.arguments),
    }));
  const exchanges = [...vhost.exchanges.values()]
    .filter((x) => x.name !== '' && !x.name.startsWith('amq.'))
    .map((x) => ({
      name: x.name,
      vhost: vhost.name,
      type: x.type,
      durable: x.options.durable,
      auto_delete: x.options.autoDelete,
      internal: x.options.internal,
      arguments: argumentsJson(x.options.arguments),
    }));
  const bindings = [...vhost.exchanges.values()]
    .filter((x) => x.name !== '')
    .flatMap((x) =>
      [...x.bindings.values()]
        .filter((b) => b.destination.kind === 'exchange' || !b.destination.options.exclusive)
        .map((b) => ({
          source: x.name,
          vhost: vhost.name,
          destination: b.destination.name,
          destination_type: b.destination.kind,
          routing_key: b.routingKey,
          arguments: argumentsJson(b.arguments),
        })),
    );
  return { queues, exchanges, bindings };
}

function exportAll(ctx: RequestContext) {
  const { access } = ctx.host;
  const vhosts = [...ctx.host.vhosts.values()];
  const parts = vhosts.map(topology);
  return {
    rabbit_version: PRODUCT.rabbitmqVersion,
    rabbitmq_version: PRODUCT.rabbitmqVersion,
    product_name: PRODUCT.name,
    product_version: PRODUCT.version,
    users: [...access.users.values()].map((u) => ({
      name: u.name,
      password_hash: u.passwordHash,
      hashing_algorithm: u.hashingAlgorithm,
      tags: u.tags,
      limits: {},
    })),
    vhosts: vhosts.map((v) => {
      const record = access.vhosts.get(v.name);
      return {
        name: v.name,
        limits: [],
        metadata: { description: record?.description ?? '', tags: record?.tags ?? [] },
      };
    }),
    permissions: access.listPermissions(),
    topic_permissions: [],
    parameters: [],
    global_parameters: [],
    policies: vhosts.flatMap((v) => [...v.policies.values()].map((p) => policyJson(v, p))),
    queues: parts.flatMap((p) => p.queues),
    exchanges: parts.flatMap((p) => p.exchanges),
    bindings: parts.flatMap((p) => p.bindings),
  };
}

function importBody(ctx: RequestContext, body: Record<string, unknown>, onlyVhost?: string): void {
  // a per-vhost import names no vhost in its objects: they all go to the one in the path
  const doc = onlyVhost === undefined ? body : withVhost(body, onlyVhost);
  try {
    ctx.host.importDefinitions(parseDefinitions(doc));
  } catch (error) {
    if (error instanceof DefinitionsError) throw badRequest(error.message);
    throw badRequest((error as Error).message);
  }
}

function withVhost(body: Record<string, unknown>, vhost: string): Record<string, unknown> {
  const tag = (key: string) =>
    Array.isArray(body[key]) ? (body[key] as Record<string, unknown>[]).map((item) => ({ ...item, vhost })) : [];
  return {
    vhosts: [{ name: vhost }],
    queues: tag('queues'),
    exchanges: tag('exchanges'),
    bindings: tag('bindings'),
    policies: tag('policies'),
  };
}

export const definitionRoutes: Route<RequestContext>[] = [
  {
    method: 'GET',
    path: 'definitions',
    access: 'administrator',
    handle: (ctx) => ({ status: 200, body: exportAll(ctx) }),
  },
  {
    method: 'GET',
    path: 'definitions/:vhost',
    access: 'administrator',
    handle: (ctx, p) => {
      const { queues, exchanges, bindings } = topology(vhostParam(ctx, p.vhost));
      return {
        status: 200,
        body: {
          rabbit_version: PRODUCT.rabbitmqVersion,
          rabbitmq_version: PRODUCT.rabbitmqVersion,
          product_name: PRODUCT.name,
          product_version: PRODUCT.version,
          parameters: [],
          policies: [...vhostParam(ctx, p.vhost).policies.values()].map((policy) =>
            policyJson(vhostParam(ctx, p.vhost), policy),
          ),
          queues,
          exchanges,
          bindings,
        },
      };
    },
  },
  {
    method: 'POST',
    path: 'definitions',
    access: 'administrator',
    handle: async (ctx) => {
      importBody(ctx, await ctx.body());
      return { status: 204 };
    },
  },
  {
    method: 'POST',
    path: 'definitions/:vhost',
    access: 'administrator',
    handle: async (ctx, p) => {
      vhostParam(ctx, p.vhost);
      importBody(ctx, await ctx.body(), p.vhost);
      return { status: 204 };
    },
  },
];
