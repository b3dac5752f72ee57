import {
  encodeBasicProperties,
  MAX_FIELD_DEPTH,
  tableFromPlain,
  tableToPlain,
  decodeBasicProperties,
  type BasicProperties,
} from '@warren/amqp-protocol';
import { Message } from '../../message';
import type { QueuedMessage } from '../../message';
import { DefinitionsError, nestedDeeperThan, shortstr, storableArgumentsTable } from '../../access/definitions-file';
import { AmqpError } from '../../errors';
import { badRequest, notAuthorised, notFound } from '../http';
import type { Route } from '../router';
import { authorizeFor, type RequestContext } from '../context';
import { queueParam, vhostParam } from './objects';

// What the management UI and rabbitmqadmin change: declare and delete queues, exchanges and bindings, publish
// to an exchange, get from and purge a queue. Each is checked against the user's permissions as its AMQP
// counterpart is, and an AMQP refusal (406, 404…) comes back as a 400 or 404 with RabbitMQ's reason.

const accessRefused = () => notAuthorised('Access refused.');

/** Runs an AMQP-level operation, turning its channel or connection error into RabbitMQ's HTTP answer. */
function amqp<T>(run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof AmqpError) {
      if (error.code === 404) throw notFound();
      if (error.code === 403) throw accessRefused();
      throw badRequest(error.text.replace(/^[A-Z_]+ - /, ''));
    }
    throw error;
  }
}

function bool(body: Record<string, unknown>, key: string, fallback: boolean): boolean {
  const value = body[key];
  if (value === undefined) return fallback;
  // rabbitmqadmin sends booleans as the strings "true" and "false"; RabbitMQ takes both
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw badRequest(`${key} must be true or false`);
}

function args(body: Record<string, unknown>) {
  const value = body.arguments ?? {};
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw badRequest('arguments must be an object');
  return checked(() => storableArgumentsTable(value as Record<string, unknown>));
}

/** A name or routing key from the path or the body: at most 255 bytes, as AMQP and the durable store carry it. */
function short(value: string, what: string): string {
  return checked(() => shortstr(value, what));
}

function checked<T>(run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof DefinitionsError) throw badRequest(error.message);
    throw error;
  }
}

const PROPERTY_NAMES: [keyof BasicProperties, string][] = [
  ['contentType', 'content_type'],
  ['contentEncoding', 'content_encoding'],
  ['deliveryMode', 'delivery_mode'],
  ['priority', 'priority'],
  ['correlationId', 'correlation_id'],
  ['replyTo', 'reply_to'],
  ['expiration', 'expiration'],
  ['messageId', 'message_id'],
  ['timestamp', 'timestamp'],
  ['type', 'type'],
  ['userId', 'user_id'],
  ['appId', 'app_id'],
];

function propertiesFromJson(json: Record<string, unknown>): BasicProperties {
  const props: Record<string, unknown> = {};
  for (const [key, name] of PROPERTY_NAMES) if (json[name] !== undefined) props[key] = json[name];
  // as deep as AMQP carries them, no deeper: the codec refuses more, so a stored message could not be read back
  if (json.headers !== undefined && nestedDeeperThan(json.headers, MAX_FIELD_DEPTH))
    throw new Error(`headers nest deeper than ${MAX_FIELD_DEPTH} levels, the most AMQP carries`);
  if (json.headers !== undefined) props.headers = tableFromPlain(json.headers as Record<string, unknown>);
  return props as BasicProperties;
}

function propertiesToJson(props: BasicProperties): Record<string, unknown> {
  const json: Record<string, unknown> = {};
  for (const [key, name] of PROPERTY_NAMES)
    if (props[key] !== undefined) json[name] = typeof props[key] === 'bigint' ? Number(props[key]) : props[key];
  if (props.headers)
    json.headers = JSON.parse(
      JSON.stringify(tableToPlain(props.headers), (_k, v) => (typeof v === 'bigint' ? Number(v) : v)),
    );
  return json;
}

function payloadOf(entry: QueuedMessage, encoding: string) {
  const body = entry.message.body;
  const text = body.toString('utf8');
  const printable = encoding === 'auto' && Buffer.from(text, 'utf8').equals(body);
  return printable
    ? { payload: text, payload_encoding: 'string' }
    : { payload: body.toString('base64'), payload_encoding: 'base64' };
}

export const messageRoutes: Route<RequestContext>[] = [
  {
    method: 'PUT',
    path: 'queues/:vhost/:name',
    access: 'management',
    handle: async (ctx, p) => {
      const body = await ctx.body();
      const vhost = vhostParam(ctx, p.vhost);
      const exists = vhost.queues.has(p.name);
      const declare = {
        name: short(p.name, 'the queue name'),
        passive: false,
        durable: bool(body, 'durable', true),
        exclusive: false,
        autoDelete: bool(body, 'auto_delete', false),
        arguments: args(body),
      };
      amqp(() => vhost.declareQueue(declare, {}, authorizeFor(ctx, vhost)));
      return { status: exists ? 204 : 201 };
    },
  },
  {
    method: 'PUT',
    path: 'exchanges/:vhost/:name',
    access: 'management',
    handle: async (ctx, p) => {
      const body = await ctx.body();
      const vhost = vhostParam(ctx, p.vhost);
      if (typeof body.type !== 'string') throw badRequest('type must be set');
      const exists = vhost.exchanges.has(p.name);
      const declare = {
        name: short(p.name, 'the exchange name'),
        type: short(body.type, 'type'),
        passive: false,
        durable: bool(body, 'durable', true),
        autoDelete: bool(body, 'auto_delete', false),
        internal: bool(body, 'internal', false),
        arguments: args(body),
      };
      amqp(() => vhost.declareExchange(declare, authorizeFor(ctx, vhost)));
      return { status: exists ? 204 : 201 };
    },
  },
  {
    method: 'DELETE',
    path: 'exchanges/:vhost/:name',
    access: 'management',
    handle: (ctx, p) => {
      const vhost = vhostParam(ctx, p.vhost);
      if (!vhost.exchanges.has(p.name)) throw notFound();
      amqp(() => vhost.deleteExchange(p.name, false, authorizeFor(ctx, vhost)));
      return { status: 204 };
    },
  },
  ...(['q', 'e'] as const).map((kind): Route<RequestContext> => ({
    method: 'POST',
    path: `bindings/:vhost/e/:source/${kind}/:destination`,
    access: 'management',
    handle: async (ctx, p) => {
      const body = await ctx.body();
      const vhost = vhostParam(ctx, p.vhost);
      const key = short(typeof body.routing_key === 'string' ? body.routing_key : '', 'routing_key');
      const authorize = authorizeFor(ctx, vhost);
      if (kind === 'q')
        amqp(() =>
          vhost.bindQueue(
            p.destination,
            p.source,
            key,
            args(body),
            vhost.queues.get(p.destination)?.owner ?? {},
            authorize,
          ),
        );
      else amqp(() => vhost.bindExchange(p.destination, p.source, key, args(body), authorize));
      return { status: 201 };
    },
  })),
  {
    method: 'POST',
    path: 'exchanges/:vhost/:name/publish',
    access: 'management',
    handle: async (ctx, p) => {
      const body = await ctx.body();
      const vhost = vhostParam(ctx, p.vhost);
      const name = p.name === 'amq.default' ? '' : p.name;
      const exchange = vhost.exchanges.get(name);
      if (!exchange) throw notFound();
      authorizeFor(ctx, vhost)('write', 'exchange', name);
      if (typeof body.routing_key !== 'string') throw badRequest('routing_key must be a string');
      short(body.routing_key, 'routing_key');
      if (typeof body.payload !== 'string') throw badRequest('payload must be a string');
      const encoding = body.payload_encoding ?? 'string';
      if (encoding !== 'string' && encoding !== 'base64')
        throw badRequest("payload_encoding must be 'string' or 'base64'");
      const payload = Buffer.from(body.payload, encoding === 'base64' ? 'base64' : 'utf8');
      let raw: Buffer;
      try {
        raw = encodeBasicProperties(propertiesFromJson((body.properties ?? {}) as Record<string, unknown>));
      } catch (error) {
        throw badRequest(`properties: ${(error as Error).message}`);
      }
      const message = new Message(name, body.routing_key, raw, payload);
      const queues = vhost.route(exchange, message);
      for (const queue of queues) queue.publish(message);
      return { status: 200, body: { routed: queues.length > 0 } };
    },
  },
  {
    method: 'POST',
    path: 'queues/:vhost/:name/get',
    access: 'management',
    handle: async (ctx, p) => {
      const body = await ctx.body();
      const { vhost, queue } = queueParam(ctx, p);
      authorizeFor(ctx, vhost)('read', 'queue', p.name);
      const count = typeof body.count === 'number' && body.count > 0 ? Math.floor(body.count) : 1;
      const mode = body.ackmode ?? 'ack_requeue_true';
      if (
        !['ack_requeue_true', 'ack_requeue_false', 'reject_requeue_true', 'reject_requeue_false'].includes(
          mode as string,
        )
      )
        throw badRequest(
          'ackmode must be ack_requeue_true, ack_requeue_false, reject_requeue_true or reject_requeue_false',
        );
      const taken: QueuedMessage[] = [];
      const out = [];
      for (let i = 0; i < count; i++) {
        const entry = queue.get(false);
        if (!entry) break;
        queue.stats.deliverGet++;
        if (entry.redelivered) queue.stats.redeliver++;
        taken.push(entry);
        out.push({
          payload_bytes: entry.message.size,
          redelivered: entry.redelivered,
          exchange: entry.message.exchange,
          routing_key: entry.message.routingKey,
          message_count: queue.messageCount,
          // as basic.get hands it out (a quorum queue adds x-delivery-count)
          properties: propertiesToJson(decodeBasicProperties(queue.outgoing(entry, true).rawProperties)),
          ...payloadOf(entry, String(body.encoding ?? 'auto')),
        });
      }
      if (String(mode).endsWith('requeue_true')) queue.requeue(taken, true);
      else if (mode === 'ack_requeue_false') for (const entry of taken) queue.ack(entry);
      else for (const entry of taken) queue.discard(entry);
      return { status: 200, body: out };
    },
  },
  {
    method: 'DELETE',
    path: 'queues/:vhost/:name/contents',
    access: 'management',
    handle: (ctx, p) => {
      const { vhost, queue } = queueParam(ctx, p);
      authorizeFor(ctx, vhost)('read', 'queue', p.name);
      queue.purge();
      return { status: 204 };
    },
  },
];
