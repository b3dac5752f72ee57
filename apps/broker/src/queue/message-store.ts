import type { QueuedMessage } from '../message';
import { Deque } from '../util/deque';

/**
 * Where a queue keeps its ready messages. The in-memory stores below serve transient and exclusive queues; a
 * durable queue uses storage/durable-store.ts, which implements the same interface over its on-disk log.
 * Unacknowledged messages are not "in" the store: they live with the channel that holds them and come back
 * through `requeue`, or are finished with through `done`.
 */
export interface MessageStore {
  readonly count: number;
  /** Sum of body sizes of the ready messages (for x-max-length-bytes). */
  readonly bytes: number;
  push(entry: QueuedMessage): void;
  shift(): QueuedMessage | undefined;
  peek(): QueuedMessage | undefined;
  /** Puts a previously delivered message back at its original position (by seq). */
  requeue(entry: QueuedMessage): void;
  /** Drops every ready message (purge); returns how many there were. */
  clear(): number;
  /** A message handed straight to a consumer that will acknowledge it, without ever being ready. */
  track(entry: QueuedMessage): void;
  /** A ready message was handed to a consumer that will acknowledge it. */
  delivered(entry: QueuedMessage): void;
  /** The message is finished with: acknowledged, rejected, expired, dropped or purged. */
  done(entry: QueuedMessage): void;
  /**
   * Calls back once everything stored so far is on disk. Returns false (and never calls back) for stores that
   * keep nothing on disk.
   */
  afterSync(callback: () => void): boolean;
  /** Clean shutdown: everything on disk, files closed. */
  close(): void;
  /** The queue was deleted: forget everything, files included. */
  destroy(): void;
}

/**
 * The store of a quorum queue, which puts messages back the way RabbitMQ 3.10's rabbit_fifo does: a message its
 * consumer's channel gave back on closing (or any return, with x-delivery-limit set) joins a FIFO of returned
 * messages served before every other; one a client requeued (nack, reject, recover) without a delivery limit is
 * enqueued again at the back.
 */
export interface ReturningStore extends MessageStore {
  returnToHead(entry: QueuedMessage): void;
  returnToTail(entry: QueuedMessage): void;
  /** The message died and waits for at-least-once dead-lettering (`reason`: see dead-letter-hold.ts). */
  markDying(entry: QueuedMessage, reason: number): void;
  /** After a restart: the messages that were waiting to be dead-lettered, with their reason. */
  recoverDying(): { entry: QueuedMessage; reason: number }[];
}

function insertBySeq(deque: Deque<QueuedMessage>, entry: QueuedMessage): void {
  // Requeued messages nearly always belong at or near the front; search from there.
  let i = 0;
  while (i < deque.length && (deque.at(i) as QueuedMessage).seq < entry.seq) i++;
  deque.insertAt(i, entry);
}

/** Shared by the in-memory stores: nothing to track, sync or clean up on disk. */
abstract class VolatileStore {
  track(): void {}
  delivered(): void {}
  done(): void {}
  afterSync(): boolean {
    return false;
  }
  close(): void {}
  destroy(): void {}
}

export class MemoryStore extends VolatileStore implements MessageStore {
  private readonly messages = new Deque<QueuedMessage>();
  bytes = 0;

  get count(): number {
    return this.messages.length;
  }

  push(entry: QueuedMessage): void {
    this.messages.push(entry);
    this.bytes += entry.message.size;
  }

  shift(): QueuedMessage | undefined {
    const entry = this.messages.shift();
    if (entry) this.bytes -= entry.message.size;
    return entry;
  }

  peek(): QueuedMessage | undefined {
    return this.messages.peek();
  }

  requeue(entry: QueuedMessage): void {
    insertBySeq(this.messages, entry);
    this.bytes += entry.message.size;
  }

  clear(): number {
    this.bytes = 0;
    return this.messages.clear().length;
  }
}

/** A quorum queue's store without a data directory (a broker that keeps nothing on disk). */
export class QuorumMemoryStore extends MemoryStore implements ReturningStore {
  private readonly returns = new Deque<QueuedMessage>();

  override get count(): number {
    return this.returns.length + super.count;
  }

  override shift(): QueuedMessage | undefined {
    const entry = this.returns.shift();
    if (!entry) return super.shift();
    this.bytes -= entry.message.size;
    return entry;
  }

  override peek(): QueuedMessage | undefined {
    return this.returns.peek() ?? super.peek();
  }

  returnToHead(entry: QueuedMessage): void {
    this.returns.push(entry);
    this.bytes += entry.message.size;
  }

  returnToTail(entry: QueuedMessage): void {
    this.push(entry);
  }

  // nothing outlives the process here
  markDying(): void {}
  recoverDying(): { entry: QueuedMessage; reason: number }[] {
    return [];
  }

  override clear(): number {
    const returned = this.returns.clear().length;
    return returned + super.clear();
  }
}

/** One FIFO per priority level; the highest non-empty level is served first (x-max-priority). */
export class PriorityStore extends VolatileStore implements MessageStore {
  private readonly levels: Deque<QueuedMessage>[];
  private total = 0;
  bytes = 0;

  constructor(private readonly maxPriority: number) {
    super();
    this.levels = Array.from({ length: maxPriority + 1 }, () => new Deque<QueuedMessage>());
  }

  get count(): number {
    return this.total;
  }

  private level(entry: QueuedMessage): Deque<QueuedMessage> {
    return this.levels[Math.min(entry.message.priority, this.maxPriority)];
  }

  push(entry: QueuedMessage): void {
    this.level(entry).push(entry);
    this.total++;
    this.bytes += entry.message.size;
  }

  private top(): Deque<QueuedMessage> | undefined {
    for (let p = this.maxPriority; p >= 0; p--) if (this.levels[p].length) return this.levels[p];
    return undefined;
  }

  shift(): QueuedMessage | undefined {
    const entry = this.top()?.shift();
    if (entry) {
      this.total--;
      this.bytes -= entry.message.size;
    }
    return entry;
  }

  peek(): QueuedMessage | undefined {
    return this.top()?.peek();
  }

  requeue(entry: QueuedMessage): void {
    insertBySeq(this.level(entry), entry);
    this.total++;
    this.bytes += entry.message.size;
  }

  clear(): number {
    for (const level of this.levels) level.clear();
    const count = this.total;
    this.total = 0;
    this.bytes = 0;
    return count;
  }
}

export { insertBySeq };
