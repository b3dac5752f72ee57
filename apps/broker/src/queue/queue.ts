import { FieldTable, FLAG_EXPIRATION } from '@warren/amqp-protocol';
import type { Message, QueuedMessage } from '../message';
import type { Consumer } from './consumer';
import { MemoryStore, MessageStore, PriorityStore, QuorumMemoryStore, ReturningStore } from './message-store';
import { effectiveDeadLetterStrategy, type QueueSettings } from './queue-arguments';
import { LongTimeout } from '../util/long-timeout';
import { DeadLetterHold, REASON_CODES } from './dead-letter-hold';

/** Ready messages beyond which a queue with consumers counts as backlogged. */
const BACKLOG = 1000;

export type DeadLetterReason = 'rejected' | 'expired' | 'maxlen' | 'delivery_limit';

/** What a queue needs from its virtual host. */
export interface QueueHost {
  deadLetter(queue: Queue, message: Message, reason: DeadLetterReason): void;
  /**
   * At-least-once dead-lettering (quorum queues): routes the copy and calls `settled` once every queue it reached
   * has it (on disk, for a durable one). Returns false, and never calls back, when it reached no queue.
   */
  deadLetterReliably(queue: Queue, message: Message, reason: DeadLetterReason, settled: () => void): boolean;
  /** Auto-delete and x-expires: the queue asks to be removed. */
  expireQueue(queue: Queue): void;
}

export interface QueueOptions {
  durable: boolean;
  exclusive: boolean;
  autoDelete: boolean;
  arguments: FieldTable;
}

/**
 * 'written': the queue's store took the message (for a durable queue, wait for `store.afterSync` before
 * confirming a persistent message); 'passed': it went straight to a consumer that needs no acknowledgement;
 * 'rejected': the queue refused it (reject-publish overflow).
 */
export type PublishOutcome = 'written' | 'passed' | 'rejected';

/**
 * A queue: ready messages in a store, consumers served round-robin (highest priority first), TTL and length
 * limits applied the way RabbitMQ applies them: expiry only at the head, length counted over ready messages, and
 * dead-lettering through the host.
 *
 * A quorum queue (x-queue-type quorum) is the same queue with RabbitMQ 3.10's rabbit_fifo rules where they differ
 * from a classic queue's: every message is kept on disk, persistent or not; a message that comes back counts a
 * delivery (x-delivery-count, x-delivery-limit) and goes back to the head or the tail (ReturningStore); reject-
 * publish refuses only once the queue is over its limit and until it is back under 80% of it; reject-publish-dlx
 * acts as drop-head; dead-lettering can be at-least-once (dead-letter-hold.ts).
 */
export class Queue {
  readonly kind = 'queue' as const;
  readonly store: MessageStore;
  readonly consumers: Consumer[] = [];
  /** Set while routing, so a queue reached by several bindings gets one copy. */
  routeMark = 0;
  /** The connection that declared an exclusive queue. */
  owner: object | null;
  deleted = false;

  /** Message counts for the management API's message_stats (plain increments; rates are sampled there). */
  readonly stats = { publish: 0, deliverGet: 0, ack: 0, redeliver: 0 };
  readonly quorum: boolean;
  /** Quorum reject-publish: over the limit, publishes are refused until the queue is under its soft limit. */
  private rejecting = false;
  /** Quorum at-least-once dead-lettering: messages waiting for their dead-letter target. */
  private hold: DeadLetterHold | undefined;
  /** Quorum: messages taken by basic.get without no-ack and not yet settled (see consumerCount). */
  private readonly gets: Set<QueuedMessage> | undefined;
  private nextSeq = 0;
  private roundRobin = 0;
  private prioritised = false;
  private hadConsumer = false;
  private expiryTimer: LongTimeout | undefined;
  private expiryAt = 0;
  private idleTimer: LongTimeout | undefined;

  /** The settings in force: the arguments', or those merged with a policy (applyPolicy). */
  settings: QueueSettings;
  /** The name of the policy that applies, if any (management API). */
  policy: string | undefined;
  policyDefinition: Record<string, unknown> | undefined;

  constructor(
    readonly name: string,
    readonly options: QueueOptions,
    /** The settings from the queue's own arguments. */
    readonly declared: QueueSettings,
    private readonly host: QueueHost,
    owner: object | null,
    store?: MessageStore,
  ) {
    this.settings = declared;
    const settings = declared;
    this.quorum = settings.type === 'quorum';
    if (this.quorum) this.gets = new Set();
    this.owner = options.exclusive ? owner : null;
    this.store =
      store ??
      (this.quorum
        ? new QuorumMemoryStore()
        : settings.maxPriority !== undefined
          ? new PriorityStore(settings.maxPriority)
          : new MemoryStore());
    this.configureDeadLettering();
    this.touch();
  }

  /** Quorum queues: at-least-once dead-lettering when the settings in force allow it. */
  private configureDeadLettering(): void {
    if (!this.quorum) return;
    const reliable = effectiveDeadLetterStrategy(this.settings) === 'at-least-once';
    if (reliable && !this.hold) this.hold = new DeadLetterHold(this, this.host, () => this.evaluateLimit());
    else if (!reliable && this.hold) {
      this.hold.release((entry, reason) => this.deadLetterNow(entry, reason));
      this.hold = undefined;
    }
  }

  /**
   * Start-up: messages that were waiting for their dead-letter target when the broker stopped (quorum
   * at-least-once) are dead-lettered again now, as RabbitMQ's dead-letter worker does when it starts.
   */
  resumeDeadLettering(): void {
    if (!this.quorum) return;
    for (const { entry, reason } of (this.store as ReturningStore).recoverDying()) {
      const why = REASON_CODES[reason];
      if (this.hold) this.hold.add(entry, why, true);
      else this.deadLetterNow(entry, why);
    }
  }

  /** Messages waiting for their dead-letter target (quorum at-least-once), and their bytes. */
  get deadLetterPending(): { count: number; bytes: number } {
    return this.hold ? { count: this.hold.count, bytes: this.hold.bytes } : { count: 0, bytes: 0 };
  }

  get messageCount(): number {
    return this.store.count;
  }

  /** Consumers are not keeping up: publishers into this queue get a smaller read budget (flow control). */
  get backlogged(): boolean {
    return this.store.count > BACKLOG && this.consumers.length > 0;
  }

  /**
   * Consumers, as queue.declare-ok counts them. A quorum queue counts each message a basic.get took without
   * no-ack too, until it is settled: rabbit_fifo checks each one out to a consumer of its own.
   */
  get consumerCount(): number {
    return this.consumers.length + (this.gets?.size ?? 0);
  }

  /** Enqueues a routed message, delivering at once when a consumer has room. */
  publish(message: Message): PublishOutcome {
    const { settings } = this;
    this.stats.publish++;
    let expiresAt = 0;
    if (settings.messageTtl !== undefined) expiresAt = Date.now() + settings.messageTtl;
    const perMessage = messageExpiration(message);
    if (perMessage !== undefined) {
      const at = Date.now() + perMessage;
      if (expiresAt === 0 || at < expiresAt) expiresAt = at;
    }
    if (this.quorum) {
      if (this.rejecting) return 'rejected';
    } else if (this.wouldOverflow(message) && settings.overflow !== 'drop-head') {
      if (settings.overflow === 'reject-publish-dlx') this.host.deadLetter(this, message, 'maxlen');
      return 'rejected';
    }
    const entry: QueuedMessage = { message, seq: this.nextSeq++, expiresAt, redelivered: false };
    // Fast path: nothing waiting, someone ready. A message whose TTL is 0 is delivered only this way.
    if (this.store.count === 0) {
      const consumer = this.pickConsumer();
      if (consumer) {
        if (consumer.noAck) {
          consumer.deliver(entry);
          return 'passed';
        }
        this.store.track(entry); // kept (on disk, for a durable queue) until it is acknowledged
        consumer.deliver(entry);
        return 'written';
      }
    }
    this.store.push(entry);
    this.enforceLength();
    this.drain();
    return 'written';
  }

  /** Overflow drop-head in force (on a quorum queue, reject-publish-dlx is drop-head too). */
  private get dropsHead(): boolean {
    const overflow = this.settings.overflow;
    return overflow === 'drop-head' || (this.quorum && overflow === 'reject-publish-dlx');
  }

  /**
   * Quorum reject-publish (rabbit_fifo:evaluate_limit): once ready messages and those waiting to be dead-lettered
   * are over a limit, publishes are refused (the one that went over was taken); they are taken again once the
   * queue is at or under 80% of every limit.
   */
  private evaluateLimit(): void {
    if (!this.quorum || this.settings.overflow !== 'reject-publish') return;
    const { maxLength, maxLengthBytes } = this.settings;
    const { count, bytes } = this.deadLetterPending;
    const n = this.store.count + count;
    const b = this.store.bytes + bytes;
    if (this.rejecting) {
      const under = (limit: number | undefined, value: number) =>
        limit === undefined || value <= Math.trunc(limit * 0.8);
      if (under(maxLength, n) && under(maxLengthBytes, b)) this.rejecting = false;
    } else if ((maxLength !== undefined && n > maxLength) || (maxLengthBytes !== undefined && b > maxLengthBytes))
      this.rejecting = true;
  }

  private wouldOverflow(message: Message): boolean {
    const { maxLength, maxLengthBytes } = this.settings;
    return (
      (maxLength !== undefined && this.store.count + 1 > maxLength) ||
      (maxLengthBytes !== undefined && this.store.bytes + message.size > maxLengthBytes)
    );
  }

  private enforceLength(): void {
    const { maxLength, maxLengthBytes } = this.settings;
    if (maxLength === undefined && maxLengthBytes === undefined) return;
    if (!this.dropsHead) {
      this.evaluateLimit();
      return;
    }
    while (
      this.store.count > 0 &&
      ((maxLength !== undefined && this.store.count > maxLength) ||
        (maxLengthBytes !== undefined && this.store.bytes > maxLengthBytes))
    ) {
      this.deadLetter(this.store.shift() as QueuedMessage, 'maxlen');
    }
  }

  /** A message dies in this queue: dead-lettered (or held until it is, at-least-once) and done with. */
  private deadLetter(entry: QueuedMessage, reason: DeadLetterReason): void {
    if (this.hold && reason !== 'maxlen') this.hold.add(entry, reason);
    else this.deadLetterNow(entry, reason);
  }

  private deadLetterNow(entry: QueuedMessage, reason: DeadLetterReason): void {
    this.host.deadLetter(this, entry.message, reason);
    this.store.done(entry);
  }

  /** Hands ready messages to consumers while any has room; drops what expired at the head on the way. */
  drain(): void {
    if (this.consumers.length === 0 || this.store.count === 0) {
      this.scheduleExpiry();
      return;
    }
    let now = 0;
    while (this.store.count > 0) {
      const consumer = this.pickConsumer();
      if (!consumer) break;
      const entry = this.store.shift() as QueuedMessage;
      if (entry.expiresAt !== 0 && entry.expiresAt <= (now ||= Date.now())) {
        this.deadLetter(entry, 'expired');
        continue;
      }
      if (consumer.noAck) this.store.done(entry);
      else this.store.delivered(entry);
      consumer.deliver(entry);
    }
    if (this.rejecting) this.evaluateLimit();
    this.scheduleExpiry();
  }

  /** basic.get: the head message, if any is alive. */
  get(noAck: boolean): QueuedMessage | undefined {
    this.touch();
    this.expireHead();
    const entry = this.store.shift();
    if (entry) {
      if (noAck) this.store.done(entry);
      else {
        this.store.delivered(entry);
        this.gets?.add(entry);
      }
    }
    if (this.rejecting) this.evaluateLimit();
    this.scheduleExpiry();
    return entry;
  }

  /**
   * The message as a quorum queue hands it out (rabbit_fifo_client): with an x-delivery-count header (a long)
   * once it has come back at least once, and on basic.get always, 0 included. Classic queues hand out the
   * message as it is.
   */
  outgoing(entry: QueuedMessage, get: boolean): Message {
    const count = entry.deliveryCount ?? 0;
    if (!this.quorum || (count === 0 && !get)) return entry.message;
    const message = entry.message.clone(entry.message.exchange, entry.message.routingKey);
    const headers = new Map(message.properties.headers ?? []);
    headers.set('x-delivery-count', { type: 'l', value: count });
    message.properties = { ...message.properties, headers };
    return message;
  }

  /** basic.ack of a delivered message. */
  ack(entry: QueuedMessage): void {
    this.gets?.delete(entry);
    if (!this.deleted) this.store.done(entry);
  }

  /**
   * Messages that were delivered and not acknowledged come back to where they were, marked redelivered. As in
   * RabbitMQ, a drop-head queue then drops from its head (dead-lettering with reason maxlen) until it is within
   * its limits again, before anything is delivered; the reject modes drop nothing and stay over the limit.
   * `byClient`: a nack, reject or recover (not the channel going away), which matters to a quorum queue only.
   */
  requeue(entries: QueuedMessage[], byClient = false): void {
    if (this.deleted) return;
    if (this.quorum) this.returnQuorum(entries, byClient);
    else
      for (const entry of entries) {
        entry.redelivered = true;
        this.store.requeue(entry);
      }
    this.enforceLength();
    this.drain();
  }

  /**
   * rabbit_fifo's returns: each counts a delivery; past x-delivery-limit the message is dead-lettered with reason
   * delivery_limit instead. With a limit, or when the channel went away, it joins the returned messages at the
   * head; a client's requeue without a limit enqueues it again at the back.
   */
  private returnQuorum(entries: QueuedMessage[], byClient: boolean): void {
    const store = this.store as ReturningStore;
    const limit = this.settings.deliveryLimit;
    for (const entry of entries) {
      this.gets?.delete(entry);
      const count = (entry.deliveryCount ?? 0) + 1;
      entry.deliveryCount = count;
      entry.redelivered = true;
      if (limit !== undefined && count > limit) this.deadLetter(entry, 'delivery_limit');
      else if (byClient && limit === undefined) store.returnToTail(entry);
      else store.returnToHead(entry);
    }
  }

  /** basic.reject / basic.nack without requeue, or a requeue to a queue that will not take it back. */
  discard(entry: QueuedMessage): void {
    this.gets?.delete(entry);
    if (this.deleted) return;
    this.deadLetter(entry, 'rejected');
  }

  purge(): number {
    const removed = this.store.clear();
    this.evaluateLimit();
    this.scheduleExpiry();
    return removed;
  }

  addConsumer(consumer: Consumer): void {
    this.consumers.push(consumer);
    this.hadConsumer = true;
    if (consumer.priority !== 0) this.prioritised = true;
    this.stopIdleTimer();
    this.drain();
  }

  removeConsumer(consumer: Consumer): void {
    const index = this.consumers.indexOf(consumer);
    if (index < 0) return;
    this.consumers.splice(index, 1);
    if (this.roundRobin > index) this.roundRobin--;
    this.prioritised = this.consumers.some((c) => c.priority !== 0);
    if (this.consumers.length === 0) {
      if (this.options.autoDelete && this.hadConsumer) {
        this.host.expireQueue(this);
        return;
      }
      this.touch();
    } else if (index === 0 && this.settings.singleActiveConsumer) {
      this.drain(); // the next consumer in line becomes the active one
    }
  }

  /** Removes the queue's consumers (telling their clients) and timers. Returns the ready count it had. */
  delete(): number {
    this.deleted = true;
    this.expiryTimer?.clear();
    this.stopIdleTimer();
    this.hold?.clear();
    for (const consumer of this.consumers.splice(0)) consumer.cancelledByServer();
    const count = this.store.count;
    this.store.destroy();
    return count;
  }

  /** Broker shutdown: the queue's data goes to disk; nothing is deleted. */
  close(): void {
    this.expiryTimer?.clear();
    this.stopIdleTimer();
    this.hold?.clear();
    this.store.close();
  }

  /**
   * A policy was set, changed or cleared: the merged settings take effect at once for length limits and the
   * expires clock, and for TTLs on messages that arrive from now on.
   */
  applyPolicy(
    name: string | undefined,
    settings: QueueSettings,
    definition: Record<string, unknown> | undefined,
  ): void {
    this.policy = name;
    this.policyDefinition = definition;
    this.settings = settings;
    this.configureDeadLettering();
    // a lower limit trims the queue only in drop-head mode; the reject modes refuse what comes next
    this.enforceLength();
    this.touch();
  }

  /** Any use of the queue restarts its x-expires clock. */
  touch(): void {
    const expires = this.settings.expires;
    if (expires === undefined || this.deleted) return;
    this.stopIdleTimer();
    if (this.consumers.length > 0) return;
    this.idleTimer = new LongTimeout(() => this.host.expireQueue(this), expires);
  }

  private stopIdleTimer(): void {
    this.idleTimer?.clear();
    this.idleTimer = undefined;
  }

  /** Single active consumer: only the first registered consumer gets messages; otherwise round-robin. */
  private pickConsumer(): Consumer | undefined {
    const consumers = this.consumers;
    const n = consumers.length;
    if (n === 0) return undefined;
    if (this.settings.singleActiveConsumer) return consumers[0].canAccept() ? consumers[0] : undefined;
    let best: Consumer | undefined;
    let bestIndex = 0;
    for (let k = 0; k < n; k++) {
      const index = (this.roundRobin + k) % n;
      const consumer = consumers[index];
      if (!consumer.canAccept()) continue;
      if (!best || consumer.priority > best.priority) {
        best = consumer;
        bestIndex = index;
        if (!this.prioritised) break;
      }
    }
    if (best) this.roundRobin = bestIndex + 1;
    return best;
  }

  private expireHead(): void {
    let now = 0;
    for (let head = this.store.peek(); head && head.expiresAt !== 0; head = this.store.peek()) {
      if (head.expiresAt > (now ||= Date.now())) break;
      this.store.shift();
      this.deadLetter(head, 'expired');
    }
  }

  /** One timer per queue, for the head message's expiry (messages behind it wait, as in RabbitMQ). */
  private scheduleExpiry(): void {
    const head = this.store.peek();
    if (!head || head.expiresAt === 0 || this.deleted) return;
    if (this.expiryTimer?.pending && this.expiryAt <= head.expiresAt) return;
    this.expiryTimer?.clear();
    this.expiryAt = head.expiresAt;
    this.expiryTimer = new LongTimeout(() => {
      this.expiryTimer = undefined;
      this.expireHead();
      this.drain();
    }, head.expiresAt - Date.now());
  }
}

/** Per-message TTL from the expiration property (validated at publish), or undefined. */
function messageExpiration(message: Message): number | undefined {
  if ((message.flags & FLAG_EXPIRATION) === 0) return undefined;
  const expiration = message.properties.expiration;
  return expiration === undefined ? undefined : Number(expiration);
}
