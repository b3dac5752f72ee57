import { FLAG_HEADERS } from '@warren/amqp-protocol';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { headerKeys, Message } from '../message';
import type { Queue } from '../queue/queue';
import { DelayEntry, DelayHeap } from '../storage/delay-heap';
import { flushPendingLogs, SegmentLog } from '../storage/segment-log';
import type { Storage } from '../storage/storage';
import { LongTimeout } from '../util/long-timeout';
import { DelayedExchange, DelayHost, markReleased } from './delayed';
import type { Exchange } from './exchange';

/** At most this many due messages are routed per event-loop turn (the rest on the next turn, right after). */
const BATCH = 2048;

/** What the scheduler needs from its virtual host: routing a due message from its exchange. */
export interface DelayRouter {
  route(exchange: Exchange, message: Message, extraKeys?: readonly string[]): Queue[];
}

/** Where one exchange's held messages are: its segment log with a data directory, memory without one. */
interface HeldLog {
  append(message: Message, due: number): { segment: number; position: number };
  read(segment: number, position: number): Message;
  done(segment: number, position: number): void;
  close(): void;
  destroy(): void;
}

class MemoryLog implements HeldLog {
  private readonly messages = new Map<number, Message>();
  private next = 0;
  append(message: Message): { segment: number; position: number } {
    const position = this.next;
    this.next = (this.next + 1) >>> 0;
    this.messages.set(position, message);
    return { segment: 0, position };
  }
  read(_segment: number, position: number): Message {
    return this.messages.get(position) as Message;
  }
  done(_segment: number, position: number): void {
    this.messages.delete(position);
  }
  close(): void {}
  destroy(): void {
    this.messages.clear();
  }
}

class DiskLog implements HeldLog {
  constructor(readonly log: SegmentLog) {}
  append(message: Message, due: number): { segment: number; position: number } {
    return this.log.append(message, due);
  }
  read(segment: number, position: number): Message {
    return this.log.readMessage(segment, position).message;
  }
  done(segment: number, position: number): void {
    this.log.done(segment, position);
  }
  close(): void {
    this.log.close();
  }
  destroy(): void {
    this.log.destroy();
  }
}

interface Held {
  readonly id: number;
  readonly exchange: DelayedExchange;
  readonly log: HeldLog;
}

/**
 * Holds the delayed messages of one virtual host's x-delayed-message exchanges and routes them when due.
 *
 * Each exchange's held messages go to a log of their own (with a data directory: a segment log under
 * delayed/<id>/, the record's expiry field holding the due time; persistent messages of a durable exchange are
 * recovered after a restart or a crash, like those of a durable queue). In memory there is only a heap of
 * 28-byte entries in typed arrays (delay-heap.ts), ordered by due time, so the number of pending messages is
 * bounded by disk, not by the JS heap.
 *
 * One timer, for the earliest due time: when it fires, every message due by then is routed in one batch
 * (BATCH per event-loop turn), and the timer is armed again for the next due time. A message is never routed
 * before its due time; a timer that fires early is re-armed. A held message is marked done in its log only
 * after the queues it was routed to have written it to their files, so a crash in between delivers it twice
 * rather than never.
 */
export class DelayScheduler implements DelayHost {
  private readonly heap = new DelayHeap();
  private readonly byId = new Map<number, Held>();
  private readonly byExchange = new Map<DelayedExchange, Held>();
  private nextId = 1;
  private seq = 0;
  private timer: LongTimeout | undefined;
  /** The due time the timer is armed for (Infinity: not armed). */
  private armed = Infinity;
  private continuation: NodeJS.Immediate | undefined;
  private readonly entry: DelayEntry = { due: 0, seq: 0, exchange: 0, segment: 0, position: 0 };
  private closed = false;

  constructor(
    private readonly router: DelayRouter,
    private readonly storage: Storage | undefined,
    private readonly log: (message: string) => void = (m) => console.error(m),
  ) {}

  /** Held messages not yet routed, over all exchanges. */
  get pending(): number {
    return this.heap.length;
  }

  /** The earliest due time (epoch ms), Infinity when nothing is held. */
  get nextDue(): number {
    return this.heap.peekDue();
  }

  hold(exchange: DelayedExchange, message: Message, delay: number): void {
    const held = this.open(exchange, true);
    let stored = message;
    if (message.bcc !== undefined && message.bcc.length > 0) {
      // BCC keys route the message when it is due too: kept in the stored headers, taken out again then
      stored = message.clone(message.exchange, message.routingKey);
      const headers = new Map(message.properties.headers ?? []);
      headers.set('BCC', { type: 'A', value: message.bcc.map((key) => ({ type: 'S' as const, value: key })) });
      stored.properties = { ...message.properties, headers };
    }
    const due = Date.now() + delay;
    const { segment, position } = held.log.append(stored, due);
    this.heap.push(due, this.seq++, held.id, segment, position);
    exchange.pending++;
    if (due < this.armed) this.arm();
  }

  /** Start-up, after the vhost's durable definitions are back: recovers the held messages of its delayed exchanges. */
  recover(exchanges: Iterable<Exchange>): void {
    const delayed = [...exchanges].filter((x): x is DelayedExchange => x instanceof DelayedExchange);
    if (this.storage) {
      this.storage.removeDelayOrphans(delayed.map((x) => x.name));
      for (const exchange of delayed) this.open(exchange, false);
    }
    this.arm();
  }

  /** The exchange was deleted: its held messages go with it. */
  dropExchange(exchange: Exchange): void {
    if (!(exchange instanceof DelayedExchange)) return;
    const held = this.byExchange.get(exchange);
    if (!held) return;
    this.byExchange.delete(exchange);
    this.byId.delete(held.id);
    this.heap.removeExchange(held.id);
    held.log.destroy();
    exchange.pending = 0;
    this.arm();
  }

  /** Shutdown: the timer stops and the logs are closed (what is held stays on disk for the next start). */
  close(): void {
    this.closed = true;
    this.timer?.clear();
    this.timer = undefined;
    this.armed = Infinity;
    if (this.continuation) clearImmediate(this.continuation);
    for (const held of this.byId.values()) held.log.close();
  }

  private open(exchange: DelayedExchange, fresh: boolean): Held {
    let held = this.byExchange.get(exchange);
    if (held) return held;
    const id = this.nextId++;
    if (!this.storage) {
      held = { id, exchange, log: new MemoryLog() };
    } else {
      const segmentLog = this.storage.delayLog(exchange.name, fresh);
      held = { id, exchange, log: new DiskLog(segmentLog) };
      const h = held;
      segmentLog.onSparse = (segment) => setImmediate(() => this.compact(h, segmentLog, segment));
      if (!fresh) this.recoverLog(h, segmentLog);
      else segmentLog.open(() => undefined);
    }
    this.byId.set(id, held);
    this.byExchange.set(exchange, held);
    return held;
  }

  /** Reads back the held persistent messages of a log: each one's due time from its record. */
  private recoverLog(held: Held, log: SegmentLog): void {
    const bySegment = new Map<number, number[]>();
    log.open((record) => {
      let positions = bySegment.get(record.segment);
      if (!positions) bySegment.set(record.segment, (positions = []));
      positions.push(record.position);
    });
    for (const [segment, positions] of bySegment) {
      const data = fs.readFileSync(join(log.dir, `msgs.${String(segment).padStart(10, '0')}`));
      for (const position of positions) {
        const due = data.readDoubleBE(position + 10); // record.ts: len, crc, flags, priority, then the due time
        this.heap.push(due, this.seq++, held.id, segment, position);
        held.exchange.pending++;
      }
    }
    for (const segment of log.sparseSegments()) this.compact(held, log, segment);
  }

  /** Moves the live records of a sparse segment to the end of the log (segment-log.ts) and repoints the heap. */
  private compact(held: Held, log: SegmentLog, segment: number): void {
    if (this.closed || this.byId.get(held.id) !== held || !log.has(segment)) return;
    this.heap.relocate((exchange, s, position) =>
      exchange === held.id && s === segment ? log.relocate(s, position) : undefined,
    );
    log.retire(segment);
  }

  private arm(): void {
    if (this.closed || this.continuation) return;
    const next = this.heap.peekDue();
    if (next === this.armed) return;
    this.timer?.clear();
    this.timer = undefined;
    this.armed = next;
    if (next === Infinity) return;
    this.timer = new LongTimeout(() => this.fire(), next - Date.now());
  }

  /** Routes everything due by now (up to BATCH; the rest on the next turn), then arms the timer for what is next. */
  private fire(): void {
    this.timer = undefined;
    this.armed = Infinity;
    this.continuation = undefined;
    if (this.closed) return;
    const now = Date.now();
    const e = this.entry;
    const routed: (Held | number)[] = [];
    let n = 0;
    while (n < BATCH && this.heap.peekDue() <= now) {
      this.heap.pop(e);
      const held = this.byId.get(e.exchange);
      if (!held) continue;
      n++;
      held.exchange.pending--;
      try {
        this.release(held.exchange, held.log.read(e.segment, e.position));
      } catch (error) {
        this.log(
          `delayed message of exchange '${held.exchange.name}' could not be routed: ${(error as Error).message}`,
        );
      }
      routed.push(held, e.segment, e.position);
    }
    // the routed copies reach their queues' files before the held records are marked done
    flushPendingLogs();
    for (let i = 0; i < routed.length; i += 3)
      (routed[i] as Held).log.done(routed[i + 1] as number, routed[i + 2] as number);
    if (routed.length > 0) flushPendingLogs(); // and the done marks right after: the window for a duplicate is this turn
    if (this.heap.peekDue() <= Date.now()) this.continuation = setImmediate(() => this.fire());
    else this.arm();
  }

  /** Routes a due message through its exchange (its x-delayed-type, alternate exchange, e2e bindings). */
  private release(exchange: DelayedExchange, message: Message): void {
    let bcc: string[] | undefined;
    if ((message.flags & FLAG_HEADERS) !== 0 && message.properties.headers?.has('BCC')) {
      bcc = headerKeys(message, 'BCC');
      const headers = new Map(message.properties.headers);
      headers.delete('BCC');
      message.properties = { ...message.properties, headers };
      message.bcc = bcc;
    }
    markReleased(message);
    const keys = [...headerKeys(message, 'CC'), ...(bcc ?? [])];
    const queues = this.router.route(exchange, message, keys.length > 0 ? keys : undefined);
    for (const queue of queues) queue.publish(message);
  }
}
