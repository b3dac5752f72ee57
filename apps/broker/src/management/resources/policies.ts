import { badRequest, notFound } from '../http';
import type { Route } from '../router';
import { visibleVhosts, type RequestContext } from '../context';
import { policyProblem, type Policy } from '../../vhost/policies';
import type { VirtualHost } from '../../vhost/vhost';
import { vhostParam } from './objects';

// /api/policies: RabbitMQ's policies for classic queues and exchanges (vhost/policies.ts), as its management
// API shows and takes them.

export function policyJson(vhost: VirtualHost, p: Policy) {
  return {
    vhost: vhost.name,
    name: p.name,
    pattern: p.pattern,
    'apply-to': p.applyTo,
    definition: p.definition,
    priority: p.priority,
  };
}

/** A policy from a request body (PUT) or a definitions entry; throws 400 with the problem. */
export function policyFrom(name: string, body: Record<string, unknown>): Policy {
  const candidate = {
    pattern: body.pattern,
    applyTo: body['apply-to'] ?? 'all',
    priority: body.priority ?? 0,
    definition: body.definition,
  };
  const problem = policyProblem(candidate);
  if (problem) throw badRequest(`Validation failed\n\n${problem}`);
  return { name, ...candidate } as Policy;
}

const ALL = (ctx: RequestContext) =>
  visibleVhosts(ctx).flatMap((v) => [...v.policies.values()].map((p) => policyJson(v, p)));

export const policyRoutes: Route<RequestContext>[] = [
  { method: 'GET', path: 'policies', access: 'management', handle: (ctx) => ({ status: 200, body: ALL(ctx) }) },
  {
    method: 'GET',
    path: 'policies/:vhost',
    access: 'management',
    handle: (ctx, p) => {
      const vhost = vhostParam(ctx, p.vhost);
      return { status: 200, body: [...vhost.policies.values()].map((policy) => policyJson(vhost, policy)) };
    },
  },
  {
    method: 'GET',
    path: 'policies/:vhost/:name',
    access: 'management',
    handle: (ctx, p) => {
      const vhost = vhostParam(ctx, p.vhost);
      const policy = vhost.policies.get(p.name);
      if (!policy) throw notFound();
      return { status: 200, body: policyJson(vhost, policy) };
    },
  },
  {
    method: 'PUT',
    path: 'policies/:vhost/:name',
    access: 'administrator',
    handle: async (ctx, p) => {
      const vhost = vhostParam(ctx, p.vhost);
      const policy = policyFrom(p.name, await ctx.body());
      const exists = vhost.policies.has(p.name);
      vhost.setPolicy(policy);
      return { status: exists ? 204 : 201 };
    },
  },
  {
    method: 'DELETE',
    path: 'policies/:vhost/:name',
    access: 'administrator',
    handle: (ctx, p) => {
      if (!vhostParam(ctx, p.vhost).clearPolicy(p.name)) throw notFound();
      return { status: 204 };
    },
  },
];
