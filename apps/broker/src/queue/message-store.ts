import type { QueuedMessage } from '../message';
import { Deque } from '../util/deque';

/**
 * Where a queue keeps its ready messages. The in-memory stores below are the default; a disk-backed store
 * implements the same interface. Unacknowledged messages are not here: they live with the channel that holds
 * them and come back through `requeue`.
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
  /** Removes and returns everything. */
  clear(): QueuedMessage[];
}

function insertBySeq(deque: Deque<QueuedMessage>, entry: QueuedMessage): void {
  // Requeued messages nearly always belong at or near the front; search from there.
  let i = 0;
  while (i < deque.length && (deque.at(i) as QueuedMessage).seq < entry.seq) i++;
  deque.insertAt(i, entry);
}

export class MemoryStore implements MessageStore {
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

  clear(): QueuedMessage[] {
    this.bytes = 0;
    return this.messages.clear();
  }
}

/** One FIFO per priority level; the highest non-empty level is served first (x-max-priority). */
export class PriorityStore implements MessageStore {
  private readonly levels: Deque<QueuedMessage>[];
  private total = 0;
  bytes = 0;

  constructor(private readonly maxPriority: number) {
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

  clear(): QueuedMessage[] {
    const all: QueuedMessage[] = [];
    for (let p = this.maxPriority; p >= 0; p--) all.push(...this.levels[p].clear());
    this.total = 0;
    this.bytes = 0;
    return all;
  }
}
