// Shared by the storage engine's unit tests: temporary log directories, messages with known property bytes, and
// the names and raw bytes of a log's files.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Message } from '../../message';
import { RecoveredRecord, SegmentLog } from '../segment-log';

/** Content-header property bytes: the flag word with only delivery-mode set (bit 12), then delivery-mode 2. */
export const PERSISTENT_PROPS = Buffer.from([0x10, 0x00, 0x02]);
/** No properties at all: a transient message. */
export const TRANSIENT_PROPS = Buffer.from([0x00, 0x00]);

export const persistent = (body: string | Buffer, routingKey = 'q'): Message =>
  new Message('', routingKey, PERSISTENT_PROPS, typeof body === 'string' ? Buffer.from(body) : body);

export const transient = (body: string | Buffer, routingKey = 'q'): Message =>
  new Message('', routingKey, TRANSIENT_PROPS, typeof body === 'string' ? Buffer.from(body) : body);

/** Segment, ack and moves file names: the prefix, a dot and the segment number in ten digits. */
export const msgsName = (segment: number) => `msgs.${String(segment).padStart(10, '0')}`;
export const acksName = (segment: number) => `acks.${String(segment).padStart(10, '0')}`;
export const movesName = (segment: number) => `moves.${String(segment).padStart(10, '0')}`;

export function u32(...values: number[]): Buffer {
  const out = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => out.writeUInt32BE(v >>> 0, 4 * i));
  return out;
}

/** A fresh directory per test, removed after it. Call in a describe block. */
export function tempDirs(prefix: string): () => string {
  let dir = '';
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), `warren-${prefix}-`))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  return () => dir;
}

export interface Opened {
  log: SegmentLog;
  /** What recovery handed back, in the order it did. */
  found: RecoveredRecord[];
  /** What the log reported (torn writes). */
  logged: string[];
}

export function openLog(dir: string): Opened {
  const logged: string[] = [];
  const found: RecoveredRecord[] = [];
  const log = new SegmentLog(dir, (line) => logged.push(line));
  log.open((record) => found.push(record));
  return { log, found, logged };
}

/** Bodies of the recovered records, read back through the log. */
export const bodies = ({ log, found }: Opened): string[] =>
  found.map((r) => log.readMessage(r.segment, r.position).message.body.toString());

export const fileBytes = (dir: string, name: string): Buffer => readFileSync(join(dir, name));
