import * as fs from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { Message } from '../message';
import { FLAG_PERSISTENT, readRecord, RECORD_HEADER, recordSize, StoredMessage, writeRecord } from './record';

/**
 * The on-disk log of one durable queue, in the spirit of LavinMQ's message store.
 *
 * Layout, under `<data-dir>/queues/<queue id>/`:
 *
 *   msgs.0000000001   segment files: message records appended in arrival order (format in record.ts);
 *   msgs.0000000002   a new segment starts when the current one passes SEGMENT_SIZE
 *   acks.0000000001   one per segment: 4-byte big-endian positions of records that are done with
 *                     (acknowledged, rejected, expired, dropped or purged). With the top bit set, the entry
 *                     instead marks a record as handed to a consumer, so that after a restart it comes back
 *                     with `redelivered` set. With bit 30 set (quorum queues), it counts one delivery of the
 *                     record: after a restart the record comes back with as many deliveries as it has such
 *                     entries. With bit 29 set (quorum queues, at-least-once dead-lettering), it marks the
 *                     record as dead and waiting for its dead-letter target; bits 27-28 hold the reason (0
 *                     rejected, 1 expired, 2 maxlen, 3 delivery_limit). A position never reaches bit 23:
 *                     records start before SEGMENT_SIZE.
 *
 * Every message routed to a durable queue is appended, persistent or not; only persistent records are
 * recovered after a restart. Writes are buffered for the current event-loop turn and written with one
 * syscall; publisher confirms for persistent messages wait for an fsync, and all confirms waiting at the time
 * share it (group commit). Acknowledgement records are written but not fsynced: after a power cut an
 * acknowledged message may come back, which is the window RabbitMQ allows too. A segment whose every record is
 * done (and that is not being written) is deleted with its ack file: that is how space is reclaimed.
 *
 * Compaction: when a segment that is no longer written falls to a tenth of its records still live (a few
 * unacknowledged or long-queued messages pinning megabytes), the store copies those records to the end of the
 * log, fsyncs, points its references at the copies and deletes the old segment. Each copy's new location is
 * written to `moves.<old segment>` (8 bytes: u32 segment, u32 position) before the copy itself reaches a file,
 * and the moves file is deleted with the old segment. A crash in between (an fsync under load takes long
 * enough for a SIGKILL to land in it) leaves both copies, and the moves file: recovery then keeps the originals
 * and marks the copies listed done, so no message comes back twice. (After a power cut the moves file may be
 * lost where the copies were not; those few messages may then be delivered twice.)
 *
 * Recovery reads each segment in order, drops records listed in its ack file, and stops at the first record
 * that is cut short or fails its checksum (a torn write): the file is truncated there and the event logged. A
 * torn entry at the end of an ack file is cut off likewise, so that marks appended after it are read back.
 */
export const SEGMENT_SIZE = 8 * 1024 * 1024;
const DELIVERED = 0x80000000;
const COUNTED = 0x40000000;
const DYING = 0x20000000;
const REASON_SHIFT = 27;
const POSITION_MASK = 0x007fffff;

interface Segment {
  readonly id: number;
  fd: number;
  size: number;
  /** Records not yet done with. */
  live: number;
  /** Records written (recovered ones included), to tell when a segment is sparse enough to compact. */
  records: number;
  compacting: boolean;
  ackFd: number | undefined;
}

export interface RecoveredRecord {
  segment: number;
  position: number;
  priority: number;
  bodySize: number;
  delivered: boolean;
  /** Deliveries counted for the record (quorum queues' marks). */
  deliveries: number;
  /** The reason code of a record waiting to be dead-lettered (see dying()), if it is. */
  dying: number | undefined;
}

const pad = (id: number) => String(id).padStart(10, '0');

/** Logs with buffered records or marks (see flushPendingLogs). */
const pending = new Set<SegmentLog>();

/**
 * Writes every log's buffered records and marks to its files (the page cache, not fsync). Connections call it
 * before writing to their sockets: a client must never see a reply that depends on an ack or a delivery mark
 * (a basic.deliver, a round trip after basic.ack) before that mark is in the file, or a crash right then would
 * bring an acknowledged message back, or a delivered one back without `redelivered`.
 */
export function flushPendingLogs(): void {
  if (pending.size === 0) return;
  for (const log of pending) log.flush();
  pending.clear();
}

export class SegmentLog {
  private readonly segments = new Map<number, Segment>();
  private current!: Segment;
  private writeBuffer = Buffer.allocUnsafe(64 * 1024);
  private writeLength = 0;
  private pendingAcks = new Map<Segment, number[]>();
  private flushScheduled = false;
  private waiters: (() => void)[] = [];
  private syncing = false;
  private closed = false;

  constructor(
    readonly dir: string,
    private readonly log: (message: string) => void,
  ) {}

  /** Opens the log, reading what a previous run left. Calls `found` for each record still to be delivered. */
  open(found: (record: RecoveredRecord) => void): void {
    fs.mkdirSync(this.dir, { recursive: true });
    const names = fs.readdirSync(this.dir);
    const ids = names
      .filter((name) => /^msgs\.\d+$/.test(name))
      .map((name) => Number(name.slice(5)))
      .sort((a, b) => a - b);
    const copies = this.unfinishedMoves(names, new Set(ids));
    for (const id of ids) this.recoverSegment(id, found, copies.get(id));
    for (const segment of [...this.segments.values()]) if (segment.live === 0) this.deleteSegment(segment);
    this.startSegment((ids.at(-1) ?? 0) + 1);
    if (copies.size === 0) return;
    // the copies of an unfinished compaction are done with (their originals are live), then its moves go
    for (const [id, positions] of copies) {
      const segment = this.segments.get(id);
      if (segment) for (const position of positions) this.mark(segment, position);
    }
    this.flush();
    for (const segment of this.segments.values()) if (segment.ackFd !== undefined) fs.fsyncSync(segment.ackFd);
    for (const name of names) if (/^moves\.\d+$/.test(name)) fs.rmSync(join(this.dir, name), { force: true });
  }

  /**
   * The copies made by compactions that did not finish (their old segment is still there), by segment; moves
   * files of compactions that did finish are deleted.
   */
  private unfinishedMoves(names: string[], segments: Set<number>): Map<number, Set<number>> {
    const copies = new Map<number, Set<number>>();
    for (const name of names) {
      if (!/^moves\.\d+$/.test(name)) continue;
      if (!segments.has(Number(name.slice(6)))) {
        fs.rmSync(join(this.dir, name), { force: true });
        continue;
      }
      const data = fs.readFileSync(join(this.dir, name));
      for (let p = 0; p + 8 <= data.length; p += 8) {
        const segment = data.readUInt32BE(p);
        let set = copies.get(segment);
        if (!set) copies.set(segment, (set = new Set()));
        set.add(data.readUInt32BE(p + 4));
      }
    }
    return copies;
  }

  private recoverSegment(id: number, found: (record: RecoveredRecord) => void, copies: Set<number> | undefined): void {
    const path = join(this.dir, `msgs.${pad(id)}`);
    const data = fs.readFileSync(path);
    const done = new Set<number>();
    const delivered = new Set<number>();
    const counted = new Map<number, number>();
    const dying = new Map<number, number>();
    const ackPath = join(this.dir, `acks.${pad(id)}`);
    if (fs.existsSync(ackPath)) {
      const acks = fs.readFileSync(ackPath);
      const torn = acks.length % 4;
      if (torn !== 0) {
        // marks written from now on are appended: they must start on an entry boundary to be read back as written
        this.log(`${ackPath}: ${torn} bytes of a torn entry at the end (torn write), truncating them`);
        fs.truncateSync(ackPath, acks.length - torn);
      }
      for (let p = 0; p + 4 <= acks.length; p += 4) {
        const entry = acks.readUInt32BE(p);
        if (entry & DELIVERED) delivered.add((entry & ~DELIVERED) >>> 0);
        else if (entry & COUNTED) {
          const position = (entry & ~COUNTED) >>> 0;
          counted.set(position, (counted.get(position) ?? 0) + 1);
        } else if (entry & DYING) dying.set(entry & POSITION_MASK, (entry >>> REASON_SHIFT) & 3);
        else done.add(entry);
      }
    }
    const segment = this.openSegment(id, path);
    let position = 0;
    while (position < data.length) {
      const problem = scanRecord(data, position);
      if (typeof problem === 'string') {
        this.log(
          `${path}: ${problem} record at byte ${position} (torn write), truncating ${data.length - position} bytes and skipping it`,
        );
        fs.ftruncateSync(segment.fd, position);
        break;
      }
      const { length, persistent, priority, bodySize } = problem;
      segment.records++;
      if (persistent && !done.has(position) && !copies?.has(position)) {
        segment.live++;
        found({
          segment: id,
          position,
          priority,
          bodySize,
          delivered: delivered.has(position),
          deliveries: counted.get(position) ?? 0,
          dying: dying.get(position),
        });
      }
      position += length;
    }
    segment.size = position;
  }

  /** A segment's bookkeeping, its file opened to append to and read from (recovery, gets). */
  private openSegment(id: number, path: string): Segment {
    const segment: Segment = {
      id,
      fd: fs.openSync(path, 'a+'),
      size: 0,
      live: 0,
      records: 0,
      compacting: false,
      ackFd: undefined,
    };
    this.segments.set(id, segment);
    return segment;
  }

  private startSegment(id: number): void {
    const path = join(this.dir, `msgs.${pad(id)}`);
    // a new segment has no marks: an ack file of its number is left from a segment deleted by a crash between
    // its two files (deleteSegment), and would mark the new records at the same positions
    fs.rmSync(join(this.dir, `acks.${pad(id)}`), { force: true });
    const segment = this.openSegment(id, path);
    this.current = segment;
    syncDirectory(this.dir);
  }

  /**
   * Appends a record; returns where it is. The bytes reach the file at the end of this event-loop turn. A record
   * is recovered after a restart when `persistent`.
   */
  append(message: Message, expiresAt: number, persistent = message.persistent): { segment: number; position: number } {
    const position = this.reserve(recordSize(message));
    this.writeLength = writeRecord(this.writeBuffer, this.writeLength, message, expiresAt, persistent);
    this.scheduleFlush();
    return { segment: this.current.id, position };
  }

  /**
   * Makes room for a record of `size` bytes in the write buffer (starting a new segment when the current one
   * would pass SEGMENT_SIZE) and counts it; returns its position in the current segment.
   */
  private reserve(size: number): number {
    if (this.current.size + this.writeLength + size > SEGMENT_SIZE && this.current.size + this.writeLength > 0)
      this.rotate();
    if (this.writeLength + size > this.writeBuffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.writeBuffer.length * 2, this.writeLength + size));
      this.writeBuffer.copy(grown, 0, 0, this.writeLength);
      this.writeBuffer = grown;
    }
    this.current.live++;
    this.current.records++;
    return this.current.size + this.writeLength;
  }

  /** Called with a segment id when that segment becomes sparse (see compaction above). */
  onSparse: ((segment: number) => void) | undefined;

  has(segmentId: number): boolean {
    return this.segments.has(segmentId);
  }

  /** Segments that are already sparse (after recovery). */
  sparseSegments(): number[] {
    return [...this.segments.values()].filter((s) => this.isSparse(s)).map((s) => s.id);
  }

  private isSparse(segment: Segment): boolean {
    return (
      segment !== this.current &&
      !segment.compacting &&
      segment.live > 0 &&
      segment.records >= 10 &&
      segment.live * 10 <= segment.records
    );
  }

  /** Moves files of compactions under way, by old segment id. */
  private readonly moves = new Map<number, number>();

  /**
   * Copies a live record to the end of the log (compaction); the old copy stays until retire(). The copy's
   * location goes to the moves file first (it is still in the write buffer then).
   */
  relocate(segmentId: number, position: number): { segment: number; position: number } {
    const segment = this.segments.get(segmentId) as Segment;
    segment.compacting = true;
    const record = this.read(segmentId, position, 0);
    const size = record.readUInt32BE(0) + 4;
    const at = this.reserve(size);
    record.copy(this.writeBuffer, this.writeLength, 0, size);
    this.writeLength += size;
    let fd = this.moves.get(segmentId);
    if (fd === undefined) this.moves.set(segmentId, (fd = fs.openSync(join(this.dir, `moves.${pad(segmentId)}`), 'a')));
    const entry = Buffer.allocUnsafe(8);
    entry.writeUInt32BE(this.current.id, 0);
    entry.writeUInt32BE(at, 4);
    fs.writeSync(fd, entry);
    return { segment: this.current.id, position: at };
  }

  /** Ends a compaction: the copies are made durable, then the old segment is deleted, and its moves file. */
  retire(segmentId: number): void {
    const segment = this.segments.get(segmentId);
    if (!segment) return;
    this.flush();
    fs.fsyncSync(this.current.fd);
    this.deleteSegment(segment);
    const fd = this.moves.get(segmentId);
    if (fd === undefined) return;
    this.moves.delete(segmentId);
    fs.closeSync(fd);
    fs.rmSync(join(this.dir, `moves.${pad(segmentId)}`), { force: true });
  }

  /** The record is done with (acked, rejected, expired, dropped, purged). */
  done(segmentId: number, position: number): void {
    const segment = this.segments.get(segmentId);
    if (!segment) return;
    this.mark(segment, position);
    if (--segment.live === 0 && segment !== this.current) this.deleteSegment(segment);
    else if (this.isSparse(segment)) {
      segment.compacting = true;
      this.onSparse?.(segmentId);
    }
  }

  /** The record was handed to a consumer: after a restart it comes back redelivered. */
  delivered(segmentId: number, position: number): void {
    const segment = this.segments.get(segmentId);
    if (segment) this.mark(segment, (position | DELIVERED) >>> 0);
  }

  /** One delivery of the record, counted (quorum queues: x-delivery-count survives a restart). */
  counted(segmentId: number, position: number): void {
    const segment = this.segments.get(segmentId);
    if (segment) this.mark(segment, (position | COUNTED) >>> 0);
  }

  /** The record died and waits for its dead-letter target (quorum at-least-once); `reason` is a code 0-3. */
  dying(segmentId: number, position: number, reason: number): void {
    const segment = this.segments.get(segmentId);
    if (segment) this.mark(segment, (position | DYING | (reason << REASON_SHIFT)) >>> 0);
  }

  private mark(segment: Segment, entry: number): void {
    const list = this.pendingAcks.get(segment);
    if (list) list.push(entry);
    else this.pendingAcks.set(segment, [entry]);
    this.scheduleFlush();
  }

  /** Calls `callback` once everything appended so far is on disk (fsync), sharing the fsync with other waiters. */
  afterSync(callback: () => void): void {
    this.waiters.push(callback);
    this.scheduleFlush();
  }

  /** Reads at least the record at `position` (and whatever follows it, up to `want` bytes). */
  read(segmentId: number, position: number, want: number): Buffer {
    const segment = this.segments.get(segmentId);
    if (!segment) throw new Error(`segment ${segmentId} of ${this.dir} is gone`);
    if (segment === this.current && this.writeLength > 0) this.flushWrites();
    const length = Math.min(Math.max(want, RECORD_HEADER), segment.size - position);
    let buf = Buffer.allocUnsafe(length);
    fs.readSync(segment.fd, buf, 0, length, position);
    const needed = buf.readUInt32BE(0) + 4;
    if (needed > buf.length) {
      buf = Buffer.allocUnsafe(needed);
      fs.readSync(segment.fd, buf, 0, needed, position);
    }
    return buf;
  }

  readMessage(segmentId: number, position: number): StoredMessage {
    const result = readRecord(this.read(segmentId, position, 4096), 0);
    if (typeof result === 'string') throw new Error(`${this.dir}: ${result} record at ${segmentId}:${position}`);
    return result;
  }

  private scheduleFlush(): void {
    if (this.closed) return;
    pending.add(this);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  /** Writes buffered records and ack marks; starts an fsync if confirms are waiting. */
  flush(): void {
    pending.delete(this);
    if (this.closed) return;
    this.flushWrites();
    for (const [segment, entries] of this.pendingAcks) {
      if (!this.segments.has(segment.id)) continue;
      const buf = Buffer.allocUnsafe(entries.length * 4);
      for (let i = 0; i < entries.length; i++) buf.writeUInt32BE(entries[i], i * 4);
      segment.ackFd ??= fs.openSync(join(this.dir, `acks.${pad(segment.id)}`), 'a');
      fs.writeSync(segment.ackFd, buf);
    }
    this.pendingAcks.clear();
    if (this.waiters.length > 0 && !this.syncing) this.startSync();
  }

  private flushWrites(): void {
    if (this.writeLength === 0) return;
    let written = 0;
    while (written < this.writeLength)
      written += fs.writeSync(this.current.fd, this.writeBuffer, written, this.writeLength - written);
    this.current.size += this.writeLength;
    this.writeLength = 0;
  }

  private startSync(): void {
    this.syncing = true;
    const batch = this.waiters;
    this.waiters = [];
    fs.fsync(this.current.fd, (error) => {
      this.syncing = false;
      if (error) this.log(`fsync of ${this.dir} failed: ${error.message}`);
      for (const callback of batch) callback();
      if (this.waiters.length > 0 && !this.closed) {
        this.flushWrites();
        this.startSync();
      }
    });
  }

  private rotate(): void {
    this.flushWrites();
    fs.fsyncSync(this.current.fd);
    const previous = this.current;
    this.startSegment(previous.id + 1);
    if (previous.live === 0) this.deleteSegment(previous);
  }

  private deleteSegment(segment: Segment): void {
    this.segments.delete(segment.id);
    this.pendingAcks.delete(segment);
    fs.closeSync(segment.fd);
    if (segment.ackFd !== undefined) fs.closeSync(segment.ackFd);
    fs.rmSync(join(this.dir, `msgs.${pad(segment.id)}`), { force: true });
    fs.rmSync(join(this.dir, `acks.${pad(segment.id)}`), { force: true });
  }

  /** Everything written and fsynced, files closed (clean shutdown). */
  close(): void {
    if (this.closed) return;
    this.flush();
    fs.fsyncSync(this.current.fd);
    this.closed = true;
    for (const callback of this.waiters.splice(0)) callback();
    for (const segment of this.segments.values()) {
      fs.closeSync(segment.fd);
      if (segment.ackFd !== undefined) fs.closeSync(segment.ackFd);
    }
    this.segments.clear();
  }

  /** The queue was deleted: its files go. */
  destroy(): void {
    this.closed = true;
    for (const segment of this.segments.values()) {
      fs.closeSync(segment.fd);
      if (segment.ackFd !== undefined) fs.closeSync(segment.ackFd);
    }
    this.segments.clear();
    this.waiters = [];
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Validates the record at `position` without decoding its strings or body (recovery of deep queues). */
function scanRecord(
  data: Buffer,
  position: number,
): { length: number; persistent: boolean; priority: number; bodySize: number } | string {
  if (position + RECORD_HEADER + 2 > data.length) return 'incomplete';
  const length = data.readUInt32BE(position);
  const end = position + 4 + length;
  if (length < 24) return 'corrupt';
  if (end > data.length) return 'incomplete';
  if (crc32(data.subarray(position + RECORD_HEADER, end)) !== data.readUInt32BE(position + 4)) return 'corrupt';
  const flags = data[position + RECORD_HEADER];
  // skip flags, priority, expiresAt, exchange, routing key and properties to read the body length
  let p = position + RECORD_HEADER + 10;
  p += 1 + data[p];
  p += 1 + data[p];
  p += 4 + data.readUInt32BE(p);
  const bodySize = data.readUInt32BE(p);
  return {
    length: end - position,
    persistent: (flags & FLAG_PERSISTENT) !== 0,
    priority: data[position + RECORD_HEADER + 1],
    bodySize,
  };
}

function syncDirectory(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
