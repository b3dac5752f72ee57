import { appendFileSync, existsSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { acksName, bodies, fileBytes, msgsName, openLog, persistent, tempDirs, u32 } from './testing/fixtures';

// Recovery from a damaged segment tail (segment-log.ts): it reads each segment in order and stops at the first
// record that is cut short or fails its checksum, truncates the file there and logs it. Every record before the
// damage comes back, nothing after it does, and the log goes on appending (to a new segment) so that what comes
// after survives the next restart.
//
// The segment under test holds 'one', 'two', 'three': records of 35, 35 and 37 bytes (32 + body), at positions
// 0, 35 and 70, ending at 107. Bytes 0-3 of a record are its length, 4-7 its checksum, the body its last bytes.

const ONE = 0;
const TWO = 35;
const THREE = 70;
const END = 107;

interface Damage {
  name: string;
  damage: (file: string) => void;
  survivors: string[];
  /** What the log line says: the problem, where, and how many bytes it drops. */
  logged: RegExp;
  /** The segment's size after recovery. */
  size: number;
}

function patch(file: string, at: number, bytes: Buffer): void {
  const data = readFileSync(file);
  bytes.copy(data, at);
  writeFileSync(file, data);
}

function flip(file: string, at: number): void {
  const data = readFileSync(file);
  data[at] ^= 0x01;
  writeFileSync(file, data);
}

const DAMAGES: Damage[] = [
  {
    name: 'cut inside the last record header (its length and 1 byte of the checksum)',
    damage: (file) => truncateSync(file, THREE + 5),
    survivors: ['one', 'two'],
    logged: /incomplete record at byte 70 .*truncating 5 bytes/,
    size: THREE,
  },
  {
    name: 'cut just after the last record header',
    damage: (file) => truncateSync(file, THREE + 9),
    survivors: ['one', 'two'],
    logged: /incomplete record at byte 70 .*truncating 9 bytes/,
    size: THREE,
  },
  {
    name: 'cut inside the last record body (one byte short)',
    damage: (file) => truncateSync(file, END - 1),
    survivors: ['one', 'two'],
    logged: /incomplete record at byte 70 .*truncating 36 bytes/,
    size: THREE,
  },
  {
    name: 'a body byte of the last record that does not match its checksum',
    damage: (file) => flip(file, END - 1),
    survivors: ['one', 'two'],
    logged: /corrupt record at byte 70 .*truncating 37 bytes/,
    size: THREE,
  },
  {
    name: 'a checksum of the last record that does not match its bytes',
    damage: (file) => flip(file, THREE + 7),
    survivors: ['one', 'two'],
    logged: /corrupt record at byte 70 .*truncating 37 bytes/,
    size: THREE,
  },
  {
    name: 'a length one short of the record (the checksum then covers other bytes)',
    damage: (file) => patch(file, THREE, Buffer.from([0, 0, 0, 32])),
    survivors: ['one', 'two'],
    logged: /corrupt record at byte 70 .*truncating 37 bytes/,
    size: THREE,
  },
  {
    name: 'a length running past the end of the file',
    damage: (file) => patch(file, THREE, Buffer.from([0x7f, 0xff, 0xff, 0xff])),
    survivors: ['one', 'two'],
    logged: /incomplete record at byte 70 .*truncating 37 bytes/,
    size: THREE,
  },
  {
    name: 'a length smaller than the smallest record',
    damage: (file) => patch(file, THREE, Buffer.from([0, 0, 0, 23])),
    survivors: ['one', 'two'],
    logged: /corrupt record at byte 70 .*truncating 37 bytes/,
    size: THREE,
  },
  {
    name: 'the last record zeroed in place (the file grew, its data never reached the disk)',
    damage: (file) => patch(file, THREE, Buffer.alloc(END - THREE)),
    survivors: ['one', 'two'],
    logged: /corrupt record at byte 70 .*truncating 37 bytes/,
    size: THREE,
  },
  {
    name: 'a page of zero bytes after the last record',
    damage: (file) => appendFileSync(file, Buffer.alloc(4096)),
    survivors: ['one', 'two', 'three'],
    logged: /corrupt record at byte 107 .*truncating 4096 bytes/,
    size: END,
  },
  {
    name: 'fewer zero bytes after the last record than a record header',
    damage: (file) => appendFileSync(file, Buffer.alloc(3)),
    survivors: ['one', 'two', 'three'],
    logged: /incomplete record at byte 107 .*truncating 3 bytes/,
    size: END,
  },
  {
    name: 'garbage after the last record',
    damage: (file) => appendFileSync(file, Buffer.from('5a17c3e9d20081ff4b6e0c7a39a1b2c3d4e5f6', 'hex')),
    survivors: ['one', 'two', 'three'],
    logged: /(corrupt|incomplete) record at byte 107 .*truncating 19 bytes/,
    size: END,
  },
  {
    name: 'half a copy of the last record after it (a crash in the middle of an append)',
    damage: (file) => appendFileSync(file, readFileSync(file).subarray(THREE, THREE + 18)),
    survivors: ['one', 'two', 'three'],
    logged: /incomplete record at byte 107 .*truncating 18 bytes/,
    size: END,
  },
  {
    name: 'a damaged record in the middle: the records after it are dropped too',
    damage: (file) => flip(file, THREE - 1),
    survivors: ['one'],
    logged: /corrupt record at byte 35 .*truncating 72 bytes/,
    size: TWO,
  },
  {
    name: 'a file cut inside its first record',
    damage: (file) => truncateSync(file, 20),
    survivors: [],
    logged: /incomplete record at byte 0 .*truncating 20 bytes/,
    size: ONE,
  },
];

describe('SegmentLog: recovery from a torn tail', () => {
  const dir = tempDirs('segment-recovery');
  const segment = (id = 1) => join(dir(), msgsName(id));

  function write(...names: string[]): void {
    const { log } = openLog(dir());
    for (const name of names) log.append(persistent(name), 0);
    log.close();
  }

  it('the fixture segment is laid out as the cases assume', () => {
    write('one', 'two', 'three');
    const opened = openLog(dir());
    expect(opened.found.map((r) => r.position)).toEqual([ONE, TWO, THREE]);
    expect(statSync(segment()).size).toBe(END);
    opened.log.close();
  });

  it.each(DAMAGES)('$name', ({ damage, survivors, logged, size }) => {
    write('one', 'two', 'three');
    damage(segment());
    const opened = openLog(dir());
    expect(bodies(opened)).toEqual(survivors);
    expect(opened.logged).toHaveLength(1);
    expect(opened.logged[0]).toMatch(logged);
    expect(opened.logged[0]).toContain(segment());
    // a segment left with nothing to deliver is deleted; otherwise it is cut back to its last good record
    if (survivors.length === 0) expect(existsSync(segment())).toBe(false);
    else expect(statSync(segment()).size).toBe(size);
    // appending goes on in a new segment, and the next recovery finds everything and nothing more to cut
    expect(opened.log.append(persistent('after'), 0)).toEqual({ segment: 2, position: 0 });
    opened.log.close();
    const again = openLog(dir());
    expect(bodies(again)).toEqual([...survivors, 'after']);
    expect(again.logged).toEqual([]);
    again.log.close();
  });

  it('damage in an older segment loses nothing of the segments after it', () => {
    const MiB = 1024 * 1024;
    const { log } = openLog(dir());
    for (let i = 0; i < 10; i++) log.append(persistent(Buffer.alloc(MiB - 32, i)), 0); // 8 in segment 1, 2 in 2
    log.close();
    truncateSync(segment(1), 7 * MiB + 100);
    const opened = openLog(dir());
    expect(opened.found.map((r) => r.segment)).toEqual([1, 1, 1, 1, 1, 1, 1, 2, 2]);
    expect(opened.found.map((r) => opened.log.readMessage(r.segment, r.position).message.body[0])).toEqual([
      0, 1, 2, 3, 4, 5, 6, 8, 9,
    ]);
    expect(opened.logged).toHaveLength(1);
    expect(opened.logged[0]).toMatch(/incomplete record at byte 7340032 .*truncating 100 bytes/);
    expect(opened.log.append(persistent('after'), 0)).toEqual({ segment: 3, position: 0 });
    opened.log.close();
  });

  it('an empty segment file is no error: nothing is found, it is deleted, and the next segment follows it', () => {
    writeFileSync(segment(1), Buffer.alloc(0));
    const opened = openLog(dir());
    expect(opened.found).toEqual([]);
    expect(opened.logged).toEqual([]);
    expect(existsSync(segment(1))).toBe(false);
    expect(opened.log.append(persistent('a'), 0)).toEqual({ segment: 2, position: 0 });
    opened.log.close();
  });

  it('an empty segment between two others is skipped and deleted; both neighbours come back', () => {
    write('one', 'two');
    const first = fileBytes(dir(), msgsName(1));
    writeFileSync(segment(2), Buffer.alloc(0));
    writeFileSync(segment(3), first);
    const opened = openLog(dir());
    expect(opened.found.map((r) => r.segment)).toEqual([1, 1, 3, 3]);
    expect(bodies(opened)).toEqual(['one', 'two', 'one', 'two']);
    expect(existsSync(segment(2))).toBe(false);
    expect(opened.log.append(persistent('a'), 0)).toEqual({ segment: 4, position: 0 });
    opened.log.close();
  });

  it('a torn ack entry (a write of the ack file cut short) is ignored; the whole entries before it hold', () => {
    write('one', 'two', 'three');
    writeFileSync(join(dir(), acksName(1)), Buffer.concat([u32(ONE), Buffer.from([0, 0])]));
    const opened = openLog(dir());
    expect(bodies(opened)).toEqual(['two', 'three']);
    expect(opened.logged).toHaveLength(1);
    expect(opened.logged[0]).toMatch(/acks\.0000000001: 2 bytes of a torn entry .*truncating/);
    opened.log.close();
  });

  it('acks written after a torn ack entry are read back as written at the next recovery', () => {
    write('one', 'two', 'three');
    // the torn half of an entry for 'three': had it been whole, it would have read 00 00 00 46
    writeFileSync(join(dir(), acksName(1)), Buffer.concat([u32(ONE), Buffer.from([0, 0])]));
    let opened = openLog(dir());
    expect(bodies(opened)).toEqual(['two', 'three']);
    opened.log.done(1, TWO);
    opened.log.close();
    opened = openLog(dir());
    expect(bodies(opened)).toEqual(['three']);
    opened.log.close();
    // the ack file holds whole entries only: the torn half was dropped before the new entry was appended
    expect(fileBytes(dir(), acksName(1)).toString('hex')).toBe('00000000' + '00000023');
  });

  it('an ack file left behind by a deleted segment is not applied to a new segment of the same number', () => {
    // a crash between the deletion of msgs.N and of acks.N (deleteSegment) leaves acks.N alone; the next
    // segment started may be number N again, and its records must not read those marks as theirs
    writeFileSync(join(dir(), acksName(1)), u32(0, 0x80000000 | TWO));
    let opened = openLog(dir());
    expect(opened.log.append(persistent('one'), 0)).toEqual({ segment: 1, position: 0 });
    opened.log.append(persistent('two'), 0);
    opened.log.close();
    opened = openLog(dir());
    expect(bodies(opened)).toEqual(['one', 'two']);
    expect(opened.found.map((r) => r.delivered)).toEqual([false, false]);
    opened.log.close();
  });
});
