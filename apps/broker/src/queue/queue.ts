import { FieldTable, FLAG_EXPIRATION } from '@warren/amqp-protocol';
import type { Message, QueuedMessage } from '../message';
import type { Consumer } from './consumer';
import { MemoryStore, MessageStore, PriorityStore } from './message-store';
import type { QueueSettings } from './queue-arguments';
import { LongTimeout } from '../util/long-timeout';

/** Ready messages beyond which a queue with consumers counts as backlogged. */
const BACKLOG = 1000;

export type DeadLetterReason = 'rejected' | 'expired' | 'maxlen';

/** What a queue needs from its virtual host. */
export interface QueueHost {
  deadLetter(queue: Queue, message: Message, reason: DeadLetterReason): void;
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
 * A classic queue: ready messages in a store, consumers served round-robin (highest priority first), TTL and
 * length limits applied the way RabbitMQ applies them: expiry only at the head, length counted over ready
 * messages, and dead-lettering through the host.
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
    this.owner = options.exclusive ? owner : null;
    this.store =
      store ?? (settings.maxPriority !== undefined ? new PriorityStore(settings.maxPriority) : new MemoryStore());
    this.touch();
  }

  get messageCount(): number {
    return this.store.count;
  }

  /** Consumers are not keeping up: publishers into this queue get a smaller read budget (flow control). */
  get backlogged(): boolean {
    return this.store.count > BACKLOG && this.consumers.length > 0;
  }

  get consumerCount(): number {
    return this.consumers.length;
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
    if (this.wouldOverflow(message) && settings.overflow !== 'drop-head') {
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
    while (
      this.store.count > 0 &&
      ((maxLength !== undefined && this.store.count > maxLength) ||
        (maxLengthBytes !== undefined && this.store.bytes > maxLengthBytes))
    ) {
      const dropped = this.store.shift() as QueuedMessage;
      this.host.deadLetter(this, dropped.message, 'maxlen');
      this.store.done(dropped);
    }
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
        this.host.deadLetter(this, entry.message, 'expired');
        this.store.done(entry);
        continue;
      }
      if (consumer.noAck) this.store.done(entry);
      else this.store.delivered(entry);
      consumer.deliver(entry);
    }
    this.scheduleExpiry();
  }

  /** basic.get: the head message, if any is alive. */
  get(noAck: boolean): QueuedMessage | undefined {
    this.touch();
    this.expireHead();
    const entry = this.store.shift();
    if (entry) {
      if (noAck) this.store.done(entry);
      else this.store.delivered(entry);
    }
    this.scheduleExpiry();
    return entry;
  }

  /** basic.ack of a delivered message. */
  ack(entry: QueuedMessage): void {
    if (!this.deleted) this.store.done(entry);
  }

  /**
   * Messages that were delivered and not acknowledged come back to where they were, marked redelivered. As in
   * RabbitMQ, a drop-head queue then drops from its head (dead-lettering with reason maxlen) until it is within
   * its limits again, before anything is delivered; the reject modes drop nothing and stay over the limit.
   */
  requeue(entries: QueuedMessage[]): void {
    if (this.deleted) return;
    for (const entry of entries) {
      entry.redelivered = true;
      this.store.requeue(entry);
    }
    if (this.settings.overflow === 'drop-head') this.enforceLength();
    this.drain();
  }

  /** basic.reject / basic.nack without requeue, or a requeue to a queue that will not take it back. */
  discard(entry: QueuedMessage): void {
    if (this.deleted) return;
    this.host.deadLetter(this, entry.message, 'rejected');
    this.store.done(entry);
  }

  purge(): number {
    const removed = this.store.clear();
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
    for (const consumer of this.consumers.splice(0)) consumer.cancelledByServer();
    const count = this.store.count;
    this.store.destroy();
    return count;
  }

  /** Broker shutdown: the queue's data goes to disk; nothing is deleted. */
  close(): void {
    this.expiryTimer?.clear();
    this.stopIdleTimer();
    this.store.close();
  }

  /**
   * A policy was set, changed or cleared: the merged settings take effect at once for length limits and the
   * expires clock, and for TTLs on messages that arrive from now on.
   */
  applyPolicy(name: string | undefined, settings: QueueSettings, definition: Record<string, unknown> | undefined): void {
    this.policy = name;
    this.policyDefinition = definition;
    this.settings = settings;
    // a lower limit trims the queue only in drop-head mode; the reject modes refuse what comes next
    if (settings.overflow === 'drop-head') this.enforceLength();
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
      this.host.deadLetter(this, head.message, 'expired');
      this.store.done(head);
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
