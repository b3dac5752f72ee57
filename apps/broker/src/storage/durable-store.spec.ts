import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Message, QueuedMessage } from '../message';
import { DurableStore } from './durable-store';
import { SegmentLog } from './segment-log';

// A quorum queue's store: every message on disk, delivery counts kept across a reopen (counted marks), returns
// to the head and to the back, and compaction keeping the counts of the records it moves.

const TRANSIENT = Buffer.from([0, 0]);
const message = (body: string) => new Message('', 'q', TRANSIENT, Buffer.from(body));
const entry = (body: string): QueuedMessage => ({ message: message(body), seq: 0, expiresAt: 0, redelivered: false });

describe('DurableStore: quorum queues, and compaction cut short', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'warren-quorum-store-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const open = (quorum = true) => {
    const store = new DurableStore(new SegmentLog(dir, () => undefined), 0, quorum);
    store.recover();
    return store;
  };
  const all = (store: DurableStore) => {
    const out: string[] = [];
    for (let e = store.shift(); e; e = store.shift())
      out.push(
        `${e.message.body.toString()}${e.redelivered ? '*' : ''}${e.deliveryCount ? `#${e.deliveryCount}` : ''}`,
      );
    return out;
  };

  it('keeps transient messages across a reopen (a classic store does not)', () => {
    for (const quorum of [true, false]) {
      rmSync(dir, { recursive: true, force: true });
      let store = open(quorum);
      for (const b of ['a', 'b']) store.push(entry(b));
      store.close();
      store = open(quorum);
      expect([quorum, all(store)]).toEqual([quorum, quorum ? ['a', 'b'] : []]);
      store.close();
    }
  });

  it('brings delivery counts back: one per delivery, the last one counted if the message was out', () => {
    let store = open();
    for (const b of ['a', 'b', 'c']) store.push(entry(b));
    const a = store.shift() as QueuedMessage;
    store.delivered(a);
    a.deliveryCount = 1;
    a.redelivered = true;
    store.returnToHead(a);
    const again = store.shift() as QueuedMessage; // a, delivered a second time and out at the "crash"
    store.delivered(again);
    const b = store.shift() as QueuedMessage;
    store.delivered(b);
    store.done(b); // acknowledged: gone
    store.close();
    store = open();
    expect(all(store)).toEqual(['a*#2', 'c']);
    store.close();
  });

  it('keeps a message marked dying out of the ready ones across a reopen, and hands it back with its reason', () => {
    let store = open();
    for (const b of ['a', 'b', 'c']) store.push(entry(b));
    const a = store.shift() as QueuedMessage;
    store.delivered(a);
    store.markDying(a, 3);
    store.close();
    store = open();
    expect(store.count).toBe(2);
    const dying = store.recoverDying();
    expect(dying.map(({ entry: e, reason }) => [e.message.body.toString(), reason])).toEqual([['a', 3]]);
    expect(store.recoverDying()).toEqual([]);
    store.done(dying[0].entry); // dead-lettered at last
    expect(all(store)).toEqual(['b', 'c']);
    store.close();
    store = open();
    expect(store.recoverDying()).toEqual([]);
    store.close();
  });

  it('returns to the head ahead of everything and to the back behind messages that are only on disk', () => {
    const store = open();
    // past the in-memory window (1,024 messages): the later ones are references to the log
    for (let i = 0; i < 1500; i++) store.push(entry(`m${i}`));
    const first = store.shift() as QueuedMessage;
    const second = store.shift() as QueuedMessage;
    store.delivered(first);
    store.delivered(second);
    first.deliveryCount = 1;
    first.redelivered = true;
    second.deliveryCount = 1;
    second.redelivered = true;
    store.returnToTail(first);
    store.returnToHead(second);
    expect(store.count).toBe(1500);
    const order = all(store);
    expect(order.slice(0, 2)).toEqual(['m1*#1', 'm2']);
    expect(order.at(-1)).toBe('m0*#1');
    expect(order).toHaveLength(1500);
    store.close();
  });

  it('keeps delivery counts of records moved by compaction', () => {
    let store = open();
    // enough 100 KB records to fill more than one 8 MB segment
    const big = (i: number): QueuedMessage => ({
      message: new Message('', 'q', TRANSIENT, Buffer.alloc(100_000, i % 256)),
      seq: 0,
      expiresAt: 0,
      redelivered: false,
    });
    const entries = Array.from({ length: 100 }, (_, i) => big(i));
    for (const e of entries) store.push(e);
    const taken = Array.from({ length: 100 }, () => store.shift() as QueuedMessage);
    for (const e of taken) store.delivered(e);
    // keep the first and the tenth out with a consumer, give back the second with a count; the rest is done
    const keep = new Set([taken[0], taken[1], taken[9]]);
    for (const e of taken) if (!keep.has(e)) store.done(e);
    taken[1].deliveryCount = 1;
    taken[1].redelivered = true;
    store.returnToHead(taken[1]);
    const segment = taken[0].segment as number;
    store.compact(segment);
    expect(existsSync(join(dir, `msgs.${String(segment).padStart(10, '0')}`))).toBe(false);
    store.close();
    store = open();
    const back: QueuedMessage[] = [];
    for (let e = store.shift(); e; e = store.shift()) back.push(e);
    expect(back.map((e) => [e.message.body[0], e.deliveryCount])).toEqual([
      [0, 1],
      [1, 1],
      [9, 1],
    ]);
    store.close();
  });

  it('a compaction cut short after its copies were written brings each message back once (the moves file)', () => {
    const log = new SegmentLog(dir, () => undefined);
    let store = new DurableStore(log);
    store.recover();
    const big = (i: number): QueuedMessage => ({
      message: new Message('', 'q', Buffer.from([0x10, 0x00, 2]), Buffer.alloc(100_000, i % 256)), // delivery-mode 2
      seq: 0,
      expiresAt: 0,
      redelivered: false,
    });
    for (let i = 0; i < 100; i++) store.push(big(i));
    const taken = Array.from({ length: 100 }, () => store.shift() as QueuedMessage);
    const segment = taken[0].segment as number;
    for (const e of taken) if (e !== taken[0] && e !== taken[5] && e.segment === segment) store.done(e);
    // what compact() does up to the deletion of the old segment, where the broker dies: copies written
    for (const e of [taken[0], taken[5]]) log.relocate(segment, e.position as number);
    log.close(); // flushes what is buffered, as retire() does before its fsync, and stops the log there
    expect(readdirSync(dir)).toContain(`moves.${String(segment).padStart(10, '0')}`);
    // a restart finds both copies on disk: each message once, and the moves file gone
    store = open(false);
    const bodies: number[] = [];
    for (let e = store.shift(); e; e = store.shift()) bodies.push(e.message.body[0]);
    const others = taken.filter((e) => e.segment !== segment).map((e) => e.message.body[0]);
    expect(bodies.sort((a, b) => a - b)).toEqual([0, 5, ...others].sort((a, b) => a - b));
    expect(readdirSync(dir).filter((name) => name.startsWith('moves.'))).toEqual([]);
    store.close();
    // and again: the copies were marked done for good
    store = open(false);
    expect(store.count).toBe(bodies.length);
    store.close();
  });
});
