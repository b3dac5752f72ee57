import type { QueuedMessage } from '../message';
import { insertBySeq, MessageStore } from '../queue/message-store';
import { Deque } from '../util/deque';
import { readRecord } from './record';
import { Ref, RefDeque } from './ref-deque';
import { RecoveredRecord, SegmentLog } from './segment-log';

/** Ready messages kept decoded in memory per priority level; the rest stay on disk as 8-byte references. */
const WINDOW_MESSAGES = 1024;
const WINDOW_BYTES = 4 * 1024 * 1024;
const READ_AHEAD = 256 * 1024;

class Level {
  /** The head of the level, decoded: what deliveries take from, and where requeued messages go back. */
  readonly window = new Deque<QueuedMessage>();
  windowBytes = 0;
  /** Everything after the window, as locations in the log, in arrival order. */
  readonly tail = new RefDeque();
}

/**
 * The message store of a durable queue. Persistent messages go to the queue's SegmentLog as they arrive;
 * transient ones only when they have to leave memory. A bounded window at the head of each priority level is
 * held decoded in memory, and everything behind it stays on disk as 8-byte references, so memory does not grow
 * with queue depth.
 *
 * `seq` (the order used to put requeued messages back where they were) is a counter assigned as messages enter
 * the window. That is arrival order: the window only ever holds messages from before everything in the tail.
 */
export class DurableStore implements MessageStore {
  private readonly levels: Level[];
  private readonly ref: Ref = { segment: 0, position: 0, redelivered: false };
  count = 0;
  bytes = 0;
  private nextSeq = 1;
  /**
   * Decoded messages that have a place in the log and are not done with: in a window, or delivered and not yet
   * acknowledged. Compaction must find every reference to a record it moves; these and the tails are all.
   */
  private readonly located = new Set<QueuedMessage>();

  constructor(
    private readonly log: SegmentLog,
    private readonly maxPriority = 0,
  ) {
    this.levels = Array.from({ length: maxPriority + 1 }, () => new Level());
    log.onSparse = (segment) => setImmediate(() => this.compact(segment));
  }

  /** Opens the log and takes back every message a previous run left ready or unacknowledged. */
  recover(): number {
    this.log.open((record: RecoveredRecord) => {
      const level = this.levels[Math.min(record.priority, this.maxPriority)];
      level.tail.push(record.segment, record.position, record.delivered);
      this.count++;
      this.bytes += record.bodySize;
    });
    for (const segment of this.log.sparseSegments()) this.compact(segment);
    return this.count;
  }

  /**
   * Moves the live records of a sparse segment to the end of the log and points every reference at the
   * copies (see segment-log.ts). Messages that were delivered keep their delivered mark.
   */
  compact(segment: number): void {
    if (this.closed || !this.log.has(segment)) return;
    const inWindow = new Set<QueuedMessage>();
    for (const level of this.levels) for (const entry of level.window.toArray()) inWindow.add(entry);
    for (const entry of this.located) {
      if (entry.segment !== segment) continue;
      const moved = this.log.relocate(segment, entry.position as number);
      entry.segment = moved.segment;
      entry.position = moved.position;
      if (entry.redelivered || !inWindow.has(entry)) this.log.delivered(moved.segment, moved.position);
    }
    for (const level of this.levels) {
      level.tail.relocate((s, position, redelivered) => {
        if (s !== segment) return undefined;
        const moved = this.log.relocate(s, position);
        if (redelivered) this.log.delivered(moved.segment, moved.position);
        return moved;
      });
    }
    this.log.retire(segment);
  }

  private levelOf(entry: QueuedMessage): Level {
    return this.levels[Math.min(entry.message.priority, this.maxPriority)];
  }

  private locate(entry: QueuedMessage): void {
    const { segment, position } = this.log.append(entry.message, entry.expiresAt);
    entry.segment = segment;
    entry.position = position;
  }

  private closed = false;

  push(entry: QueuedMessage): void {
    const level = this.levelOf(entry);
    if (level.tail.length === 0 && level.window.length < WINDOW_MESSAGES && level.windowBytes < WINDOW_BYTES) {
      if (entry.message.persistent) {
        this.locate(entry);
        this.located.add(entry);
      }
      entry.seq = this.nextSeq++;
      level.window.push(entry);
      level.windowBytes += entry.message.size;
    } else {
      this.locate(entry); // transient messages too: this is where they leave memory
      level.tail.push(entry.segment as number, entry.position as number);
    }
    this.count++;
    this.bytes += entry.message.size;
  }

  private top(): Level | undefined {
    for (let p = this.maxPriority; p >= 0; p--) {
      const level = this.levels[p];
      if (level.window.length > 0 || level.tail.length > 0) return level;
    }
    return undefined;
  }

  shift(): QueuedMessage | undefined {
    const level = this.top();
    if (!level) return undefined;
    if (level.window.length === 0) this.refill(level);
    const entry = level.window.shift() as QueuedMessage;
    level.windowBytes -= entry.message.size;
    this.count--;
    this.bytes -= entry.message.size;
    return entry;
  }

  peek(): QueuedMessage | undefined {
    const level = this.top();
    if (!level) return undefined;
    if (level.window.length === 0) this.refill(level);
    return level.window.peek();
  }

  /** Decodes messages from the head of the tail into the window, reading the log in large sequential blocks. */
  private refill(level: Level): void {
    const ref = this.ref;
    while (level.window.length < WINDOW_MESSAGES && level.windowBytes < WINDOW_BYTES && level.tail.peek(ref)) {
      const segment = ref.segment;
      const base = ref.position;
      const block = this.log.read(segment, base, READ_AHEAD);
      while (level.window.length < WINDOW_MESSAGES && level.tail.peek(ref) && ref.segment === segment) {
        // after a compaction the tail may point back into the block's segment before `base`: new block then
        if (ref.position < base || ref.position - base >= block.length) break;
        const record = readRecord(block, ref.position - base);
        if (record === 'incomplete' && ref.position !== base) break; // next block
        if (typeof record === 'string') throw new Error(`${this.log.dir}: ${record} record at ${segment}:${ref.position}`);
        level.tail.shift();
        const entry: QueuedMessage = {
          message: record.message,
          seq: this.nextSeq++,
          expiresAt: record.expiresAt,
          redelivered: ref.redelivered,
          segment,
          position: ref.position,
        };
        level.window.push(entry);
        this.located.add(entry);
        level.windowBytes += record.message.size;
      }
    }
  }

  requeue(entry: QueuedMessage): void {
    const level = this.levelOf(entry);
    insertBySeq(level.window, entry);
    level.windowBytes += entry.message.size;
    this.count++;
    this.bytes += entry.message.size;
  }

  clear(): number {
    const cleared = this.count;
    for (const level of this.levels) {
      for (const entry of level.window.clear()) this.done(entry);
      level.tail.forEach((segment, position) => this.log.done(segment, position));
      level.tail.clear();
      level.windowBytes = 0;
    }
    this.count = 0;
    this.bytes = 0;
    return cleared;
  }

  track(entry: QueuedMessage): void {
    if (!entry.message.persistent) return; // nothing to recover after a restart
    this.locate(entry);
    this.located.add(entry);
    this.log.delivered(entry.segment as number, entry.position as number);
  }

  delivered(entry: QueuedMessage): void {
    if (entry.segment !== undefined) this.log.delivered(entry.segment, entry.position as number);
  }

  done(entry: QueuedMessage): void {
    if (entry.segment === undefined) return;
    this.located.delete(entry);
    this.log.done(entry.segment, entry.position as number);
  }

  afterSync(callback: () => void): boolean {
    this.log.afterSync(callback);
    return true;
  }

  close(): void {
    this.closed = true;
    this.log.close();
  }

  destroy(): void {
    this.closed = true;
    this.located.clear();
    this.log.destroy();
  }
}
