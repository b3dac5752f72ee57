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

// Unsigned big-endian integers by hand: callers have checked bounds (readers) or made room (writers), and
// plain index access is much cheaper than Buffer's checked readUInt32BE & co on the hot path. Writers still
// reject values that are not integers of the right range.

export function readU16(buf: Buffer, offset: number): number {
  return (buf[offset] << 8) | buf[offset + 1];
}

export function readU32(buf: Buffer, offset: number): number {
  return buf[offset] * 0x100_0000 + ((buf[offset + 1] << 16) | (buf[offset + 2] << 8) | buf[offset + 3]);
}

/** Unsigned 64-bit big-endian as a number (exact up to 2^53). */
export function readU64(buf: Buffer, offset: number): number {
  return readU32(buf, offset) * TWO_32 + readU32(buf, offset + 4);
}

export function writeU8(buf: Buffer, offset: number, v: number): number {
  if ((v & 0xff) !== v) throw outOfRange(v, 'octet');
  buf[offset] = v;
  return offset + 1;
}

export function writeU16(buf: Buffer, offset: number, v: number): number {
  if ((v & 0xffff) !== v) throw outOfRange(v, 'short');
  buf[offset] = v >>> 8;
  buf[offset + 1] = v;
  return offset + 2;
}

export function writeU32(buf: Buffer, offset: number, v: number): number {
  if (v >>> 0 !== v) throw outOfRange(v, 'long');
  buf[offset] = v >>> 24;
  buf[offset + 1] = v >>> 16;
  buf[offset + 2] = v >>> 8;
  buf[offset + 3] = v;
  return offset + 4;
}

/** Writes an integer 0 <= v < 2^64 as unsigned 64-bit big-endian. */
export function writeU64(buf: Buffer, offset: number, v: number): number {
  if (!(v >= 0 && v < TWO_64 && Number.isInteger(v))) throw outOfRange(v, 'longlong');
  const hi = Math.floor(v / TWO_32);
  writeU32(buf, offset, hi);
  return writeU32(buf, offset + 4, v - hi * TWO_32);
}

function outOfRange(v: unknown, domain: string): RangeError {
  return new RangeError(`${String(v)} is not a valid ${domain} (unsigned integer of the domain's size)`);
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
  const end = offset + 4 + readU32(buf, offset);
  if (end > buf.length) throw truncated('longstr');
  return buf.toString('utf8', offset + 4, end);
}

/** longstr as bytes: a copy, so the result does not keep the whole network chunk alive. */
export function readLongstrBytes(buf: Buffer, offset: number): Buffer {
  if (offset + 4 > buf.length) throw truncated('longstr');
  const end = offset + 4 + readU32(buf, offset);
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
  const len = s.length;
  if (len <= 255) {
    // ASCII fast path: for short strings a JS loop beats Buffer#write's call into C++ several times over
    let i = 0;
    while (i < len) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      buf[offset + 1 + i] = c;
      i++;
    }
    if (i === len) {
      buf[offset] = len;
      return offset + 1 + len;
    }
  }
  if (len > 85) {
    const n = Buffer.byteLength(s, 'utf8');
    if (n > 255) throw new RangeError(`shortstr of ${n} bytes exceeds 255: ${s.slice(0, 40)}…`);
  }
  const n = buf.write(s, offset + 1, 'utf8');
  buf[offset] = n;
  return offset + 1 + n;
}

export function writeLongstr(buf: Buffer, offset: number, v: string | Buffer): number {
  const n = typeof v === 'string' ? buf.write(v, offset + 4, 'utf8') : v.copy(buf, offset + 4);
  writeU32(buf, offset, n);
  return offset + 4 + n;
}
