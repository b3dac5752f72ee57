import { encodeFieldTable, fromPlain, MAX_FIELD_DEPTH, type FieldTable } from '@warren/amqp-protocol';
import { AccessControl } from './access-control';
import { isHashingAlgorithm } from './password';
import { policyProblem } from '../vhost/policies';

/**
 * RabbitMQ's definitions JSON (what `rabbitmqctl export_definitions` writes and `--definitions` loads): users,
 * vhosts, permissions, and each vhost's durable exchanges, queues and bindings. Only what the broker uses is
 * read; other keys (parameters, policies until they are supported, limits, topic permissions) are ignored.
 * Anything malformed is refused with the path of the offending entry, before anything is applied.
 */
export interface RabbitDefinitions {
  users: { name: string; password_hash: string; hashing_algorithm: string; tags: string[] | string }[];
  vhosts: { name: string; metadata?: { description?: string; tags?: string[] } }[];
  permissions: { user: string; vhost: string; configure: string; write: string; read: string }[];
  exchanges: {
    name: string;
    vhost: string;
    type: string;
    durable: boolean;
    auto_delete: boolean;
    internal: boolean;
    arguments: Record<string, unknown>;
  }[];
  queues: { name: string; vhost: string; durable: boolean; auto_delete: boolean; arguments: Record<string, unknown> }[];
  bindings: {
    source: string;
    vhost: string;
    destination: string;
    destination_type: 'queue' | 'exchange';
    routing_key: string;
    arguments: Record<string, unknown>;
  }[];
  policies: {
    vhost: string;
    name: string;
    pattern: unknown;
    'apply-to': unknown;
    priority: unknown;
    definition: unknown;
  }[];
}

export class DefinitionsError extends Error {
  override readonly name = 'DefinitionsError';
}

type Json = Record<string, unknown>;

function list(doc: Json, key: string): Json[] {
  const value = doc[key];
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new DefinitionsError(`'${key}' must be a list`);
  value.forEach((item, i) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item))
      throw new DefinitionsError(`${key}[${i}] must be an object`);
  });
  return value as Json[];
}

function field<T>(item: Json, where: string, key: string, type: 'string' | 'boolean' | 'object', fallback?: T): T {
  const value = item[key];
  if (value === undefined && fallback !== undefined) return fallback;
  const ok =
    type === 'object' ? typeof value === 'object' && value !== null && !Array.isArray(value) : typeof value === type;
  if (!ok) throw new DefinitionsError(`${where}.${key} must be a${type === 'object' ? 'n object' : ` ${type}`}`);
  return value as T;
}

/** Reads and checks a parsed definitions document; throws DefinitionsError naming the first bad entry. */
export function parseDefinitions(doc: unknown): RabbitDefinitions {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw new DefinitionsError('definitions must be a JSON object');
  const d = doc as Json;
  const users = list(d, 'users').map((u, i) => {
    const where = `users[${i}]`;
    const algorithm = field<string>(u, where, 'hashing_algorithm', 'string', 'rabbit_password_hashing_sha256');
    if (!isHashingAlgorithm(algorithm))
      throw new DefinitionsError(`${where}.hashing_algorithm '${algorithm}' is not supported`);
    const tags = u.tags;
    if (
      tags !== undefined &&
      typeof tags !== 'string' &&
      !(Array.isArray(tags) && tags.every((t) => typeof t === 'string'))
    )
      throw new DefinitionsError(`${where}.tags must be a list of strings or a comma-separated string`);
    return {
      name: field<string>(u, where, 'name', 'string'),
      password_hash: field<string>(u, where, 'password_hash', 'string', ''),
      hashing_algorithm: algorithm,
      tags: (tags as string[] | string | undefined) ?? [],
    };
  });
  const vhosts = list(d, 'vhosts').map((v, i) => ({
    name: field<string>(v, `vhosts[${i}]`, 'name', 'string'),
    metadata: field<{ description?: string; tags?: string[] }>(v, `vhosts[${i}]`, 'metadata', 'object', {}),
  }));
  const permissions = list(d, 'permissions').map((p, i) => {
    const where = `permissions[${i}]`;
    const entry = {
      user: field<string>(p, where, 'user', 'string'),
      vhost: field<string>(p, where, 'vhost', 'string'),
      configure: field<string>(p, where, 'configure', 'string'),
      write: field<string>(p, where, 'write', 'string'),
      read: field<string>(p, where, 'read', 'string'),
    };
    for (const kind of ['configure', 'write', 'read'] as const) {
      try {
        new RegExp(entry[kind], 'u');
      } catch (error) {
        throw new DefinitionsError(`${where}.${kind} is not a valid regular expression: ${(error as Error).message}`);
      }
    }
    return entry;
  });
  const exchanges = list(d, 'exchanges').map((x, i) => {
    const where = `exchanges[${i}]`;
    const args = field<Record<string, unknown>>(x, where, 'arguments', 'object', {});
    storableArgumentsTable(args, `${where}.arguments`);
    return {
      name: shortstr(field<string>(x, where, 'name', 'string'), `${where}.name`),
      vhost: field<string>(x, where, 'vhost', 'string'),
      type: field<string>(x, where, 'type', 'string'),
      durable: field<boolean>(x, where, 'durable', 'boolean', true),
      auto_delete: field<boolean>(x, where, 'auto_delete', 'boolean', false),
      internal: field<boolean>(x, where, 'internal', 'boolean', false),
      arguments: args,
    };
  });
  const queues = list(d, 'queues').map((q, i) => {
    const where = `queues[${i}]`;
    const args = field<Record<string, unknown>>(q, where, 'arguments', 'object', {});
    storableArgumentsTable(args, `${where}.arguments`);
    return {
      name: shortstr(field<string>(q, where, 'name', 'string'), `${where}.name`),
      vhost: field<string>(q, where, 'vhost', 'string'),
      durable: field<boolean>(q, where, 'durable', 'boolean', true),
      auto_delete: field<boolean>(q, where, 'auto_delete', 'boolean', false),
      arguments: args,
    };
  });
  const bindings = list(d, 'bindings').map((b, i) => {
    const where = `bindings[${i}]`;
    const type = field<string>(b, where, 'destination_type', 'string');
    if (type !== 'queue' && type !== 'exchange')
      throw new DefinitionsError(`${where}.destination_type must be 'queue' or 'exchange'`);
    const args = field<Record<string, unknown>>(b, where, 'arguments', 'object', {});
    storableArgumentsTable(args, `${where}.arguments`);
    return {
      source: shortstr(field<string>(b, where, 'source', 'string'), `${where}.source`),
      vhost: field<string>(b, where, 'vhost', 'string'),
      destination: shortstr(field<string>(b, where, 'destination', 'string'), `${where}.destination`),
      destination_type: type as 'queue' | 'exchange',
      routing_key: shortstr(field<string>(b, where, 'routing_key', 'string', ''), `${where}.routing_key`),
      arguments: args,
    };
  });
  const policies = list(d, 'policies').map((p, i) => {
    const where = `policies[${i}]`;
    return {
      vhost: field<string>(p, where, 'vhost', 'string'),
      name: field<string>(p, where, 'name', 'string'),
      pattern: p.pattern,
      'apply-to': p['apply-to'] ?? 'all',
      priority: p.priority ?? 0,
      definition: p.definition,
    };
  });
  const known = new Set(vhosts.map((v) => v.name));
  const needVhost = (vhost: string, where: string) => {
    if (!known.has(vhost))
      throw new DefinitionsError(`${where} names vhost '${vhost}', which the definitions do not declare`);
  };
  permissions.forEach((p, i) => needVhost(p.vhost, `permissions[${i}]`));
  exchanges.forEach((x, i) => needVhost(x.vhost, `exchanges[${i}]`));
  queues.forEach((q, i) => needVhost(q.vhost, `queues[${i}]`));
  bindings.forEach((b, i) => needVhost(b.vhost, `bindings[${i}]`));
  policies.forEach((p, i) => {
    needVhost(p.vhost, `policies[${i}]`);
    const problem = policyProblem({
      pattern: p.pattern,
      applyTo: p['apply-to'],
      priority: p.priority,
      definition: p.definition,
    });
    if (problem) throw new DefinitionsError(`policies[${i}]: ${problem}`);
  });
  return { users, vhosts, permissions, exchanges, queues, bindings, policies };
}

/** Users, vhosts and permissions from definitions, added to (and replacing same-named entries in) `access`. */
export function applyAccessDefinitions(access: AccessControl, defs: RabbitDefinitions): void {
  for (const v of defs.vhosts) access.addVhost(v.name, v.metadata?.description ?? '', v.metadata?.tags ?? []);
  for (const u of defs.users) {
    const tags =
      typeof u.tags === 'string'
        ? u.tags
            .split(',')
            .map((t) => t.trim())
            .filter(Boolean)
        : u.tags;
    access.putUser(u.name, { passwordHash: u.password_hash, hashingAlgorithm: u.hashing_algorithm as never }, tags);
  }
  for (const p of defs.permissions) access.setPermission(p.vhost, p.user, p);
}

/** The most bytes an AMQP short string holds: a name or routing key the wire and the durable store can carry. */
export const MAX_SHORTSTR_BYTES = 255;

/** `value`, or DefinitionsError when it is longer than a short string (a name, a routing key) can be. */
export function shortstr(value: string, what: string): string {
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > MAX_SHORTSTR_BYTES)
    throw new DefinitionsError(`${what} is ${bytes} bytes long; AMQP allows at most ${MAX_SHORTSTR_BYTES}`);
  return value;
}

/** Whether JSON nests objects and arrays more than `limit` levels deep (counted without recursion). */
export function nestedDeeperThan(value: unknown, limit: number): boolean {
  const pending: Array<[unknown, number]> = [[value, 1]];
  while (pending.length > 0) {
    const [v, depth] = pending.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth > limit) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) pending.push([child, depth + 1]);
  }
  return false;
}

/**
 * argumentsTable, checked as AMQP would carry it and as the durable store will write it: tables and arrays
 * nested past MAX_FIELD_DEPTH (what the codec accepts: everything that walks a table is recursive), a key past
 * 255 bytes or a value a field table cannot hold are a DefinitionsError here. Over AMQP the codec makes such a
 * table impossible; through the management API or a definitions file it was accepted, and then the vhost's next
 * save failed, and with it every later declare and delete in that vhost (each a 500), or formatting the argument
 * for an error overflowed the stack (a 500).
 */
export function storableArgumentsTable(args: Record<string, unknown>, what = 'arguments'): FieldTable {
  if (nestedDeeperThan(args, MAX_FIELD_DEPTH))
    throw new DefinitionsError(`${what} nest deeper than ${MAX_FIELD_DEPTH} levels, the most AMQP carries`);
  try {
    const table = argumentsTable(args);
    encodeFieldTable(table);
    return table;
  } catch (error) {
    throw new DefinitionsError(`${what} cannot be stored: ${(error as Error).message}`);
  }
}

/**
 * JSON arguments to a field table the way RabbitMQ's definitions import types them: integers as signed 64-bit
 * ('l'), other numbers as doubles, strings, booleans, lists and objects as they are.
 */
export function argumentsTable(args: Record<string, unknown>): FieldTable {
  const table: FieldTable = new Map();
  for (const [key, value] of Object.entries(args)) {
    table.set(key, typeof value === 'number' && Number.isInteger(value) ? { type: 'l', value } : fromPlain(value));
  }
  return table;
}
