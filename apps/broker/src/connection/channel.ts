import * as P from '@warren/amqp-protocol';
import {
  BasicProperties,
  ContentHeader,
  FLAG_EXPIRATION,
  FLAG_HEADERS,
  FLAG_REPLY_TO,
  FLAG_USER_ID,
  Method,
  propertiesWellFormed,
  ProtocolError,
  ReplyCode,
} from '@warren/amqp-protocol';
import { randomBytes } from 'node:crypto';
import { accessRefused, connectionError, notFound, notImplemented, preconditionFailed } from '../errors';
import { headerKeys, Message, QueuedMessage } from '../message';
import type { Queue } from '../queue/queue';
import { MAX_TTL } from '../queue/queue-arguments';
import { ChannelConsumer } from './channel-consumer';
import type { Connection } from './connection';
import { DIRECT_REPLY_TO, DirectReplyTo } from './direct-reply-to';
import type { Authorize } from '../vhost/vhost';
import { resourceName } from '../access/access-control';

/** A delivery waiting for basic.ack / nack / reject. */
interface Unacked {
  readonly tag: number;
  readonly queue: Queue;
  readonly entry: QueuedMessage;
  readonly consumer: ChannelConsumer | undefined;
}

/** A publisher confirm waiting to be sent: until its queues have the message on disk, and in order. */
interface PendingConfirm {
  readonly tag: number;
  readonly ack: boolean;
  /** Durable queues that have not yet fsynced the message. */
  waiting: number;
}

interface PendingPublish {
  exchange: string;
  routingKey: string;
  mandatory: boolean;
  header: ContentHeader | undefined;
  body: Buffer[];
  received: number;
}

type TxAction =
  | { kind: 'publish'; message: Message; mandatory: boolean }
  | { kind: 'settle'; items: Unacked[]; requeue: boolean | 'ack' };

/**
 * One AMQP channel: method dispatch for everything but connection.*, content assembly for basic.publish, the
 * channel's consumers, unacknowledged deliveries, prefetch, publisher confirms and transactions.
 */
export class Channel {
  closing = false;
  /** The message being assembled from a basic.publish, its header and body frames. */
  pending: PendingPublish | undefined;

  private readonly consumers = new Map<string, ChannelConsumer>();
  private readonly unacked = new Map<number, Unacked>();
  private nextDeliveryTag = 1;
  private prefetchPerConsumer = 0;
  private prefetchGlobal = 0;
  private lastQueue: string | undefined;

  private confirmMode = false;
  /** The exchange this channel last published to with write permission. */
  private writableExchange: string | undefined;
  private publishSeq = 0;
  /** Confirms not yet sent, in publish order. Sent from the front as they become ready, runs of acks coalesced. */
  private confirms: PendingConfirm[] = [];
  private confirmsHead = 0;
  confirmFlushQueued = false;
  /** Queues whose store took the message being routed (reused across publishes). */
  private readonly written: Queue[] = [];
  private tx: TxAction[] | undefined;
  private replyTo: DirectReplyTo | undefined;

  constructor(
    readonly id: number,
    readonly connection: Connection,
  ) {}

  private get vhost() {
    return this.connection.vhost;
  }

  private get metrics() {
    return this.connection.broker.metrics;
  }

  /** The connection's user against its vhost's permissions (RabbitMQ names the default exchange amq.default). */
  private readonly authorize: Authorize = (kind, type, name) => {
    const resource = resourceName(type, name);
    const { user, vhost } = this.connection;
    if (this.connection.broker.access.permits(user, vhost.name, kind, resource)) return;
    throw accessRefused(`access to ${type} '${resource}' in vhost '${vhost.name}' refused for user '${user}'`);
  };

  // ---- dispatch ----

  handle(method: Method): void {
    switch (method.id) {
      case P.BASIC_PUBLISH: {
        const a = method.args;
        if (a.immediate) throw connectionError(ReplyCode.NOT_IMPLEMENTED, 'immediate=true');
        this.connection.notePublish();
        this.pending = {
          exchange: a.exchange,
          routingKey: a.routingKey,
          mandatory: a.mandatory,
          header: undefined,
          body: [],
          received: 0,
        };
        return;
      }
      case P.BASIC_ACK:
        return this.settle(method.args.deliveryTag, method.args.multiple, 'ack');
      case P.BASIC_NACK:
        return this.settle(method.args.deliveryTag, method.args.multiple, method.args.requeue);
      case P.BASIC_REJECT:
        return this.settle(method.args.deliveryTag, false, method.args.requeue);
      case P.BASIC_QOS:
        return this.qos(method.args.prefetchSize, method.args.prefetchCount, method.args.global);
      case P.BASIC_CONSUME:
        return this.consume(method.args);
      case P.BASIC_CANCEL:
        return this.cancel(method.args.consumerTag, method.args.noWait);
      case P.BASIC_GET:
        return this.get(method.args.queue, method.args.noAck);
      case P.BASIC_RECOVER:
        this.recover(method.args.requeue);
        return this.send(P.BASIC_RECOVER_OK, {});
      case P.BASIC_RECOVER_ASYNC:
        return this.recover(method.args.requeue);
      case P.EXCHANGE_DECLARE: {
        const a = method.args;
        this.vhost.declareExchange(
          {
            name: a.exchange,
            type: a.type,
            passive: a.passive,
            durable: a.durable,
            autoDelete: a.autoDelete,
            internal: a.internal,
            arguments: a.arguments,
          },
          this.authorize,
        );
        if (!a.noWait) this.send(P.EXCHANGE_DECLARE_OK, {});
        return;
      }
      case P.EXCHANGE_DELETE:
        this.vhost.deleteExchange(method.args.exchange, method.args.ifUnused, this.authorize);
        if (!method.args.noWait) this.send(P.EXCHANGE_DELETE_OK, {});
        return;
      case P.EXCHANGE_BIND: {
        const a = method.args;
        this.vhost.bindExchange(a.destination, a.source, a.routingKey, a.arguments, this.authorize);
        if (!a.noWait) this.send(P.EXCHANGE_BIND_OK, {});
        return;
      }
      case P.EXCHANGE_UNBIND: {
        const a = method.args;
        this.vhost.unbindExchange(a.destination, a.source, a.routingKey, a.arguments, this.authorize);
        if (!a.noWait) this.send(P.EXCHANGE_UNBIND_OK, {});
        return;
      }
      case P.QUEUE_DECLARE:
        return this.declareQueue(method.args);
      case P.QUEUE_BIND: {
        const a = method.args;
        const key = this.bindingKey(a.routingKey, a.queue);
        this.vhost.bindQueue(this.queueName(a.queue), a.exchange, key, a.arguments, this.connection, this.authorize);
        if (!a.noWait) this.send(P.QUEUE_BIND_OK, {});
        return;
      }
      case P.QUEUE_UNBIND: {
        const a = method.args;
        const key = this.bindingKey(a.routingKey, a.queue);
        this.vhost.unbindQueue(this.queueName(a.queue), a.exchange, key, a.arguments, this.connection, this.authorize);
        return this.send(P.QUEUE_UNBIND_OK, {});
      }
      case P.QUEUE_PURGE: {
        const name = this.queueName(method.args.queue);
        this.authorize('read', 'queue', name);
        const count = this.vhost.getQueue(name, this.connection).purge();
        if (!method.args.noWait) this.send(P.QUEUE_PURGE_OK, { messageCount: count });
        return;
      }
      case P.QUEUE_DELETE: {
        const a = method.args;
        const name = this.queueName(a.queue);
        this.authorize('configure', 'queue', name);
        const count = this.vhost.deleteQueue(name, this.connection, a.ifUnused, a.ifEmpty);
        if (!a.noWait) this.send(P.QUEUE_DELETE_OK, { messageCount: count });
        return;
      }
      case P.CONFIRM_SELECT:
        if (this.tx) throw preconditionFailed('cannot switch from tx to confirm mode');
        this.confirmMode = true;
        if (!method.args.nowait) this.send(P.CONFIRM_SELECT_OK, {});
        return;
      case P.TX_SELECT:
        if (this.confirmMode) throw preconditionFailed('cannot switch from confirm to tx mode');
        this.tx ??= [];
        return this.send(P.TX_SELECT_OK, {});
      case P.TX_COMMIT:
        return this.commit();
      case P.TX_ROLLBACK:
        this.rollback();
        return this.send(P.TX_ROLLBACK_OK, {});
      case P.CHANNEL_FLOW:
        // RabbitMQ does not let clients stop deliveries with channel.flow; consumers use basic.qos instead.
        if (!method.args.active) throw notImplemented('active=false');
        return this.send(P.CHANNEL_FLOW_OK, { active: true });
      case P.CHANNEL_FLOW_OK:
        return;
      default:
        // methods only a server sends (declare-ok, deliver, ...) are not implemented on the server side
        throw connectionError(ReplyCode.COMMAND_INVALID, 'unimplemented method');
    }
  }

  /** This channel as the management API lists it (RabbitMQ's field names); `connection` is the owner's info. */
  info(connection: { name: string; peer_host?: string; peer_port?: number }) {
    return {
      name: `${connection.name} (${this.id})`,
      number: this.id,
      connection_details: { name: connection.name, peer_host: connection.peer_host, peer_port: connection.peer_port },
      user: this.connection.user,
      vhost: this.vhost.name,
      state: this.closing ? 'closing' : 'running',
      consumer_count: this.consumers.size,
      messages_unacknowledged: this.unacked.size,
      prefetch_count: this.prefetchPerConsumer,
      global_prefetch_count: this.prefetchGlobal,
      confirm: this.confirmMode,
      transactional: this.tx !== undefined,
      node: 'warren@localhost',
    };
  }

  /** This channel's consumers, for the management API. */
  consumerList(): ChannelConsumer[] {
    return [...this.consumers.values()];
  }

  /** Adds this channel's unacknowledged deliveries to `counts`, per queue (management API). */
  countUnacked(counts: Map<object, number>): void {
    for (const { queue } of this.unacked.values()) counts.set(queue, (counts.get(queue) ?? 0) + 1);
  }

  private send(methodId: number, args: object): void {
    this.connection.sendMethod(this.id, methodId, args);
  }

  /** An empty queue name means the queue this channel declared last (AMQP's "current queue"). */
  private queueName(name: string): string {
    if (name !== '') return name;
    if (this.lastQueue === undefined) throw notFound('no previously declared queue');
    return this.lastQueue;
  }

  /** queue.bind with an empty queue and key binds the current queue with its own name as key. */
  private bindingKey(routingKey: string, queue: string): string {
    return routingKey === '' && queue === '' && this.lastQueue !== undefined ? this.lastQueue : routingKey;
  }

  private declareQueue(a: P.QueueDeclareArgs): void {
    if (a.queue === DIRECT_REPLY_TO && a.passive) {
      // RabbitMQ answers for the pseudo-queue as if it had one consumer.
      if (!a.noWait) this.send(P.QUEUE_DECLARE_OK, { queue: DIRECT_REPLY_TO, messageCount: 0, consumerCount: 1 });
      return;
    }
    const queue = this.vhost.declareQueue(
      {
        name: a.queue,
        passive: a.passive,
        durable: a.durable,
        exclusive: a.exclusive,
        autoDelete: a.autoDelete,
        arguments: a.arguments,
      },
      this.connection,
      this.authorize,
    );
    this.lastQueue = queue.name;
    if (!a.noWait)
      this.send(P.QUEUE_DECLARE_OK, {
        queue: queue.name,
        messageCount: queue.messageCount,
        consumerCount: queue.consumerCount,
      });
  }

  // ---- content ----

  onHeader(header: ContentHeader, maxMessageSize: number): void {
    const pending = this.pending as PendingPublish;
    if (header.bodySize > maxMessageSize) {
      this.pending = undefined;
      throw preconditionFailed(`message size ${header.bodySize} is larger than configured max size ${maxMessageSize}`);
    }
    pending.header = header;
    if (header.bodySize === 0) this.publish();
  }

  onBody(payload: Buffer): void {
    const pending = this.pending as PendingPublish;
    pending.received += payload.length;
    const header = pending.header as ContentHeader;
    if (pending.received > header.bodySize) {
      // More bytes than announced: the message can never complete (RabbitMQ keeps waiting for the body and
      // fails on the next method with 505). Drop what came so far.
      pending.body.length = 0;
      return;
    }
    pending.body.push(payload);
    if (pending.received === header.bodySize) this.publish();
  }

  /** The content of a basic.publish is complete: validate, then route (or hold until tx.commit). */
  private publish(): void {
    const pending = this.pending as PendingPublish;
    this.pending = undefined;
    const header = pending.header as ContentHeader;
    // Copy out of the socket's read buffer so a queued message does not pin a whole chunk in memory.
    const body =
      pending.body.length === 1 ? Buffer.from(pending.body[0]) : Buffer.concat(pending.body, header.bodySize);
    const message = new Message(pending.exchange, pending.routingKey, Buffer.from(header.properties), body);
    const seq = this.confirmMode ? ++this.publishSeq : 0;
    this.metrics.received++;

    // one regex check per exchange a channel publishes to, not per message (RabbitMQ caches these per channel too)
    if (pending.exchange !== this.writableExchange) {
      this.authorize('write', 'exchange', pending.exchange);
      this.writableExchange = pending.exchange;
    }
    const exchange = this.vhost.exchanges.get(pending.exchange);
    if (!exchange) throw notFound(`no exchange '${pending.exchange}' in vhost '${this.vhost.name}'`);
    if (exchange.options.internal)
      throw accessRefused(`cannot publish to internal exchange '${pending.exchange}' in vhost '${this.vhost.name}'`);
    this.validateProperties(message);

    if (this.tx) {
      this.tx.push({ kind: 'publish', message, mandatory: pending.mandatory });
      return;
    }
    const outcome = this.route(message, pending.mandatory);
    if (seq === 0) return;
    // Like RabbitMQ, an unroutable message is confirmed at once (after its basic.return). A routed one is
    // confirmed once its queues took it: at the end of the current read, or, when it is persistent and went to
    // durable queues, once they have fsynced it.
    if (outcome === 'unroutable') {
      this.metrics.confirmed++;
      this.send(P.BASIC_ACK, { deliveryTag: seq, multiple: false });
      return;
    }
    const confirm: PendingConfirm = { tag: seq, ack: outcome === 'accepted', waiting: 0 };
    this.waitForDisk(
      message,
      () => {
        if (--confirm.waiting === 0 && !this.closing) this.flushConfirms();
      },
      confirm,
    );
    this.confirms.push(confirm);
    if (confirm.waiting === 0 && !this.confirmFlushQueued) {
      this.confirmFlushQueued = true;
      this.connection.confirmsPending(this);
    }
  }

  /** Registers `synced` with every durable queue that just wrote this persistent message; counts them. */
  private waitForDisk(message: Message, synced: () => void, counter: { waiting: number }): void {
    const written = this.written;
    if (written.length === 0) return;
    // a quorum queue keeps every message on disk, persistent or not (as RabbitMQ's Raft log does)
    const persistent = message.persistent;
    for (let i = 0; i < written.length; i++)
      if ((persistent || written[i].quorum) && written[i].store.afterSync(synced)) counter.waiting++;
  }

  private validateProperties(message: Message): void {
    // RabbitMQ decodes every message's properties at publish and fails the connection when they do not parse.
    // Lengths are enough to know (the list is decoded only when a property below needs reading); a message
    // let through unchecked would fail later, at dead-lettering, on somebody else's connection.
    if (!propertiesWellFormed(message.rawProperties)) throw undecodableProperties();
    const flags = message.flags;
    if ((flags & (FLAG_HEADERS | FLAG_EXPIRATION | FLAG_USER_ID | FLAG_REPLY_TO)) === 0) return;
    let props: BasicProperties;
    try {
      props = message.properties;
    } catch (error) {
      // Past the codec's limits (tables nested too deep): a 501 that says so.
      if (error instanceof ProtocolError && error.code === ReplyCode.FRAME_ERROR)
        throw connectionError(ReplyCode.FRAME_ERROR, error.message).at(0, 0);
      throw undecodableProperties();
    }
    if (props.userId !== undefined && props.userId !== this.connection.user && !this.connection.impersonator)
      throw preconditionFailed(
        `user_id property set to '${props.userId}' but authenticated user was '${this.connection.user}'`,
      );
    if (props.expiration !== undefined) {
      if (!/^\d+$/.test(props.expiration))
        throw preconditionFailed(
          `invalid expiration '${props.expiration}': {error,{not_an_integer,"${props.expiration}"}}`,
        );
      if (Number(props.expiration) > MAX_TTL)
        throw preconditionFailed(
          `invalid expiration '${props.expiration}': {value_too_large,${BigInt(props.expiration)}}`,
        );
    }
    if (props.replyTo === DIRECT_REPLY_TO) {
      if (!this.replyTo) throw preconditionFailed('fast reply consumer does not exist');
      message.properties = { ...message.properties, replyTo: this.replyTo.address };
    }
    if (props.headers?.has('BCC')) {
      // BCC keys route the message but never reach a consumer.
      message.bcc = headerKeys(message, 'BCC');
      const headers = new Map(message.properties.headers);
      headers.delete('BCC');
      message.properties = { ...message.properties, headers };
    }
  }

  /** Routes and enqueues; 'rejected' when a queue refused the message (reject-publish overflow). */
  private route(message: Message, mandatory: boolean): 'accepted' | 'rejected' | 'unroutable' {
    this.written.length = 0;
    if (message.exchange === '' && message.routingKey.startsWith(`${DIRECT_REPLY_TO}.`)) {
      if (this.connection.broker.replyTo.deliver(message)) return 'accepted';
      if (mandatory) this.returnMessage(message);
      return 'unroutable';
    }
    const exchange = this.vhost.exchanges.get(message.exchange);
    if (!exchange) return 'unroutable'; // deleted inside a transaction: dropped, as RabbitMQ does
    const extraKeys = (message.flags & FLAG_HEADERS) !== 0 ? sentTo(message) : undefined;
    const queues = this.vhost.route(exchange, message, extraKeys);
    if (queues.length === 0) {
      if (mandatory) this.returnMessage(message);
      if (mandatory) this.metrics.unroutableReturned++;
      else this.metrics.unroutableDropped++;
      return 'unroutable';
    }
    this.metrics.routed++;
    let outcome: 'accepted' | 'rejected' = 'accepted';
    const written = this.written;
    written.length = 0;
    for (let i = 0; i < queues.length; i++) {
      if (queues[i].backlogged) this.connection.throttled = true;
      const result = queues[i].publish(message);
      if (result === 'rejected') outcome = 'rejected';
      else if (result === 'written') written.push(queues[i]);
    }
    return outcome;
  }

  private returnMessage(message: Message): void {
    this.connection.sendContent(
      this.id,
      P.BASIC_RETURN,
      {
        replyCode: ReplyCode.NO_ROUTE,
        replyText: 'NO_ROUTE',
        exchange: message.exchange,
        routingKey: message.routingKey,
      },
      message,
    );
  }

  /**
   * Sends the confirms at the front that are ready, in order: a run of acks becomes one ack with multiple=true
   * (everything lower has been confirmed by then). Nacks go one by one.
   */
  flushConfirms(): void {
    this.confirmFlushQueued = false;
    const confirms = this.confirms;
    let i = this.confirmsHead;
    while (i < confirms.length && confirms[i].waiting === 0) {
      const first = confirms[i];
      if (!first.ack) {
        // RabbitMQ sets multiple (nothing lower is outstanding by now) and requeue on publisher nacks.
        this.send(P.BASIC_NACK, { deliveryTag: first.tag, multiple: true, requeue: true });
        i++;
        continue;
      }
      let last = i;
      while (last + 1 < confirms.length && confirms[last + 1].waiting === 0 && confirms[last + 1].ack) last++;
      this.send(P.BASIC_ACK, { deliveryTag: confirms[last].tag, multiple: last > i });
      this.metrics.confirmed += last - i + 1;
      i = last + 1;
    }
    if (i === confirms.length) {
      this.confirms = [];
      this.confirmsHead = 0;
    } else if (i > 1024) {
      this.confirms = confirms.slice(i);
      this.confirmsHead = 0;
    } else this.confirmsHead = i;
  }

  // ---- consuming ----

  private qos(prefetchSize: number, prefetchCount: number, global: boolean): void {
    if (prefetchSize !== 0) throw notImplemented(`prefetch_size!=0 (${prefetchSize})`);
    if (global) this.prefetchGlobal = prefetchCount;
    else {
      // As in RabbitMQ 3.10, a per-consumer basic.qos also lifts a channel-wide (global) limit set before it.
      this.prefetchPerConsumer = prefetchCount;
      this.prefetchGlobal = 0;
    }
    this.send(P.BASIC_QOS_OK, {});
    this.kickQueues();
  }

  private consume(a: P.BasicConsumeArgs): void {
    const tag = a.consumerTag || `amq.ctag-${randomBytes(16).toString('base64url').slice(0, 22)}`;
    if (this.consumers.has(tag) || (this.replyTo && this.replyTo.tag === tag))
      throw connectionError(ReplyCode.NOT_ALLOWED, `attempt to reuse consumer tag '${tag}'`);
    if (a.queue === DIRECT_REPLY_TO) {
      if (!a.noAck) throw preconditionFailed('reply consumer cannot acknowledge');
      if (this.replyTo) throw preconditionFailed('reply consumer already set');
      this.replyTo = this.connection.broker.replyTo.register(this, tag);
      if (!a.noWait) this.send(P.BASIC_CONSUME_OK, { consumerTag: tag });
      return;
    }
    const name = this.queueName(a.queue);
    this.authorize('read', 'queue', name);
    const queue = this.vhost.getQueue(name, this.connection);
    if (queue.consumers.some((c) => c.exclusive) || (a.exclusive && queue.consumers.length > 0))
      throw accessRefused(`queue '${queue.name}' in vhost '${this.vhost.name}' in exclusive use`);
    // rabbit_quorum_queue:consume refuses a channel with a channel-wide (global) prefetch limit in force
    if (queue.quorum && this.prefetchGlobal > 0)
      throw connectionError(
        ReplyCode.NOT_IMPLEMENTED,
        `queue '${queue.name}' in vhost '${this.vhost.name}' does not support global qos`,
      );
    const priority = a.arguments.get('x-priority');
    const consumer = new ChannelConsumer(
      tag,
      queue,
      this,
      a.noAck,
      a.exclusive,
      typeof priority?.value === 'number' ? priority.value : 0,
      this.prefetchPerConsumer,
    );
    this.consumers.set(tag, consumer);
    // consume-ok goes out before the first delivery
    if (!a.noWait) this.send(P.BASIC_CONSUME_OK, { consumerTag: tag });
    queue.addConsumer(consumer);
  }

  private cancel(tag: string, noWait: boolean): void {
    if (this.replyTo?.tag === tag) {
      this.connection.broker.replyTo.unregister(this.replyTo);
      this.replyTo = undefined;
    }
    const consumer = this.consumers.get(tag);
    if (consumer) {
      this.consumers.delete(tag);
      consumer.queue.removeConsumer(consumer);
    }
    if (!noWait) this.send(P.BASIC_CANCEL_OK, { consumerTag: tag });
  }

  consumerCancelledByServer(consumer: ChannelConsumer): void {
    if (this.consumers.get(consumer.tag) !== consumer) return;
    this.consumers.delete(consumer.tag);
    if (!this.closing && this.connection.capabilities.consumerCancelNotify)
      this.send(P.BASIC_CANCEL, { consumerTag: consumer.tag, noWait: true });
  }

  canDeliver(): boolean {
    return !this.closing && !this.connection.congested;
  }

  hasGlobalCredit(): boolean {
    return this.prefetchGlobal === 0 || this.unacked.size < this.prefetchGlobal;
  }

  deliver(consumer: ChannelConsumer, entry: QueuedMessage): void {
    const tag = this.nextDeliveryTag++;
    const message = consumer.queue.quorum ? consumer.queue.outgoing(entry, false) : entry.message;
    const metrics = this.metrics;
    const stats = consumer.queue.stats;
    metrics.delivered++;
    stats.deliverGet++;
    if (entry.redelivered) {
      metrics.redelivered++;
      stats.redeliver++;
    }
    if (!consumer.noAck) {
      this.unacked.set(tag, { tag, queue: consumer.queue, entry, consumer });
      consumer.unacked++;
    }
    this.connection.sendContent(
      this.id,
      P.BASIC_DELIVER,
      {
        consumerTag: consumer.tag,
        deliveryTag: tag,
        redelivered: entry.redelivered,
        exchange: message.exchange,
        routingKey: message.routingKey,
      },
      message,
    );
  }

  /** A direct reply-to response for this channel's reply consumer. */
  deliverReply(tag: string, message: Message): void {
    this.connection.sendContent(
      this.id,
      P.BASIC_DELIVER,
      {
        consumerTag: tag,
        deliveryTag: this.nextDeliveryTag++,
        redelivered: false,
        exchange: message.exchange,
        routingKey: message.routingKey,
      },
      message,
    );
  }

  private get(queueName: string, noAck: boolean): void {
    const name = this.queueName(queueName);
    this.authorize('read', 'queue', name);
    const queue = this.vhost.getQueue(name, this.connection);
    const entry = queue.get(noAck);
    if (!entry) {
      this.send(P.BASIC_GET_EMPTY, { reserved1: '' });
      return;
    }
    const tag = this.nextDeliveryTag++;
    this.metrics.delivered++;
    queue.stats.deliverGet++;
    if (entry.redelivered) {
      this.metrics.redelivered++;
      queue.stats.redeliver++;
    }
    if (!noAck) this.unacked.set(tag, { tag, queue, entry, consumer: undefined });
    const m = queue.outgoing(entry, true);
    this.connection.sendContent(
      this.id,
      P.BASIC_GET_OK,
      {
        deliveryTag: tag,
        redelivered: entry.redelivered,
        exchange: m.exchange,
        routingKey: m.routingKey,
        messageCount: queue.messageCount,
      },
      m,
    );
  }

  // ---- acknowledgements ----

  /** ack / nack / reject. `requeue` is 'ack' for basic.ack. Tag 0 with multiple means "everything so far". */
  private settle(tag: number, multiple: boolean, requeue: boolean | 'ack'): void {
    const items: Unacked[] = [];
    if (multiple) {
      if (tag !== 0 && !this.unacked.has(tag)) throw preconditionFailed(`unknown delivery tag ${tag}`);
      for (const item of this.unacked.values()) {
        if (tag !== 0 && item.tag > tag) break;
        items.push(item);
      }
    } else {
      const item = this.unacked.get(tag);
      if (!item) throw preconditionFailed(`unknown delivery tag ${tag}`);
      items.push(item);
    }
    for (const item of items) this.forget(item);
    if (this.tx) this.tx.push({ kind: 'settle', items, requeue });
    else this.apply(items, requeue);
  }

  private forget(item: Unacked): void {
    this.unacked.delete(item.tag);
    if (item.consumer) item.consumer.unacked--;
  }

  private apply(items: Unacked[], requeue: boolean | 'ack'): void {
    if (requeue === true) {
      this.requeueAll(items, true);
      return;
    }
    if (requeue === false) for (const item of items) item.queue.discard(item.entry);
    else {
      for (const item of items) {
        item.queue.ack(item.entry);
        item.queue.stats.ack++;
      }
      this.metrics.acknowledged += items.length;
    }
    // Room in prefetch windows: let the queues deliver more. A channel-wide window is shared by every
    // consumer of the channel, so any of their queues may use the room.
    if (this.prefetchGlobal > 0) {
      this.kickQueues();
      return;
    }
    let last: Queue | undefined;
    for (let i = 0; i < items.length; i++) {
      const queue = items[i].queue;
      if (queue !== last) queue.drain();
      last = queue;
    }
  }

  /** `byClient`: a nack, reject or recover asked for it (not the channel going away). */
  private requeueAll(items: Unacked[], byClient: boolean): void {
    const byQueue = new Map<Queue, QueuedMessage[]>();
    for (const item of items) {
      const list = byQueue.get(item.queue);
      if (list) list.push(item.entry);
      else byQueue.set(item.queue, [item.entry]);
    }
    for (const [queue, entries] of byQueue) queue.requeue(entries, byClient);
  }

  private recover(requeue: boolean): void {
    if (!requeue) throw notImplemented('requeue=false');
    const items = [...this.unacked.values()];
    for (const item of items) this.forget(item);
    this.requeueAll(items, true);
  }

  private kickQueues(): void {
    for (const consumer of this.consumers.values()) consumer.queue.drain();
  }

  /** The connection can take writes again: queues that stopped for it may continue. */
  resume(): void {
    this.kickQueues();
  }

  // ---- transactions ----

  /** tx.commit: publishes and settlements take effect; commit-ok once persistent messages are on disk. */
  private commit(): void {
    if (!this.tx) throw preconditionFailed('channel is not transactional');
    const actions = this.tx;
    this.tx = [];
    const counter = { waiting: 0 };
    const synced = () => {
      if (--counter.waiting === 0 && !this.closing) this.send(P.TX_COMMIT_OK, {});
    };
    for (const action of actions) {
      if (action.kind === 'publish') {
        this.route(action.message, action.mandatory);
        this.waitForDisk(action.message, synced, counter);
      } else this.apply(action.items, action.requeue);
    }
    if (counter.waiting === 0) this.send(P.TX_COMMIT_OK, {});
  }

  private rollback(): void {
    if (!this.tx) throw preconditionFailed('channel is not transactional');
    const actions = this.tx;
    this.tx = [];
    // Settlements are undone: those deliveries are unacknowledged again, in tag order.
    const restored: Unacked[] = [];
    for (const action of actions) if (action.kind === 'settle') restored.push(...action.items);
    if (restored.length === 0) return;
    const all = [...this.unacked.values(), ...restored].sort((a, b) => a.tag - b.tag);
    this.unacked.clear();
    for (const item of all) {
      this.unacked.set(item.tag, item);
      if (restored.includes(item) && item.consumer) item.consumer.unacked++;
    }
  }

  // ---- lifecycle ----

  /** The channel ends (closed by either side, or its connection went away): requeue, unsubscribe. */
  teardown(): void {
    this.closing = true;
    this.pending = undefined;
    if (this.replyTo) {
      this.connection.broker.replyTo.unregister(this.replyTo);
      this.replyTo = undefined;
    }
    for (const consumer of this.consumers.values()) consumer.queue.removeConsumer(consumer);
    this.consumers.clear();
    const items = [...this.unacked.values()];
    this.unacked.clear();
    this.requeueAll(items, false);
  }
}

/** The extra routing keys of sender-selected distribution: CC (kept in the headers) and BCC (removed). */
function sentTo(message: Message): string[] | undefined {
  const keys = [...headerKeys(message, 'CC'), ...(message.bcc ?? [])];
  return keys.length > 0 ? keys : undefined;
}

/** RabbitMQ's answer to properties it cannot parse: 541, attributed to no method. */
function undecodableProperties() {
  return connectionError(ReplyCode.INTERNAL_ERROR, 'cannot decode the content header properties').at(0, 0);
}
