// Primitive readers and writers shared by the generated method codec, the content header codec and field tables.
//
// Readers validate against the buffer's end and throw ProtocolError 502 (syntax-error) on truncation; they
// never throw Node's RangeError for malformed input. Writers assume the caller made room (see the *MaxSize
// helpers) and return the offset after what they wrote; invalid values (a shortstr over 255 bytes, a negative
// or fractional longlong) throw RangeError, as these are programming errors rather than bad input.

import { isUtf8 } from 'node:buffer';
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

/**
 * Unsigned 64-bit big-endian, exactly: a number up to 2^53, a bigint beyond (timestamps and 'T' values, which
 * a peer may set to anything and which must re-encode to the same bytes).
 */
export function readU64Exact(buf: Buffer, offset: number): number | bigint {
  const hi = readU32(buf, offset);
  return hi < 0x20_0000 ? hi * TWO_32 + readU32(buf, offset + 4) : buf.readBigUInt64BE(offset);
}

/** Signed 64-bit big-endian, exactly: a number within ±2^53, a bigint beyond. */
export function readI64Exact(buf: Buffer, offset: number): number | bigint {
  const hi = buf.readInt32BE(offset);
  return hi >= -0x20_0000 && hi < 0x20_0000 ? hi * TWO_32 + readU32(buf, offset + 4) : buf.readBigInt64BE(offset);
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

/** Writes an integer 0 <= v < 2^64 (a number, or a bigint for the full range) as unsigned 64-bit big-endian. */
export function writeU64(buf: Buffer, offset: number, v: number | bigint): number {
  if (typeof v === 'bigint') {
    if (v < 0n || v >= 1n << 64n) throw outOfRange(v, 'longlong');
    buf.writeBigUInt64BE(v, offset);
    return offset + 8;
  }
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

/** Writes an integer -2^63 <= v < 2^63 (a number, or a bigint for the full range) as signed 64-bit big-endian. */
export function writeI64(buf: Buffer, offset: number, v: number | bigint): number {
  if (typeof v === 'bigint') {
    if (v < -(1n << 63n) || v >= 1n << 63n) throw new RangeError(`${v} is not a signed 64-bit integer`);
    buf.writeBigInt64BE(v, offset);
    return offset + 8;
  }
  if (!(Number.isInteger(v) && v >= -TWO_64 / 2 && v < TWO_64 / 2)) {
    throw new RangeError(`${v} is not a signed 64-bit integer`);
  }
  const hi = Math.floor(v / TWO_32);
  buf.writeInt32BE(hi, offset);
  return buf.writeUInt32BE(v - hi * TWO_32, offset + 4);
}

// Text from the wire is kept byte for byte. Valid UTF-8 decodes as usual; a byte that is not part of a valid
// UTF-8 sequence decodes to the lone surrogate U+DC80 + byte (the "surrogateescape" of PEP 383), which encodes
// back to that byte. Well-formed UTF-8 never decodes to a lone surrogate, so the mapping is exact both ways:
// a name, routing key or header of invalid UTF-8 is echoed, delivered and re-encoded as it arrived (RabbitMQ
// keeps such binaries as they are), and a decoded shortstr always fits its 255 bytes again.

/** Decodes buf[start, end) as text, escaping bytes that are not valid UTF-8 (see above). */
export function readText(buf: Buffer, start: number, end: number): string {
  for (let i = start; i < end; i++) {
    if (buf[i] >= 0x80)
      return isUtf8(buf.subarray(start, end)) ? buf.toString('utf8', start, end) : unescapedText(buf, start, end);
  }
  return buf.toString('latin1', start, end);
}

/** The length of the well-formed UTF-8 sequence at buf[i] (before end), or 0 if there is none. */
function sequenceLength(buf: Buffer, i: number, end: number): number {
  const b = buf[i];
  const cont = (k: number) => i + k < end && (buf[i + k] & 0xc0) === 0x80;
  if (b >= 0xc2 && b <= 0xdf) return cont(1) ? 2 : 0;
  if (b >= 0xe0 && b <= 0xef) {
    const b1 = buf[i + 1];
    // no overlongs (E0 80..9F) and no surrogates (ED A0..BF)
    if (i + 1 >= end || (b === 0xe0 && b1 < 0xa0) || (b === 0xed && b1 > 0x9f)) return 0;
    return cont(1) && cont(2) ? 3 : 0;
  }
  if (b >= 0xf0 && b <= 0xf4) {
    const b1 = buf[i + 1];
    // no overlongs (F0 80..8F) and nothing above U+10FFFF (F4 90..)
    if (i + 1 >= end || (b === 0xf0 && b1 < 0x90) || (b === 0xf4 && b1 > 0x8f)) return 0;
    return cont(1) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

function unescapedText(buf: Buffer, start: number, end: number): string {
  let out = '';
  let run = start; // start of the current run of valid bytes
  for (let i = start; i < end;) {
    const b = buf[i];
    const n = b < 0x80 ? 1 : sequenceLength(buf, i, end);
    if (n > 0) {
      i += n;
      continue;
    }
    out += buf.toString('utf8', run, i) + String.fromCharCode(0xdc00 + b);
    i += 1;
    run = i;
  }
  return out + buf.toString('utf8', run, end);
}

/** True if `s` holds a lone low surrogate U+DC80..U+DCFF: an escaped byte, which Buffer#write would not restore. */
function hasEscapes(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++; // a pair: an ordinary character beyond the BMP
      continue;
    }
    if (c >= 0xdc80 && c <= 0xdcff) return true;
  }
  return false;
}

/** Text back to bytes: UTF-8, with escaped bytes restored (the inverse of readText). */
export function textBytes(s: string): Buffer {
  if (!hasEscapes(s)) return Buffer.from(s, 'utf8');
  const parts: Buffer[] = [];
  let run = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
      continue;
    }
    if (c < 0xdc80 || c > 0xdcff) continue;
    parts.push(Buffer.from(s.slice(run, i), 'utf8'), Buffer.from([c - 0xdc00]));
    run = i + 1;
  }
  parts.push(Buffer.from(s.slice(run), 'utf8'));
  return Buffer.concat(parts);
}

/** Encoded size of text (escaped bytes count one). */
export function textByteLength(s: string): number {
  return hasEscapes(s) ? textBytes(s).length : Buffer.byteLength(s, 'utf8');
}

/** Writes text at `offset` (room assumed) and returns the number of bytes written. */
function writeText(buf: Buffer, offset: number, s: string): number {
  if (!hasEscapes(s)) return buf.write(s, offset, 'utf8');
  return textBytes(s).copy(buf, offset);
}

/** shortstr: 1 length octet + text (readText: valid UTF-8, other bytes kept as they are). */
export function readShortstr(buf: Buffer, offset: number): string {
  if (offset >= buf.length) throw truncated('shortstr');
  const end = offset + 1 + buf[offset];
  if (end > buf.length) throw truncated('shortstr');
  return readText(buf, offset + 1, end);
}

/**
 * A shortstr that must be valid UTF-8: names and tags in methods without content. RabbitMQ refuses anything
 * else with 501 and this text, closing the connection; in content-bearing methods (basic.publish's exchange
 * and routing key) and in properties it keeps the bytes, as readShortstr does.
 */
export function readShortstrUtf8(buf: Buffer, offset: number): string {
  if (offset >= buf.length) throw truncated('shortstr');
  const end = offset + 1 + buf[offset];
  if (end > buf.length) throw truncated('shortstr');
  for (let i = offset + 1; i < end; i++) {
    if (buf[i] < 0x80) continue;
    if (!isUtf8(buf.subarray(offset + 1, end)))
      throw new ProtocolError(ReplyCode.FRAME_ERROR, 'Malformed UTF-8 in shortstr');
    return buf.toString('utf8', offset + 1, end);
  }
  return buf.toString('latin1', offset + 1, end);
}

/** longstr: uint32 length + text (readText). */
export function readLongstr(buf: Buffer, offset: number): string {
  if (offset + 4 > buf.length) throw truncated('longstr');
  const end = offset + 4 + readU32(buf, offset);
  if (end > buf.length) throw truncated('longstr');
  return readText(buf, offset + 4, end);
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
    const n = textByteLength(s);
    if (n > 255) throw new RangeError(`shortstr of ${n} bytes exceeds 255: ${s.slice(0, 40)}…`);
  }
  const n = writeText(buf, offset + 1, s);
  buf[offset] = n;
  return offset + 1 + n;
}

export function writeLongstr(buf: Buffer, offset: number, v: string | Buffer): number {
  const n = typeof v === 'string' ? writeText(buf, offset + 4, v) : v.copy(buf, offset + 4);
  writeU32(buf, offset, n);
  return offset + 4 + n;
}
