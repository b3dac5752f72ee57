// Primitive readers and writers shared by the generated method codec, the content header codec and field tables.
//
// Readers validate against the buffer's end and throw ProtocolError 502 (syntax-error) on truncation; they
// never throw Node's RangeError for malformed input. Writers assume the caller made room (see the *MaxSize
// helpers) and return the offset after what they wrote; invalid values (a shortstr over 255 bytes, a negative
// or fractional longlong) throw RangeError, as these are programming errors rather than bad input.

import { ProtocolError } from './errors';
import { ReplyCode } from './generated/constants';

const TWO_32 = 0x1_0000_0000;
const TWO_64 = TWO_32 * TWO_32;

export function truncated(what: string): ProtocolError {
  return new ProtocolError(ReplyCode.SYNTAX_ERROR, `truncated ${what}`);
}

/** Throws unless `n` bytes are available at `offset`. */
export function need(buf: Buffer, offset: number, n: number): void {
  if (offset + n > buf.length) throw truncated('arguments');
}

/** Throws unless the payload ends exactly at `end`. */
export function exactLength(buf: Buffer, end: number): void {
  if (buf.length < end) throw truncated('arguments');
  if (buf.length > end) {
    throw new ProtocolError(ReplyCode.SYNTAX_ERROR, `${buf.length - end} unexpected bytes after the arguments`);
  }
}

/** Unsigned 64-bit big-endian as a number (exact up to 2^53). */
export function readU64(buf: Buffer, offset: number): number {
  return buf.readUInt32BE(offset) * TWO_32 + buf.readUInt32BE(offset + 4);
}

/** Writes an integer 0 <= v < 2^64 as unsigned 64-bit big-endian. */
export function writeU64(buf: Buffer, offset: number, v: number): number {
  if (!(Number.isInteger(v) && v >= 0 && v < TWO_64)) throw new RangeError(`${v} is not an unsigned 64-bit integer`);
  const hi = Math.floor(v / TWO_32);
  buf.writeUInt32BE(hi, offset);
  return buf.writeUInt32BE(v - hi * TWO_32, offset + 4);
}

/** Signed 64-bit big-endian as a number (exact within ±2^53). */
export function readI64(buf: Buffer, offset: number): number {
  return buf.readInt32BE(offset) * TWO_32 + buf.readUInt32BE(offset + 4);
}

/** Writes an integer -2^63 <= v < 2^63 as signed 64-bit big-endian. */
export function writeI64(buf: Buffer, offset: number, v: number): number {
  if (!(Number.isInteger(v) && v >= -TWO_64 / 2 && v < TWO_64 / 2)) {
    throw new RangeError(`${v} is not a signed 64-bit integer`);
  }
  const hi = Math.floor(v / TWO_32);
  buf.writeInt32BE(hi, offset);
  return buf.writeUInt32BE(v - hi * TWO_32, offset + 4);
}

/** shortstr: 1 length octet + UTF-8 bytes. */
export function readShortstr(buf: Buffer, offset: number): string {
  if (offset >= buf.length) throw truncated('shortstr');
  const end = offset + 1 + buf[offset];
  if (end > buf.length) throw truncated('shortstr');
  return buf.toString('utf8', offset + 1, end);
}

/** longstr: uint32 length + bytes, as UTF-8 text. */
export function readLongstr(buf: Buffer, offset: number): string {
  if (offset + 4 > buf.length) throw truncated('longstr');
  const end = offset + 4 + buf.readUInt32BE(offset);
  if (end > buf.length) throw truncated('longstr');
  return buf.toString('utf8', offset + 4, end);
}

/** longstr as bytes: a copy, so the result does not keep the whole network chunk alive. */
export function readLongstrBytes(buf: Buffer, offset: number): Buffer {
  if (offset + 4 > buf.length) throw truncated('longstr');
  const end = offset + 4 + buf.readUInt32BE(offset);
  if (end > buf.length) throw truncated('longstr');
  return Buffer.from(buf.subarray(offset + 4, end));
}

/** Upper bound of a shortstr's encoded size (UTF-8 uses at most 3 bytes per UTF-16 code unit). */
export function shortstrMaxSize(s: string | undefined): number {
  return s === undefined ? 1 : s.length < 85 ? 1 + 3 * s.length : 256;
}

/** Upper bound of a longstr's encoded size. */
export function longstrMaxSize(v: string | Buffer | undefined): number {
  return v === undefined ? 4 : typeof v === 'string' ? 4 + 3 * v.length : 4 + v.length;
}

export function writeShortstr(buf: Buffer, offset: number, s: string): number {
  if (s.length > 85) {
    const n = Buffer.byteLength(s, 'utf8');
    if (n > 255) throw new RangeError(`shortstr of ${n} bytes exceeds 255: ${s.slice(0, 40)}…`);
  }
  const n = buf.write(s, offset + 1, 'utf8');
  buf[offset] = n;
  return offset + 1 + n;
}

export function writeLongstr(buf: Buffer, offset: number, v: string | Buffer): number {
  const n = typeof v === 'string' ? buf.write(v, offset + 4, 'utf8') : v.copy(buf, offset + 4);
  buf.writeUInt32BE(n, offset);
  return offset + 4 + n;
}
