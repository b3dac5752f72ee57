import type { QueuedMessage } from '../message';
import { insertBySeq, ReturningStore } from '../queue/message-store';
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
 *
 * A quorum queue's store (`quorum`) keeps every message on disk as it arrives, persistent or not (RabbitMQ's
 * quorum queues log them all), and counts deliveries instead of marking them: each delivery adds a counted mark
 * (segment-log.ts), so after a restart a message comes back with the deliveries it had, plus one if it was out
 * with a consumer, which is what RabbitMQ counts when a consumer's channel goes away. Returned messages it keeps
 * as ReturningStore says: a FIFO served first, or at the back (in the tail, as references, when there is one:
 * their counts then wait in `counts`). A message that died and waits for at-least-once dead-lettering carries a
 * dying mark with its reason: after a restart it is handed back to the queue to dead-letter (recoverDying), not
 * made ready again.
 */
export class DurableStore implements ReturningStore {
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
  /** Quorum: messages returned to the head, served before the levels. */
  private readonly returns = new Deque<QueuedMessage>();
  /** Quorum: delivery counts of messages in a tail, by `segment:position`. */
  private readonly counts = new Map<string, number>();
  /** Quorum: messages marked dying, with their reason code (compaction marks the copies again). */
  private readonly dyingEntries = new Map<QueuedMessage, number>();
  /** Quorum: dying records found at recovery, until recoverDying() takes them. */
  private dyingRefs: { segment: number; position: number; reason: number }[] = [];

  constructor(
    private readonly log: SegmentLog,
    private readonly maxPriority = 0,
    private readonly quorum = false,
  ) {
    this.levels = Array.from({ length: maxPriority + 1 }, () => new Level());
    log.onSparse = (segment) => setImmediate(() => this.compact(segment));
  }

  /** Opens the log and takes back every message a previous run left ready or unacknowledged. */
  recover(): number {
    this.log.open((record: RecoveredRecord) => {
      const level = this.levels[Math.min(record.priority, this.maxPriority)];
      if (this.quorum && record.dying !== undefined) {
        this.dyingRefs.push({ segment: record.segment, position: record.position, reason: record.dying });
        return;
      }
      if (this.quorum) {
        level.tail.push(record.segment, record.position, record.deliveries > 0);
        if (record.deliveries > 0) this.counts.set(`${record.segment}:${record.position}`, record.deliveries);
      } else level.tail.push(record.segment, record.position, record.delivered);
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
    const inWindow = new Set<QueuedMessage>(this.returns.toArray());
    for (const level of this.levels) for (const entry of level.window.toArray()) inWindow.add(entry);
    for (const entry of this.located) {
      if (entry.segment !== segment) continue;
      const moved = this.log.relocate(segment, entry.position as number);
      entry.segment = moved.segment;
      entry.position = moved.position;
      const dying = this.dyingEntries.get(entry);
      if (dying !== undefined) this.log.dying(moved.segment, moved.position, dying);
      else if (this.quorum) this.count$(moved, (entry.deliveryCount ?? 0) + (inWindow.has(entry) ? 0 : 1));
      else if (entry.redelivered || !inWindow.has(entry)) this.log.delivered(moved.segment, moved.position);
    }
    for (const ref of this.dyingRefs) {
      if (ref.segment !== segment) continue;
      const moved = this.log.relocate(segment, ref.position);
      this.log.dying(moved.segment, moved.position, ref.reason);
      ref.segment = moved.segment;
      ref.position = moved.position;
    }
    for (const level of this.levels) {
      level.tail.relocate((s, position, redelivered) => {
        if (s !== segment) return undefined;
        const moved = this.log.relocate(s, position);
        if (this.quorum) {
          const key = `${s}:${position}`;
          const n = this.counts.get(key) ?? 0;
          this.counts.delete(key);
          if (n > 0) this.counts.set(`${moved.segment}:${moved.position}`, n);
          this.count$(moved, n);
        } else if (redelivered) this.log.delivered(moved.segment, moved.position);
        return moved;
      });
    }
    this.log.retire(segment);
  }

  /** Writes `n` counted marks for a record (a quorum message moved by compaction keeps its deliveries). */
  private count$(at: { segment: number; position: number }, n: number): void {
    for (let i = 0; i < n; i++) this.log.counted(at.segment, at.position);
  }

  private levelOf(entry: QueuedMessage): Level {
    return this.levels[Math.min(entry.message.priority, this.maxPriority)];
  }

  private locate(entry: QueuedMessage): void {
    const { segment, position } = this.log.append(
      entry.message,
      entry.expiresAt,
      this.quorum || entry.message.persistent,
    );
    entry.segment = segment;
    entry.position = position;
  }

  private closed = false;

  push(entry: QueuedMessage): void {
    const level = this.levelOf(entry);
    if (level.tail.length === 0 && level.window.length < WINDOW_MESSAGES && level.windowBytes < WINDOW_BYTES) {
      if (this.quorum || entry.message.persistent) {
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
    if (this.returns.length > 0) {
      const entry = this.returns.shift() as QueuedMessage;
      this.count--;
      this.bytes -= entry.message.size;
      return entry;
    }
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
    if (this.returns.length > 0) return this.returns.peek();
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
        if (typeof record === 'string')
          throw new Error(`${this.log.dir}: ${record} record at ${segment}:${ref.position}`);
        level.tail.shift();
        const entry: QueuedMessage = {
          message: record.message,
          seq: this.nextSeq++,
          expiresAt: record.expiresAt,
          redelivered: ref.redelivered,
          segment,
          position: ref.position,
        };
        if (this.quorum && ref.redelivered) {
          const key = `${segment}:${ref.position}`;
          entry.deliveryCount = this.counts.get(key) ?? 1;
          this.counts.delete(key);
        }
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

  returnToHead(entry: QueuedMessage): void {
    this.returns.push(entry);
    this.count++;
    this.bytes += entry.message.size;
  }

  returnToTail(entry: QueuedMessage): void {
    const level = this.levelOf(entry);
    this.count++;
    this.bytes += entry.message.size;
    if (
      entry.segment === undefined ||
      (level.tail.length === 0 && level.window.length < WINDOW_MESSAGES && level.windowBytes < WINDOW_BYTES)
    ) {
      entry.seq = this.nextSeq++;
      level.window.push(entry);
      level.windowBytes += entry.message.size;
      return;
    }
    // behind messages that are only on disk: it joins them as a reference to the record it already has
    this.located.delete(entry);
    level.tail.push(entry.segment, entry.position as number, entry.redelivered);
    if (entry.deliveryCount) this.counts.set(`${entry.segment}:${entry.position}`, entry.deliveryCount);
  }

  markDying(entry: QueuedMessage, reason: number): void {
    if (entry.segment === undefined) return;
    this.dyingEntries.set(entry, reason);
    this.log.dying(entry.segment, entry.position as number, reason);
  }

  recoverDying(): { entry: QueuedMessage; reason: number }[] {
    const refs = this.dyingRefs;
    this.dyingRefs = [];
    return refs.map(({ segment, position, reason }) => {
      const { message, expiresAt } = this.log.readMessage(segment, position);
      const entry: QueuedMessage = { message, seq: this.nextSeq++, expiresAt, redelivered: true, segment, position };
      this.located.add(entry);
      this.dyingEntries.set(entry, reason);
      return { entry, reason };
    });
  }

  clear(): number {
    const cleared = this.count;
    for (const entry of this.returns.clear()) this.done(entry);
    this.counts.clear();
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
    if (!this.quorum && !entry.message.persistent) return; // nothing to recover after a restart
    this.locate(entry);
    this.located.add(entry);
    this.delivered(entry);
  }

  delivered(entry: QueuedMessage): void {
    if (entry.segment === undefined) return;
    if (this.quorum) this.log.counted(entry.segment, entry.position as number);
    else this.log.delivered(entry.segment, entry.position as number);
  }

  done(entry: QueuedMessage): void {
    if (entry.segment === undefined) return;
    this.located.delete(entry);
    this.dyingEntries.delete(entry);
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
