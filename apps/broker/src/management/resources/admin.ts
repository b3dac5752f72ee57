import { badRequest, notFound } from '../http';
import type { Route } from '../router';
import { queueTotals, visibleVhosts, type RequestContext } from '../context';
import { isHashingAlgorithm } from '../../access/password';
import { vhostParam } from './objects';

// Users, vhosts and permissions (administrator only, as in RabbitMQ), and who is asking.

function tagList(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value) && value.every((t) => typeof t === 'string'))
    return value.map((t) => t.trim()).filter(Boolean);
  if (typeof value === 'string')
    return value
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
  throw badRequest('tags must be a string or a list of strings');
}

function vhostJson(ctx: RequestContext, name: string) {
  const record = ctx.host.access.vhosts.get(name);
  const vhost = ctx.host.vhosts.get(name);
  const { ready, unacknowledged } = queueTotals(ctx, vhost ? [vhost] : []);
  return {
    name,
    description: record?.description ?? '',
    tags: record?.tags ?? [],
    metadata: { description: record?.description ?? '', tags: record?.tags ?? [] },
    tracing: false,
    messages: ready + unacknowledged,
    messages_ready: ready,
    messages_unacknowledged: unacknowledged,
  };
}

const userJson = (ctx: RequestContext, name: string) => {
  const u = ctx.host.access.users.get(name);
  if (!u) throw notFound();
  return {
    name: u.name,
    password_hash: u.passwordHash,
    hashing_algorithm: u.hashingAlgorithm,
    tags: u.tags,
    limits: {},
  };
};

export const adminRoutes: Route<RequestContext>[] = [
  {
    method: 'GET',
    path: 'whoami',
    access: 'management',
    handle: (ctx) => ({ status: 200, body: { name: ctx.user.name, tags: ctx.user.tags } }),
  },
  {
    method: 'GET',
    path: 'vhosts',
    access: 'management',
    handle: (ctx) => ({ status: 200, body: visibleVhosts(ctx).map((v) => vhostJson(ctx, v.name)) }),
  },
  {
    method: 'GET',
    path: 'vhosts/:vhost',
    access: 'management',
    handle: (ctx, p) => ({ status: 200, body: vhostJson(ctx, vhostParam(ctx, p.vhost).name) }),
  },
  {
    method: 'PUT',
    path: 'vhosts/:vhost',
    access: 'administrator',
    handle: async (ctx, p) => {
      const body = await ctx.body();
      const exists = ctx.host.vhosts.has(p.vhost);
      ctx.host.addVhost(p.vhost);
      // a PUT replaces the description and tags, as in RabbitMQ
      ctx.host.access.addVhost(
        p.vhost,
        typeof body.description === 'string' ? body.description : '',
        tagList(body.tags),
      );
      return { status: exists ? 204 : 201 };
    },
  },
  {
    method: 'DELETE',
    path: 'vhosts/:vhost',
    access: 'administrator',
    handle: (ctx, p) => {
      if (!ctx.host.deleteVhost(p.vhost)) throw notFound();
      return { status: 204 };
    },
  },
  {
    method: 'GET',
    path: 'users',
    access: 'administrator',
    handle: (ctx) => ({
      status: 200,
      body: [...ctx.host.access.users.keys()].sort().map((name) => userJson(ctx, name)),
    }),
  },
  {
    method: 'GET',
    path: 'users/:user',
    access: 'administrator',
    handle: (ctx, p) => ({ status: 200, body: userJson(ctx, p.user) }),
  },
  {
    method: 'PUT',
    path: 'users/:user',
    access: 'administrator',
    handle: async (ctx, p) => {
      const body = await ctx.body();
      const exists = ctx.host.access.users.has(p.user);
      const tags = tagList(body.tags);
      if (typeof body.password === 'string') ctx.host.access.putUser(p.user, { password: body.password }, tags);
      else if (typeof body.password_hash === 'string') {
        const algorithm = body.hashing_algorithm ?? 'rabbit_password_hashing_sha256';
        if (!isHashingAlgorithm(algorithm)) throw badRequest(`unsupported hashing algorithm ${String(algorithm)}`);
        ctx.host.access.putUser(p.user, { passwordHash: body.password_hash, hashingAlgorithm: algorithm }, tags);
      } else throw badRequest('password or password_hash must be set');
      return { status: exists ? 204 : 201 };
    },
  },
  {
    method: 'DELETE',
    path: 'users/:user',
    access: 'administrator',
    handle: (ctx, p) => {
      if (!ctx.host.access.users.has(p.user)) throw notFound();
      ctx.host.access.deleteUser(p.user);
      return { status: 204 };
    },
  },
  {
    method: 'GET',
    path: 'permissions',
    access: 'administrator',
    handle: (ctx) => ({ status: 200, body: ctx.host.access.listPermissions() }),
  },
  {
    method: 'GET',
    path: 'permissions/:vhost/:user',
    access: 'administrator',
    handle: (ctx, p) => {
      const found = ctx.host.access.listPermissions().find((x) => x.vhost === p.vhost && x.user === p.user);
      if (!found) throw notFound();
      return { status: 200, body: found };
    },
  },
  {
    method: 'PUT',
    path: 'permissions/:vhost/:user',
    access: 'administrator',
    handle: async (ctx, p) => {
      const body = await ctx.body();
      if (!ctx.host.vhosts.has(p.vhost) || !ctx.host.access.users.has(p.user))
        throw badRequest(`no such vhost or user`);
      const expression = (key: 'configure' | 'write' | 'read') => {
        const value = body[key];
        if (typeof value !== 'string') throw badRequest(`${key} must be a string`);
        try {
          new RegExp(value, 'u');
        } catch {
          throw badRequest(`${key} is not a valid regular expression`);
        }
        return value;
      };
      const exists = ctx.host.access.mayAccessVhost(p.user, p.vhost);
      ctx.host.access.setPermission(p.vhost, p.user, {
        configure: expression('configure'),
        write: expression('write'),
        read: expression('read'),
      });
      return { status: exists ? 204 : 201 };
    },
  },
  {
    method: 'DELETE',
    path: 'permissions/:vhost/:user',
    access: 'administrator',
    handle: (ctx, p) => {
      if (!ctx.host.access.mayAccessVhost(p.user, p.vhost)) throw notFound();
      ctx.host.access.clearPermission(p.vhost, p.user);
      return { status: 204 };
    },
  },
];
