import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { QueuedMessage } from '../message';
import { DurableStore } from './durable-store';
import { SEGMENT_SIZE, SegmentLog } from './segment-log';
import {
  acksName,
  fileBytes,
  movesName,
  msgsName,
  openLog,
  Opened,
  persistent,
  tempDirs,
  u32,
} from './testing/fixtures';

// Reclaiming space (segment-log.ts): a segment whose every record is done is deleted with its ack file once it
// is no longer written; one that falls to a tenth of its records live is compacted (its live records copied to
// the end of the log, their new locations in moves.<old segment>, then the old segment deleted).
//
// Records of 512 KiB: 16 fill segment 1 exactly, the 17th starts segment 2.

const RECORD = 512 * 1024;
const PER_SEGMENT = SEGMENT_SIZE / RECORD;
const big = (i: number) => persistent(Buffer.alloc(RECORD - 32, i));

describe('SegmentLog: deleting and compacting segments', () => {
  const dir = tempDirs('segment-compaction');
  const exists = (name: string) => existsSync(join(dir(), name));
  const firstBytes = (opened: Opened) =>
    opened.found.map((r) => opened.log.readMessage(r.segment, r.position).message.body[0]);

  /** Segment 1 full (records 0-15), segment 2 holding record 16 and being written. */
  function twoSegments(): Opened {
    const opened = openLog(dir());
    for (let i = 0; i <= PER_SEGMENT; i++) opened.log.append(big(i), 0);
    opened.log.flush();
    expect([exists(msgsName(1)), exists(msgsName(2))]).toEqual([true, true]);
    return opened;
  }

  it('deletes a segment with its ack file when its last live record is done, and not before', () => {
    const { log } = twoSegments();
    for (let i = 0; i < PER_SEGMENT - 1; i++) log.done(1, i * RECORD);
    log.flush();
    expect([exists(msgsName(1)), exists(acksName(1))]).toEqual([true, true]);
    log.done(1, (PER_SEGMENT - 1) * RECORD);
    expect([exists(msgsName(1)), exists(acksName(1)), log.has(1)]).toEqual([false, false, false]);
    // a late mark for a deleted segment is ignored, and writes no file
    log.done(1, 0);
    log.delivered(1, 0);
    log.flush();
    expect(exists(acksName(1))).toBe(false);
    log.close();
    const opened = openLog(dir());
    expect(opened.found.map((r) => [r.segment, r.position])).toEqual([[2, 0]]);
    opened.log.close();
  });

  it('keeps the segment being written when all its records are done; the next reopen deletes it', () => {
    let opened = openLog(dir());
    opened.log.append(persistent('a'), 0);
    opened.log.append(persistent('b'), 0);
    opened.log.done(1, 0);
    opened.log.done(1, 33);
    opened.log.close();
    expect([exists(msgsName(1)), exists(acksName(1))]).toEqual([true, true]);
    opened = openLog(dir());
    expect(opened.found).toEqual([]);
    expect([exists(msgsName(1)), exists(acksName(1)), exists(msgsName(2))]).toEqual([false, false, true]);
    opened.log.close();
  });

  it('deletes at a reopen a segment that holds only transient records', () => {
    let opened = openLog(dir());
    opened.log.append(persistent('t', 'q'), 0, false);
    opened.log.close();
    opened = openLog(dir());
    expect(opened.found).toEqual([]);
    expect(exists(msgsName(1))).toBe(false);
    opened.log.close();
  });

  it('keeps a partially acknowledged segment; a reopen brings back exactly its live records', () => {
    const { log } = twoSegments();
    for (const i of [0, 1, 2, 5, 8, 13]) log.done(1, i * RECORD);
    log.close();
    const opened = openLog(dir());
    expect(firstBytes(opened)).toEqual([3, 4, 6, 7, 9, 10, 11, 12, 14, 15, 16]);
    expect(opened.log.sparseSegments()).toEqual([]);
    opened.log.close();
  });

  it('calls onSparse once, when a segment no longer written falls to a tenth of its records live', () => {
    const { log } = twoSegments();
    const sparse: number[] = [];
    log.onSparse = (segment) => sparse.push(segment);
    for (let i = 0; i < PER_SEGMENT - 2; i++) log.done(1, i * RECORD); // 2 of 16 live: more than a tenth
    expect(sparse).toEqual([]);
    log.done(1, (PER_SEGMENT - 2) * RECORD); // 1 of 16
    expect(sparse).toEqual([1]);
    log.close();
  });

  it('never calls onSparse for the segment being written, nor for one of fewer than 10 records', () => {
    const opened = openLog(dir());
    const sparse: number[] = [];
    opened.log.onSparse = (segment) => sparse.push(segment);
    const MiB = 1024 * 1024;
    for (let i = 0; i < 9; i++) opened.log.append(persistent(Buffer.alloc(MiB - 32, i)), 0); // 8 in segment 1
    const small = Array.from({ length: 20 }, (_, i) => opened.log.append(persistent(String(i)), 0));
    expect(small.every((at) => at.segment === 2)).toBe(true);
    for (let i = 0; i < 7; i++) opened.log.done(1, i * MiB); // 1 of 8 live
    for (const at of small) opened.log.done(at.segment, at.position); // 1 of 21 live, but written
    expect(sparse).toEqual([]);
    expect([opened.log.has(1), opened.log.has(2)]).toEqual([true, true]);
    opened.log.close();
  });

  it('lists the sparse segments a reopen found', () => {
    const { log } = twoSegments();
    for (let i = 0; i < PER_SEGMENT - 1; i++) log.done(1, i * RECORD);
    log.close();
    const opened = openLog(dir());
    expect(opened.log.sparseSegments()).toEqual([1]);
    opened.log.close();
  });

  it('relocates a record to the end of the log, its new location first in the moves file; retire deletes the old', () => {
    const { log } = twoSegments();
    for (let i = 0; i < PER_SEGMENT - 1; i++) log.done(1, i * RECORD);
    const last = (PER_SEGMENT - 1) * RECORD;
    const copy = log.relocate(1, last);
    expect(copy).toEqual({ segment: 2, position: RECORD });
    // moves entry: u32 segment, u32 position of the copy, written before the copy leaves the write buffer
    expect(fileBytes(dir(), movesName(1)).toString('hex')).toBe('00000002' + '00080000');
    expect(log.readMessage(2, RECORD).message.body.equals(big(PER_SEGMENT - 1).body)).toBe(true);
    log.retire(1);
    expect([msgsName(1), acksName(1), movesName(1)].map(exists)).toEqual([false, false, false]);
    log.close();
    const opened = openLog(dir());
    expect(opened.found.map((r) => [r.segment, r.position])).toEqual([
      [2, 0],
      [2, RECORD],
    ]);
    expect(firstBytes(opened)).toEqual([16, 15]);
    opened.log.close();
  });

  it('recovers a compaction cut short (old segment and moves file still there): originals kept, copies marked done', () => {
    const { log } = twoSegments();
    for (let i = 0; i < PER_SEGMENT - 1; i++) log.done(1, i * RECORD);
    log.relocate(1, (PER_SEGMENT - 1) * RECORD);
    log.close(); // the copy is written; the crash comes before retire()
    // the moves file as a crash left it, written by hand from the documented layout
    writeFileSync(join(dir(), movesName(1)), u32(2, RECORD));
    let opened = openLog(dir());
    expect(opened.found.map((r) => [r.segment, r.position])).toEqual([
      [1, (PER_SEGMENT - 1) * RECORD],
      [2, 0],
    ]);
    expect(exists(movesName(1))).toBe(false);
    expect(fileBytes(dir(), acksName(2)).toString('hex')).toBe('00080000');
    opened.log.close();
    opened = openLog(dir());
    expect(firstBytes(opened)).toEqual([15, 16]);
    opened.log.close();
  });

  it('ignores a torn moves entry (its copy had not been written) and uses the whole ones', () => {
    const { log } = twoSegments();
    for (let i = 0; i < PER_SEGMENT - 1; i++) log.done(1, i * RECORD);
    log.relocate(1, (PER_SEGMENT - 1) * RECORD);
    log.close();
    writeFileSync(join(dir(), movesName(1)), Buffer.concat([u32(2, RECORD), Buffer.from([0, 0, 0, 2, 0])]));
    const opened = openLog(dir());
    expect(firstBytes(opened)).toEqual([15, 16]);
    expect(exists(movesName(1))).toBe(false);
    opened.log.close();
  });

  it('deletes the moves file of a compaction that finished (its old segment gone) and keeps the copies', () => {
    const { log } = twoSegments();
    for (let i = 0; i < PER_SEGMENT - 1; i++) log.done(1, i * RECORD);
    log.relocate(1, (PER_SEGMENT - 1) * RECORD);
    log.retire(1);
    log.close();
    writeFileSync(join(dir(), movesName(1)), u32(2, RECORD)); // a crash after deleting the segment, before this
    const opened = openLog(dir());
    expect(firstBytes(opened)).toEqual([16, 15]);
    expect(exists(movesName(1))).toBe(false);
    opened.log.close();
  });

  it('a durable store compacts a sparse segment on its own, and a reopen sees each live message once', async () => {
    const log = new SegmentLog(dir(), () => undefined);
    let store = new DurableStore(log);
    store.recover();
    for (let i = 0; i <= PER_SEGMENT; i++)
      store.push({ message: big(i), seq: 0, expiresAt: 0, redelivered: false } as QueuedMessage);
    const taken = Array.from({ length: PER_SEGMENT + 1 }, () => store.shift() as QueuedMessage);
    const oldSegment = taken[0].segment as number;
    for (const e of taken.slice(0, PER_SEGMENT - 1)) store.done(e);
    expect(log.has(oldSegment)).toBe(true);
    await new Promise((resolve) => setImmediate(resolve)); // compaction is scheduled for the next turn
    expect(log.has(oldSegment)).toBe(false);
    expect(exists(msgsName(oldSegment))).toBe(false);
    expect(taken[PER_SEGMENT - 1].segment).not.toBe(oldSegment);
    store.close();
    store = new DurableStore(new SegmentLog(dir(), () => undefined));
    expect(store.recover()).toBe(2);
    const back: number[] = [];
    for (let e = store.shift(); e; e = store.shift()) back.push(e.message.body[0]);
    expect(back.sort((a, b) => a - b)).toEqual([PER_SEGMENT - 1, PER_SEGMENT]);
    store.close();
  });
});
