import { encodeBasicProperties } from '@warren/amqp-protocol';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { Message } from '../message';
import { recordSize } from './record';
import { flushPendingLogs, SEGMENT_SIZE } from './segment-log';
import {
  bodies,
  fileBytes,
  msgsName,
  openLog,
  PERSISTENT_PROPS,
  persistent,
  tempDirs,
  transient,
} from './testing/fixtures';

// Appending to a queue's segment log and reading it back: the bytes a record takes in the file, positions,
// the roll-over to a new segment at SEGMENT_SIZE, and what a reopen finds.

/**
 * Message('ex', 'rk', delivery-mode 2, body 'hi'), expiresAt 1.5, persistent, written by hand from the layout in
 * record.ts: len 0x21 (33 bytes follow it), CRC-32 of the 29 bytes after the crc field, flags 01 (persistent),
 * priority 00, expiresAt 1.5 as a big-endian double (3f f8 00..), exchange 02 'ex', routing key 02 'rk',
 * properties u32 3 + 10 00 02, body u32 2 + 'hi'.
 */
const KNOWN_PERSISTENT = Buffer.from(
  '00000021 2930c8f7 01 00 3ff8000000000000 02 6578 02 726b 00000003 100002 00000002 6869'.replace(/ /g, ''),
  'hex',
);
/** Message('', 'q', no properties, empty body), expiresAt 0, transient: flags 00, every field at its smallest. */
const KNOWN_TRANSIENT = Buffer.from(
  '0000001b 4136f431 00 00 0000000000000000 00 01 71 00000002 0000 00000000'.replace(/ /g, ''),
  'hex',
);

/** A record of exactly `size` bytes: recordSize() is 32 bytes plus the body for these messages. */
const sized = (size: number, fill: number): Message => persistent(Buffer.alloc(size - 32, fill));

describe('SegmentLog: append and read back', () => {
  const dir = tempDirs('segment-log');

  it('writes a record as the documented bytes, at position 0 of segment 1', () => {
    // the checksum in the literal is the CRC-32 of everything after it
    expect(crc32(KNOWN_PERSISTENT.subarray(8))).toBe(KNOWN_PERSISTENT.readUInt32BE(4));
    const { log } = openLog(dir());
    const at = log.append(new Message('ex', 'rk', PERSISTENT_PROPS, Buffer.from('hi')), 1.5);
    expect(at).toEqual({ segment: 1, position: 0 });
    log.flush();
    expect(fileBytes(dir(), msgsName(1)).toString('hex')).toBe(KNOWN_PERSISTENT.toString('hex'));
    log.close();
  });

  it('writes a transient record with the persistent flag clear, and sets it when the store keeps everything', () => {
    const { log } = openLog(dir());
    const m = new Message('', 'q', Buffer.from([0, 0]), Buffer.alloc(0));
    log.append(m, 0);
    log.append(m, 0, true);
    log.flush();
    const kept = Buffer.from(KNOWN_TRANSIENT);
    kept[8] = 0x01;
    kept.writeUInt32BE(crc32(kept.subarray(8)), 4);
    expect(fileBytes(dir(), msgsName(1)).toString('hex')).toBe(KNOWN_TRANSIENT.toString('hex') + kept.toString('hex'));
    log.close();
  });

  it('recovers and decodes a segment file written by hand: the persistent record only', () => {
    writeFileSync(join(dir(), msgsName(1)), Buffer.concat([KNOWN_PERSISTENT, KNOWN_TRANSIENT]));
    const opened = openLog(dir());
    expect(opened.found).toEqual([
      { segment: 1, position: 0, priority: 0, bodySize: 2, delivered: false, deliveries: 0, dying: undefined },
    ]);
    expect(opened.logged).toEqual([]);
    const stored = opened.log.readMessage(1, 0);
    expect(stored).toMatchObject({ persistent: true, priority: 0, expiresAt: 1.5, length: KNOWN_PERSISTENT.length });
    expect([stored.message.exchange, stored.message.routingKey, stored.message.body.toString()]).toEqual([
      'ex',
      'rk',
      'hi',
    ]);
    expect(stored.message.rawProperties.equals(PERSISTENT_PROPS)).toBe(true);
    // the transient record is still readable where it is, only not handed back
    expect(opened.log.readMessage(1, KNOWN_PERSISTENT.length).persistent).toBe(false);
    // the reopened log writes to a new segment, never after the old records
    expect(opened.log.append(persistent('next'), 0)).toEqual({ segment: 2, position: 0 });
    opened.log.close();
  });

  it('places records back to back: each position is the sum of the sizes before it', () => {
    const { log } = openLog(dir());
    const messages = Array.from({ length: 100 }, (_, i) => persistent('x'.repeat(i * 7), `key-${i}`));
    let expected = 0;
    for (const m of messages) {
      expect(log.append(m, 0)).toEqual({ segment: 1, position: expected });
      expected += recordSize(m);
    }
    // a read of the segment being written sees records still in the write buffer
    let position = 0;
    for (const m of messages) {
      const stored = log.readMessage(1, position);
      expect([stored.message.routingKey, stored.message.body.length]).toEqual([m.routingKey, m.body.length]);
      position += stored.length;
    }
    expect(statSync(join(dir(), msgsName(1))).size).toBe(expected);
    log.close();
  });

  it('brings back persistent records in order after a reopen, with their priority and body size', () => {
    let opened = openLog(dir());
    const priority7 = new Message('', 'q', encodeBasicProperties({ deliveryMode: 2, priority: 7 }), Buffer.from('p7'));
    opened.log.append(persistent('a'), 0);
    opened.log.append(transient('b'), 0);
    opened.log.append(priority7, 0);
    opened.log.append(persistent('dddd'), 0);
    opened.log.close();
    opened = openLog(dir());
    expect(bodies(opened)).toEqual(['a', 'p7', 'dddd']);
    expect(opened.found.map((r) => [r.priority, r.bodySize])).toEqual([
      [0, 1],
      [7, 2],
      [0, 4],
    ]);
    expect(opened.logged).toEqual([]);
    opened.log.close();
  });

  it('buffers appends until the end of the turn, or until flushPendingLogs()', async () => {
    const { log } = openLog(dir());
    log.append(persistent('a'), 0);
    expect(statSync(join(dir(), msgsName(1))).size).toBe(0);
    flushPendingLogs();
    expect(statSync(join(dir(), msgsName(1))).size).toBe(recordSize(persistent('a')));
    log.append(persistent('b'), 0);
    await new Promise<void>((resolve) => log.afterSync(resolve));
    expect(statSync(join(dir(), msgsName(1))).size).toBe(2 * recordSize(persistent('a')));
    log.close();
  });

  it('fills a segment up to exactly SEGMENT_SIZE and starts the next one with the record that would pass it', () => {
    const { log } = openLog(dir());
    const MiB = 1024 * 1024;
    expect(SEGMENT_SIZE % MiB).toBe(0);
    const perSegment = SEGMENT_SIZE / MiB;
    for (let i = 0; i < perSegment; i++)
      expect(log.append(sized(MiB, i), 0)).toEqual({ segment: 1, position: i * MiB });
    expect(log.append(sized(MiB, 0xaa), 0)).toEqual({ segment: 2, position: 0 });
    expect(log.append(sized(100, 0xbb), 0)).toEqual({ segment: 2, position: MiB });
    log.flush();
    expect(statSync(join(dir(), msgsName(1))).size).toBe(SEGMENT_SIZE);
    expect(statSync(join(dir(), msgsName(2))).size).toBe(MiB + 100);
    // both segments are read back, the older one included
    expect(log.readMessage(1, (perSegment - 1) * MiB).message.body[0]).toBe(perSegment - 1);
    expect(log.readMessage(2, 0).message.body[0]).toBe(0xaa);
    log.close();
  });

  it('starts a new segment for a record that would end one byte past SEGMENT_SIZE goes to the next segment', () => {
    const { log } = openLog(dir());
    const first = SEGMENT_SIZE - 1000;
    expect(log.append(sized(first, 1), 0)).toEqual({ segment: 1, position: 0 });
    expect(log.append(sized(1001, 2), 0)).toEqual({ segment: 2, position: 0 });
    expect(log.append(sized(1000, 3), 0)).toEqual({ segment: 2, position: 1001 });
    log.close();
  });

  it('gives a record larger than SEGMENT_SIZE a segment of its own', () => {
    const { log } = openLog(dir());
    expect(log.append(persistent('small'), 0)).toEqual({ segment: 1, position: 0 });
    expect(log.append(sized(SEGMENT_SIZE + 64, 7), 0)).toEqual({ segment: 2, position: 0 });
    expect(log.append(persistent('after'), 0)).toEqual({ segment: 3, position: 0 });
    expect(log.readMessage(2, 0).message.body.length).toBe(SEGMENT_SIZE + 64 - 32);
    log.close();
  });

  it('reads every record back across segments after a reopen, in order, and appends after the last segment', () => {
    const MiB = 1024 * 1024;
    let opened = openLog(dir());
    for (let i = 0; i < 20; i++) opened.log.append(sized(MiB, i), 0);
    opened.log.close();
    expect(readdirSync(dir()).sort()).toEqual([msgsName(1), msgsName(2), msgsName(3)]);
    opened = openLog(dir());
    expect(opened.found.map((r) => [r.segment, r.position / MiB])).toEqual(
      Array.from({ length: 20 }, (_, i) => [1 + Math.floor(i / 8), i % 8]),
    );
    expect(opened.found.map((r) => opened.log.readMessage(r.segment, r.position).message.body[0])).toEqual(
      Array.from({ length: 20 }, (_, i) => i),
    );
    expect(opened.log.append(persistent('new'), 0)).toEqual({ segment: 4, position: 0 });
    opened.log.close();
  });
});
