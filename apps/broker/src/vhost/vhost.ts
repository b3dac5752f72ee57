import { FieldTable, ReplyCode } from '@warren/amqp-protocol';
import { randomBytes } from 'node:crypto';
import { accessRefused, connectionError, notFound, preconditionFailed, resourceLocked } from '../errors';
import {
  Binding,
  bindingId,
  createExchange,
  DefaultExchange,
  Exchange,
  ExchangeOptions,
  ExchangeType,
  isExchangeType,
  RouteCollector,
} from '../exchange';
import { Message } from '../message';
import { DeadLetterReason, Queue, QueueOptions } from '../queue/queue';
import {
  assertArgsEquivalence,
  checkQuorumProperties,
  deadLetterExchangeArg,
  equivalenceArgs,
  inequivalentArg,
  parseQueueArguments,
  queueSettings,
} from '../queue/queue-arguments';
import { deadLetterMessage, isDeadLetterCycle } from './dead-letter';
import { definitionFor, effectivePolicy, Policy, withPolicy } from './policies';
import { decodeArguments, Definitions, encodeArguments } from '../storage/definitions';
import type { Storage } from '../storage/storage';
import { validateHeadersBinding } from '../exchange/headers';
import { DelayScheduler } from '../exchange/delay-scheduler';

function isDurable(queue: Queue): boolean {
  return queue.options.durable && !queue.options.exclusive;
}

/** A binding survives a restart when both of its ends do. */
function isDurableBinding(binding: Binding): boolean {
  const d = binding.destination;
  return binding.source.options.durable && (d.kind === 'queue' ? isDurable(d) : d.options.durable);
}

const PREDECLARED: [string, 'direct' | 'fanout' | 'topic' | 'headers'][] = [
  ['amq.direct', 'direct'],
  ['amq.fanout', 'fanout'],
  ['amq.topic', 'topic'],
  ['amq.headers', 'headers'],
  ['amq.match', 'headers'],
  ['amq.rabbitmq.trace', 'topic'],
];
const PREDECLARED_NAMES = new Set(PREDECLARED.map(([name]) => name));

export interface ExchangeDeclare extends ExchangeOptions {
  name: string;
  type: string;
  passive: boolean;
}

export interface QueueDeclare extends QueueOptions {
  name: string;
  passive: boolean;
}

/**
 * Permission checks, called by the vhost exactly where RabbitMQ makes them (the order of checks decides which
 * error a client sees): `configure`, `write` or `read` on a queue or exchange; throws 403 when not permitted.
 * Operations from inside the broker (definitions at start) pass ALLOW_ALL.
 */
export type Authorize = (kind: 'configure' | 'write' | 'read', type: 'queue' | 'exchange', name: string) => void;
export const ALLOW_ALL: Authorize = () => undefined;

/**
 * A virtual host: its exchanges, queues and bindings, and the routing of published and dead-lettered
 * messages between them. Owners of exclusive queues are connections, compared by identity.
 */
export class VirtualHost implements RouteCollector {
  readonly exchanges = new Map<string, Exchange>();
  readonly queues = new Map<string, Queue>();
  /** Bindings by destination, so deleting a queue or exchange can remove the bindings that point at it. */
  private readonly inbound = new Map<Queue | Exchange, Set<Binding>>();
  private readonly defaultExchange: DefaultExchange;

  // Routing state for one pass (see route()).
  private routeGeneration = 0;
  private routed: Queue[] = [];
  private readonly pendingExchanges: Exchange[] = [];
  /** Destinations the exchange being visited produced, counting ones already reached (alternate-exchange rule). */
  private hits = 0;
  /** Durable definitions changed and must be saved before the operation is answered. */
  private dirty = false;
  /** RabbitMQ's policies for this vhost, by name (policies.ts). */
  readonly policies = new Map<string, Policy>();
  /** The held messages of this vhost's x-delayed-message exchanges. */
  readonly delays: DelayScheduler;

  constructor(
    readonly name = '/',
    private readonly storage?: Storage,
  ) {
    this.delays = new DelayScheduler(this, storage);
    this.defaultExchange = new DefaultExchange(this.queues);
    this.exchanges.set('', this.defaultExchange);
    for (const [name, type] of PREDECLARED) {
      const internal = name === 'amq.rabbitmq.trace'; // where RabbitMQ's firehose tracer would publish
      this.exchanges.set(
        name,
        createExchange(name, type, { durable: true, autoDelete: false, internal, arguments: new Map() }),
      );
    }
  }

  // ---- exchanges ----

  declareExchange(d: ExchangeDeclare, authorize = ALLOW_ALL): Exchange {
    // a passive declare needs no permission and checks no type
    if (!d.passive && !isExchangeType(d.type))
      throw connectionError(ReplyCode.COMMAND_INVALID, `unknown exchange type '${d.type}'`);
    if (d.name === '') throw accessRefused(`operation not permitted on the default exchange`);
    const existing = this.exchanges.get(d.name);
    if (d.passive) {
      if (!existing) throw notFound(`no exchange '${d.name}' in vhost '${this.name}'`);
      return existing;
    }
    authorize('configure', 'exchange', d.name);
    if (existing) {
      this.checkExchangeEquivalence(existing, d);
      return existing;
    }
    if (d.name.startsWith('amq.')) throw accessRefused(`exchange name '${d.name}' contains reserved prefix 'amq.*'`);
    const ae = d.arguments.get('alternate-exchange');
    if (ae && ae.type !== 'S')
      throw preconditionFailed(`invalid arg 'alternate-exchange' for exchange '${d.name}' in vhost '${this.name}'`);
    if (ae) {
      authorize('read', 'exchange', d.name);
      authorize('write', 'exchange', ae.value as string);
    }
    const exchange = createExchange(d.name, d.type as ExchangeType, d, this.delays);
    this.applyExchangePolicy(exchange);
    this.exchanges.set(d.name, exchange);
    if (d.durable) this.dirty = true;
    this.saveIfDirty();
    return exchange;
  }

  private checkExchangeEquivalence(existing: Exchange, d: ExchangeDeclare): void {
    const flag = (field: string, received: unknown, current: unknown) => {
      if (received !== current)
        throw this.inequivalent('exchange', d.name, field, `received '${received}' but current is '${current}'`);
    };
    flag('type', d.type, existing.type);
    flag('durable', d.durable, existing.options.durable);
    flag('auto_delete', d.autoDelete, existing.options.autoDelete);
    flag('internal', d.internal, existing.options.internal);
    this.checkArguments('exchange', d.name, d.arguments, existing.options.arguments, ['alternate-exchange']);
  }

  /** RabbitMQ's 406 for a redeclaration that does not match the existing exchange or queue. */
  private inequivalent(kind: 'exchange' | 'queue', name: string, field: string, detail: string) {
    return inequivalentArg(kind, name, this.name, field, detail);
  }

  /** The arguments named in `keys` must be equivalent as RabbitMQ compares them (queue-arguments.ts). */
  private checkArguments(
    kind: 'exchange' | 'queue',
    name: string,
    received: FieldTable,
    current: FieldTable,
    keys: readonly string[],
  ): void {
    assertArgsEquivalence(kind, name, this.name, received, current, keys);
  }

  deleteExchange(name: string, ifUnused: boolean, authorize = ALLOW_ALL): void {
    if (name === '') throw accessRefused(`operation not permitted on the default exchange`);
    if (name.startsWith('amq.'))
      throw accessRefused(`deletion of system exchange '${name}' in vhost '${this.name}' not allowed`);
    authorize('configure', 'exchange', name);
    const exchange = this.exchanges.get(name);
    if (!exchange) return;
    if (ifUnused && exchange.bindings.size > 0)
      throw preconditionFailed(`exchange '${name}' in vhost '${this.name}' in use`);
    this.removeExchange(exchange);
    this.saveIfDirty();
  }

  private removeExchange(exchange: Exchange): void {
    this.exchanges.delete(exchange.name);
    this.delays.dropExchange(exchange);
    if (exchange.options.durable) this.dirty = true;
    for (const binding of [...exchange.bindings.values()]) this.removeBinding(binding, false);
    this.removeInbound(exchange);
  }

  // ---- policies ----

  /** Adds or replaces a policy and applies the result to every queue and exchange at once. */
  setPolicy(policy: Policy): void {
    this.policies.set(policy.name, policy);
    this.applyPolicies();
  }

  clearPolicy(name: string): boolean {
    if (!this.policies.delete(name)) return false;
    this.applyPolicies();
    return true;
  }

  private applyPolicies(): void {
    for (const queue of this.queues.values()) this.applyQueuePolicy(queue);
    for (const exchange of this.exchanges.values()) if (exchange.name !== '') this.applyExchangePolicy(exchange);
  }

  private applyQueuePolicy(queue: Queue): void {
    const policy = queue.options.exclusive ? undefined : effectivePolicy(this.policies.values(), 'queues', queue.name);
    const definition = definitionFor(policy, 'queues');
    queue.applyPolicy(policy?.name, withPolicy(queue.declared, definition), policy ? definition : undefined);
  }

  private applyExchangePolicy(exchange: Exchange): void {
    const policy = effectivePolicy(this.policies.values(), 'exchanges', exchange.name);
    exchange.applyPolicy(policy?.name, definitionFor(policy, 'exchanges'));
  }

  // ---- queues ----

  declareQueue(d: QueueDeclare, owner: object, authorize = ALLOW_ALL): Queue {
    const name = d.name === '' ? `amq.gen-${randomBytes(16).toString('base64url').slice(0, 22)}` : d.name;
    const existing = this.queues.get(name);
    if (d.passive) {
      if (!existing) throw notFound(`no queue '${name}' in vhost '${this.name}'`);
      this.checkOwner(existing, owner);
      existing.touch();
      return existing;
    }
    // RabbitMQ refuses the reserved prefix, and a server-named queue of a type that cannot have one, before it
    // looks at permissions
    if (d.name === '') refuseServerNamed(d.arguments);
    if (name.startsWith('amq.') && d.name !== '')
      throw accessRefused(`queue name '${name}' contains reserved prefix 'amq.*'`);
    authorize('configure', 'queue', name);
    if (existing) {
      this.checkOwner(existing, owner);
      this.checkQueueEquivalence(existing, d);
      existing.touch();
      return existing;
    }
    // as RabbitMQ: the dead-letter exchange's type and permissions before any other argument is validated
    const deadLetterExchange = deadLetterExchangeArg(name, d.arguments, this.name);
    if (deadLetterExchange !== undefined) {
      authorize('read', 'queue', name);
      authorize('write', 'exchange', deadLetterExchange);
    }
    const settings = parseQueueArguments(name, d.arguments, this.name, d.exclusive);
    if (settings.type === 'quorum')
      checkQuorumProperties(name, this.name, { ...d, durable: d.durable && !d.exclusive });
    const durable = this.storage !== undefined && d.durable && !d.exclusive;
    const store = durable ? this.storage?.openQueue(name, settings, true) : undefined;
    const queue = new Queue(name, d, settings, this, owner, store);
    this.applyQueuePolicy(queue);
    this.queues.set(name, queue);
    if (durable) this.dirty = true;
    this.saveIfDirty();
    return queue;
  }

  private checkQueueEquivalence(existing: Queue, d: QueueDeclare): void {
    const o = existing.options;
    const flag = (field: string, received: boolean, current: boolean) => {
      if (received !== current)
        throw this.inequivalent('queue', existing.name, field, `received '${received}' but current is '${current}'`);
    };
    // A different exclusive flag reads to RabbitMQ as someone else's exclusive queue: 405, not 406, and first.
    if (o.exclusive !== d.exclusive) throw this.locked(existing.name);
    // an exclusive queue is never durable to RabbitMQ, whatever the flag said
    flag('durable', d.durable && !d.exclusive, o.durable && !o.exclusive);
    flag('auto_delete', d.autoDelete, o.autoDelete);
    this.checkArguments('queue', existing.name, d.arguments, o.arguments, equivalenceArgs(existing.declared.type));
  }

  /** Looks a queue up for use by `owner`, enforcing exclusivity (404 / 405). */
  getQueue(name: string, owner: object): Queue {
    const queue = this.queues.get(name);
    if (!queue) throw notFound(`no queue '${name}' in vhost '${this.name}'`);
    this.checkOwner(queue, owner);
    return queue;
  }

  private checkOwner(queue: Queue, owner: object): void {
    if (queue.owner !== null && queue.owner !== owner) throw this.locked(queue.name);
  }

  private locked(queue: string) {
    return resourceLocked(
      `cannot obtain exclusive access to locked queue '${queue}' in vhost '${this.name}'. It could be originally declared on another connection or the exclusive property value does not match that of the original declaration.`,
    );
  }

  /** queue.delete. Returns the number of ready messages the queue had. */
  deleteQueue(name: string, owner: object, ifUnused: boolean, ifEmpty: boolean): number {
    const queue = this.queues.get(name);
    if (!queue) return 0;
    this.checkOwner(queue, owner);
    if (queue.quorum && (ifUnused || ifEmpty)) {
      // rabbit_quorum_queue:delete: a quorum queue tracks neither, and says so on the connection
      const flag = ifUnused ? 'if-unused' : 'if-empty';
      throw connectionError(
        ReplyCode.NOT_IMPLEMENTED,
        `cannot delete queue '${name}' in vhost '${this.name}'. queue.delete operations with ${flag} flag set are not supported by quorum queues`,
      );
    }
    if (ifUnused && queue.consumerCount > 0) throw preconditionFailed(`queue '${name}' in vhost '${this.name}' in use`);
    if (ifEmpty && queue.messageCount > 0)
      throw preconditionFailed(`queue '${name}' in vhost '${this.name}' not empty`);
    const count = this.removeQueue(queue);
    this.saveIfDirty();
    return count;
  }

  private removeQueue(queue: Queue): number {
    if (this.queues.get(queue.name) !== queue) return 0;
    this.queues.delete(queue.name);
    if (isDurable(queue)) this.dirty = true;
    this.removeInbound(queue);
    return queue.delete();
  }

  /** QueueHost: auto-delete after the last consumer, or x-expires. */
  expireQueue(queue: Queue): void {
    this.removeQueue(queue);
    this.saveIfDirty();
  }

  /** A connection closed: its exclusive queues go with it. */
  ownerClosed(owner: object): void {
    for (const queue of [...this.queues.values()]) if (queue.owner === owner) this.removeQueue(queue);
    this.saveIfDirty();
  }

  // ---- bindings ----

  bindQueue(
    queueName: string,
    exchangeName: string,
    routingKey: string,
    args: FieldTable,
    owner: object,
    authorize = ALLOW_ALL,
  ): void {
    this.authorizeBinding(authorize, 'queue', queueName, exchangeName);
    const exchange = this.bindableExchange(exchangeName);
    const queue = this.getQueue(queueName, owner);
    this.addBinding(exchange, queue, routingKey, args);
    this.saveIfDirty();
  }

  unbindQueue(
    queueName: string,
    exchangeName: string,
    routingKey: string,
    args: FieldTable,
    owner: object,
    authorize = ALLOW_ALL,
  ): void {
    this.authorizeBinding(authorize, 'queue', queueName, exchangeName);
    if (!this.queues.has(queueName)) return; // unbinding from a missing queue is not an error
    const queue = this.getQueue(queueName, owner);
    const exchange = this.bindableExchange(exchangeName);
    const binding = exchange.bindings.get(bindingId(queue, routingKey, args));
    if (binding) this.removeBinding(binding, true);
    this.saveIfDirty();
  }

  bindExchange(
    destinationName: string,
    sourceName: string,
    routingKey: string,
    args: FieldTable,
    authorize = ALLOW_ALL,
  ): void {
    this.authorizeBinding(authorize, 'exchange', destinationName, sourceName);
    const destination = this.bindableExchange(destinationName);
    const source = this.bindableExchange(sourceName);
    this.addBinding(source, destination, routingKey, args);
    this.saveIfDirty();
  }

  unbindExchange(
    destinationName: string,
    sourceName: string,
    routingKey: string,
    args: FieldTable,
    authorize = ALLOW_ALL,
  ): void {
    this.authorizeBinding(authorize, 'exchange', destinationName, sourceName);
    const destination = this.bindableExchange(destinationName);
    const source = this.bindableExchange(sourceName);
    const binding = source.bindings.get(bindingId(destination, routingKey, args));
    if (binding) this.removeBinding(binding, true);
    this.saveIfDirty();
  }

  /** A binding writes to its destination and reads from its source; the default exchange takes no bindings. */
  private authorizeBinding(
    authorize: Authorize,
    type: 'queue' | 'exchange',
    destination: string,
    source: string,
  ): void {
    authorize('write', type, destination);
    if (type === 'exchange' && destination === '')
      throw accessRefused(`operation not permitted on the default exchange`);
    if (source === '') throw accessRefused(`operation not permitted on the default exchange`);
    authorize('read', 'exchange', source);
  }

  private bindableExchange(name: string): Exchange {
    if (name === '') throw accessRefused(`operation not permitted on the default exchange`);
    const exchange = this.exchanges.get(name);
    if (!exchange) throw notFound(`no exchange '${name}' in vhost '${this.name}'`);
    return exchange;
  }

  private addBinding(source: Exchange, destination: Queue | Exchange, routingKey: string, args: FieldTable): void {
    if (source.type === 'headers') validateHeadersBinding(args);
    const binding: Binding = {
      source,
      destination,
      routingKey,
      arguments: args,
      id: bindingId(destination, routingKey, args),
    };
    if (!source.bind(binding)) return;
    if (isDurableBinding(binding)) this.dirty = true;
    let set = this.inbound.get(destination);
    if (!set) this.inbound.set(destination, (set = new Set()));
    set.add(binding);
  }

  /** Removes a binding; an auto-delete source exchange goes when its last binding does. */
  private removeBinding(binding: Binding, autoDeleteSource: boolean): void {
    binding.source.unbind(binding.id);
    if (isDurableBinding(binding)) this.dirty = true;
    const set = this.inbound.get(binding.destination);
    set?.delete(binding);
    if (set?.size === 0) this.inbound.delete(binding.destination);
    const source = binding.source;
    if (
      autoDeleteSource &&
      source.options.autoDelete &&
      source.bindings.size === 0 &&
      this.exchanges.get(source.name) === source
    )
      this.removeExchange(source);
  }

  private removeInbound(destination: Queue | Exchange): void {
    const set = this.inbound.get(destination);
    if (!set) return;
    for (const binding of [...set]) this.removeBinding(binding, true);
    this.inbound.delete(destination);
  }

  // ---- durability ----

  private saveIfDirty(): void {
    if (!this.dirty) return;
    this.dirty = false;
    this.storage?.saveDefinitions(this.definitions());
  }

  /** The durable exchanges, queues and bindings, as saved to disk. */
  definitions(): Definitions {
    const exchanges = [...this.exchanges.values()].filter(
      (x) => x.options.durable && x.name !== '' && !PREDECLARED_NAMES.has(x.name),
    );
    const queues = [...this.queues.values()].filter(isDurable);
    const bindings = [...this.exchanges.values()].flatMap((x) => [...x.bindings.values()].filter(isDurableBinding));
    return {
      version: 1,
      exchanges: exchanges.map((x) => ({
        name: x.name,
        type: x.type,
        autoDelete: x.options.autoDelete,
        internal: x.options.internal,
        arguments: encodeArguments(x.options.arguments),
      })),
      queues: queues.map((q) => ({
        name: q.name,
        autoDelete: q.options.autoDelete,
        arguments: encodeArguments(q.options.arguments),
      })),
      bindings: bindings.map((b) => ({
        source: b.source.name,
        destination: b.destination.name,
        destinationType: b.destination.kind === 'queue' ? 'queue' : 'exchange',
        routingKey: b.routingKey,
        arguments: encodeArguments(b.arguments),
      })),
    };
  }

  /** Start-up: brings back the durable definitions and the messages of every durable queue. */
  restore(): void {
    const storage = this.storage;
    if (!storage) return;
    const definitions = storage.loadDefinitions();
    for (const x of definitions?.exchanges ?? []) {
      if (!isExchangeType(x.type)) continue;
      const options = {
        durable: true,
        autoDelete: x.autoDelete,
        internal: x.internal,
        arguments: decodeArguments(x.arguments),
      };
      this.exchanges.set(x.name, createExchange(x.name, x.type, options, this.delays));
    }
    for (const q of definitions?.queues ?? []) {
      const options = {
        durable: true,
        exclusive: false,
        autoDelete: q.autoDelete,
        arguments: decodeArguments(q.arguments),
      };
      const settings = queueSettings(options.arguments);
      const store = storage.openQueue(q.name, settings, false);
      this.queues.set(q.name, new Queue(q.name, options, settings, this, null, store));
    }
    for (const b of definitions?.bindings ?? []) {
      const source = this.exchanges.get(b.source);
      const destination =
        b.destinationType === 'queue' ? this.queues.get(b.destination) : this.exchanges.get(b.destination);
      if (source && destination) this.addBinding(source, destination, b.routingKey, decodeArguments(b.arguments));
    }
    this.dirty = false;
    storage.removeOrphans(this.queues.keys());
    this.delays.recover(this.exchanges.values());
    for (const queue of this.queues.values()) {
      queue.resumeDeadLettering(); // every queue and binding is back: dead-letter targets can be found
      queue.drain(); // arms TTL timers for recovered heads
    }
  }

  /** Shutdown: every queue's data to disk. */
  close(): void {
    this.delays.close();
    for (const queue of this.queues.values()) queue.close();
  }

  // ---- routing ----

  /**
   * The queues a message published to `exchange` reaches, each once. Exchanges are visited through
   * exchange-to-exchange bindings; an exchange that has no destination at all for the message passes it to its
   * alternate exchange (as RabbitMQ does at every level, not only at the first). `extraKeys` are the CC/BCC
   * routing keys of sender-selected distribution.
   */
  route(exchange: Exchange, message: Message, extraKeys?: readonly string[]): Queue[] {
    const generation = ++this.routeGeneration;
    const routed: Queue[] = (this.routed = []);
    const pending = this.pendingExchanges;
    pending.length = 0; // a pass that threw (an x-delay the delayed exchange could not read) left some behind
    exchange.routeMark = generation;
    pending.push(exchange);
    while (pending.length > 0) {
      const current = pending.pop() as Exchange;
      this.hits = 0;
      current.route(message, message.routingKey, this);
      if (extraKeys) for (const key of extraKeys) current.route(message, key, this);
      if (this.hits === 0 && current.alternateExchange !== undefined) {
        const alternate = this.exchanges.get(current.alternateExchange);
        if (alternate && alternate.routeMark !== generation) {
          alternate.routeMark = generation;
          pending.push(alternate);
        }
      }
    }
    return routed;
  }

  /** RouteCollector: called by exchanges during route(). */
  add(destination: Queue | Exchange): void {
    this.hits++;
    if (destination.routeMark === this.routeGeneration) return;
    destination.routeMark = this.routeGeneration;
    if (destination.kind === 'queue') this.routed.push(destination);
    else this.pendingExchanges.push(destination);
  }

  /** QueueHost: republish a message that died in `queue` to the queue's dead-letter exchange. */
  deadLetter(queue: Queue, message: Message, reason: DeadLetterReason): void {
    for (const { target, dead } of this.deadLetterTargets(queue, message, reason)) target.publish(dead);
  }

  /**
   * QueueHost, at-least-once (quorum queues): as deadLetter, then `settled` once every queue that took the copy
   * has it on disk. False when no queue took it (RabbitMQ's worker keeps such a message and tries again later).
   */
  deadLetterReliably(queue: Queue, message: Message, reason: DeadLetterReason, settled: () => void): boolean {
    let waiting = 1;
    let taken = 0;
    const one = () => {
      if (--waiting === 0) settled();
    };
    for (const { target, dead } of this.deadLetterTargets(queue, message, reason)) {
      const outcome = target.publish(dead);
      if (outcome === 'rejected') continue;
      taken++;
      if (outcome === 'written' && target.store.afterSync(one)) waiting++;
    }
    if (taken === 0) return false;
    one();
    return true;
  }

  /** The queues the dead-letter copy of `message` goes to (none without a dead-letter exchange), with the copy. */
  private deadLetterTargets(
    queue: Queue,
    message: Message,
    reason: DeadLetterReason,
  ): { target: Queue; dead: Message }[] {
    const { deadLetterExchange, deadLetterRoutingKey } = queue.settings;
    if (deadLetterExchange === undefined) return [];
    const exchange = this.exchanges.get(deadLetterExchange);
    if (!exchange) return [];
    const { dead, extraKeys } = deadLetterMessage(
      message,
      queue.name,
      reason,
      deadLetterExchange,
      deadLetterRoutingKey,
      Date.now(),
    );
    return this.route(exchange, dead, extraKeys)
      .filter((target) => !isDeadLetterCycle(dead.properties, target.name))
      .map((target) => ({ target, dead }));
  }
}

/**
 * Only classic queues can be server-named in RabbitMQ 3.10 (the queue types' server_named capability): a
 * declaration with an empty name of another type is refused (as the module prints, RabbitMQ's ~p of the type).
 */
function refuseServerNamed(args: FieldTable): void {
  const type = args.get('x-queue-type');
  if (type?.type !== 'S' || (type.value !== 'quorum' && type.value !== 'stream')) return;
  throw preconditionFailed(`Cannot declare a server-named queue for type rabbit_${type.value}_queue`);
}
