import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { flushPendingLogs } from './segment-log';
import { acksName, bodies, fileBytes, msgsName, openLog, persistent, tempDirs, u32 } from './testing/fixtures';

// The ack file of a segment (segment-log.ts): 4-byte big-endian entries, a record's position for "done with",
// bit 31 set for "handed to a consumer", bit 30 for one counted delivery, bit 29 with a reason in bits 27-28 for
// "dying". Bodies of one byte make records of 33 bytes (32 + body), at positions 0, 33 (0x21), 66 (0x42), 99.

const RECORD = 33;

describe('SegmentLog: acknowledgement records', () => {
  const dir = tempDirs('segment-acks');

  /** A log holding records with bodies 'a', 'b', ... in segment 1. */
  function withRecords(n: number) {
    const opened = openLog(dir());
    for (let i = 0; i < n; i++) opened.log.append(persistent(String.fromCharCode(97 + i)), 0);
    return opened;
  }

  it('writes "done" as the record position in 4 big-endian bytes to the ack file of its segment', () => {
    const { log } = withRecords(3);
    log.done(1, RECORD);
    log.done(1, 2 * RECORD);
    log.flush();
    expect(fileBytes(dir(), acksName(1)).toString('hex')).toBe('00000021' + '00000042');
    log.close();
  });

  it('writes delivered, counted and dying marks with their bits set above the position, in call order', () => {
    const { log } = withRecords(2);
    log.delivered(1, RECORD);
    log.counted(1, RECORD);
    log.dying(1, RECORD, 0);
    log.dying(1, RECORD, 1);
    log.dying(1, RECORD, 2);
    log.dying(1, RECORD, 3);
    log.flush();
    expect(fileBytes(dir(), acksName(1)).toString('hex')).toBe(
      ['80000021', '40000021', '20000021', '28000021', '30000021', '38000021'].join(''),
    );
    log.close();
  });

  it('keeps marks buffered until the end of the turn, or until flushPendingLogs()', () => {
    const { log } = withRecords(2);
    log.done(1, 0);
    expect(existsSync(join(dir(), acksName(1)))).toBe(false);
    flushPendingLogs();
    expect(fileBytes(dir(), acksName(1)).toString('hex')).toBe('00000000');
    log.close();
  });

  it('does not bring back a record that is done with; the others come back in order', () => {
    const first = withRecords(4);
    first.log.done(1, RECORD);
    first.log.done(1, 3 * RECORD);
    first.log.close();
    const opened = openLog(dir());
    expect(bodies(opened)).toEqual(['a', 'c']);
    opened.log.close();
  });

  it('reads an ack file written by hand: done, delivered, counted twice, dying with a reason', () => {
    withRecords(5).log.close();
    writeFileSync(
      join(dir(), acksName(1)),
      Buffer.concat([
        u32(0), // 'a' done
        u32(0x80000000 | RECORD), // 'b' delivered
        u32(0x40000000 | (2 * RECORD)), // 'c' counted twice
        u32(0x40000000 | (2 * RECORD)),
        u32(0x20000000 | (2 << 27) | (3 * RECORD)), // 'd' dying, reason 2 (maxlen)
        u32(0x80000000 | (4 * RECORD)), // 'e' delivered, then done
        u32(4 * RECORD),
      ]),
    );
    const opened = openLog(dir());
    expect(opened.found).toEqual([
      { segment: 1, position: RECORD, priority: 0, bodySize: 1, delivered: true, deliveries: 0, dying: undefined },
      {
        segment: 1,
        position: 2 * RECORD,
        priority: 0,
        bodySize: 1,
        delivered: false,
        deliveries: 2,
        dying: undefined,
      },
      { segment: 1, position: 3 * RECORD, priority: 0, bodySize: 1, delivered: false, deliveries: 0, dying: 2 },
    ]);
    opened.log.close();
  });

  it('writes the ack of a message in an older segment to that segment, which stays while it has live records', () => {
    const MiB = 1024 * 1024;
    const opened = openLog(dir());
    for (let i = 0; i < 9; i++) opened.log.append(persistent(Buffer.alloc(MiB - 32, i)), 0); // 8 fill segment 1
    opened.log.done(1, 2 * MiB);
    opened.log.flush();
    expect(fileBytes(dir(), acksName(1)).toString('hex')).toBe('00200000');
    expect(existsSync(join(dir(), acksName(2)))).toBe(false);
    expect(existsSync(join(dir(), msgsName(1)))).toBe(true);
    opened.log.close();
    const after = openLog(dir());
    expect(after.found.map((r) => [r.segment, r.position / MiB])).toEqual([
      [1, 0],
      [1, 1],
      [1, 3],
      [1, 4],
      [1, 5],
      [1, 6],
      [1, 7],
      [2, 0],
    ]);
    after.log.close();
  });

  it('acks a recovered record in its old segment after a reopen, and the ack holds at the next reopen', () => {
    withRecords(3).log.close();
    let opened = openLog(dir());
    expect(opened.found.map((r) => r.segment)).toEqual([1, 1, 1]);
    opened.log.done(1, RECORD);
    opened.log.close();
    expect(fileBytes(dir(), acksName(1)).toString('hex')).toBe('00000021');
    opened = openLog(dir());
    expect(bodies(opened)).toEqual(['a', 'c']);
    opened.log.close();
  });
});
