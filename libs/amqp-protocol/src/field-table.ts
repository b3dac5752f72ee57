// AMQP field tables, typed: every value keeps its wire type, so a table decodes and re-encodes to the same
// bytes and a broker can check argument types the way RabbitMQ does.
//
// Table    = uint32 byte length, then entries until that length is used up.
// Entry    = name (shortstr: 1 length octet + UTF-8, at most 255 bytes), 1 type octet, value.
// Array    = uint32 byte length, then values (type octet + value each, no names).
// All numbers are big-endian. The value encodings, by type octet (RabbitMQ's and amqplib's reading of the
// 0-9-1 errata, which differs from the spec's own table for 's'):
//
//   't' boolean     1 octet, 0 = false, anything else true (written as 1)
//   'b' int8        1 octet, signed          'B' uint8    1 octet, unsigned
//   's' int16       2 octets, signed         'u' uint16   2 octets, unsigned
//   'I' int32       4 octets, signed         'i' uint32   4 octets, unsigned
//   'l' int64       8 octets, signed; a number within ±2^53, a bigint beyond
//   'f' float32     4 octets, IEEE 754       'd' float64  8 octets, IEEE 754
//   'D' decimal     1 octet scale ("places") + int32 digits; value = digits / 10^places
//   'T' timestamp   8 octets, unsigned seconds since the epoch; a number up to 2^53, a bigint beyond
//   'S' longstr     uint32 length + text (UTF-8; other bytes kept, see readText in codec.ts)
//   'x' byte array  uint32 length + raw bytes (decoded as a copy)
//   'A' array       uint32 byte length + values, as above
//   'F' table       a nested table, as above
//   'V' void        no value bytes
//
// Every table decodes and re-encodes to the same bytes, whatever the values, with two exceptions: a 't' octet
// other than 0 or 1 is true and written back as 1 (as RabbitMQ writes it), and a name repeated in one table
// keeps one entry, in the first one's place with the last one's value (a table is a Map). NaN floats keep
// their bit pattern.
//
// Tables and arrays nest at most MAX_FIELD_DEPTH levels: decoding (and everything that walks a decoded
// table) is recursive, and a frame can hold thousands of levels; deeper input is refused with 501.

import { ProtocolError } from './errors';
import {
  readI64Exact,
  readText,
  readU32,
  readU64Exact,
  textByteLength,
  truncated,
  writeI64,
  writeLongstr,
  writeShortstr,
  writeU64,
} from './codec';
import { ReplyCode } from './generated/constants';

/** How deep tables and arrays may nest (a table in a table in a method's arguments is depth 2). */
export const MAX_FIELD_DEPTH = 128;

export type FieldValue =
  | { type: 't'; value: boolean }
  | { type: 'b' | 'B' | 's' | 'u' | 'I' | 'i'; value: number }
  | { type: 'l' | 'T'; value: number | bigint }
  /** `nan`: the exact bytes of a NaN other than the canonical one, whose payload a JS number does not keep. */
  | { type: 'f' | 'd'; value: number; nan?: Buffer }
  | { type: 'D'; value: { places: number; digits: number } }
  | { type: 'S'; value: string }
  | { type: 'x'; value: Buffer }
  | { type: 'A'; value: FieldValue[] }
  | { type: 'F'; value: FieldTable }
  | { type: 'V'; value: null };
export type FieldTable = Map<string, FieldValue>;
export type FieldType = FieldValue['type'];

/** The NaN bit patterns Buffer#writeFloatBE / writeDoubleBE produce; any other NaN keeps its bytes (`nan`). */
const CANONICAL_NAN_F = 0x7fc0_0000;
const CANONICAL_NAN_D_HI = 0x7ff8_0000;

/** Bytes of a value of each fixed-size type (after the type octet). */
const FIXED: Readonly<Record<string, number>> = {
  t: 1,
  b: 1,
  B: 1,
  s: 2,
  u: 2,
  I: 4,
  i: 4,
  l: 8,
  f: 4,
  d: 8,
  D: 5,
  T: 8,
  V: 0,
};

// ---------------------------------------------------------------------------------------------------------
// decoding

/** Decodes the table whose uint32 length prefix is at `offset`; `end` is the offset after the table. */
export function decodeFieldTable(buf: Buffer, offset: number): { table: FieldTable; end: number } {
  if (offset + 4 > buf.length) throw truncated('field table');
  const end = offset + 4 + readU32(buf, offset);
  if (end > buf.length) throw truncated('field table');
  return { table: readEntries(buf, offset + 4, end, 1), end };
}

function tooDeep(): ProtocolError {
  return new ProtocolError(
    ReplyCode.FRAME_ERROR,
    `field tables and arrays nested deeper than ${MAX_FIELD_DEPTH} levels`,
  );
}

function readEntries(buf: Buffer, start: number, end: number, depth: number): FieldTable {
  if (depth > MAX_FIELD_DEPTH) throw tooDeep();
  const table: FieldTable = new Map();
  let o = start;
  while (o < end) {
    const nameEnd = o + 1 + buf[o];
    if (nameEnd >= end) throw truncated('field table');
    const name = readText(buf, o + 1, nameEnd);
    const value = readValue(buf, nameEnd, end, depth);
    table.set(name, value);
    o = valueEnd;
  }
  return table;
}

/** Where the last readValue call ended (avoids allocating a result pair per value). */
let valueEnd = 0;

function readValue(buf: Buffer, o: number, limit: number, depth: number): FieldValue {
  if (o >= limit) throw truncated('field value');
  const type = String.fromCharCode(buf[o]);
  o += 1;
  const fixed = FIXED[type];
  if (fixed !== undefined) {
    if (o + fixed > limit) throw truncated(`'${type}' field value`);
    valueEnd = o + fixed;
  }
  switch (type) {
    case 't':
      return { type: 't', value: buf[o] !== 0 };
    case 'b':
      return { type: 'b', value: buf.readInt8(o) };
    case 'B':
      return { type: 'B', value: buf[o] };
    case 's':
      return { type: 's', value: buf.readInt16BE(o) };
    case 'u':
      return { type: 'u', value: buf.readUInt16BE(o) };
    case 'I':
      return { type: 'I', value: buf.readInt32BE(o) };
    case 'i':
      return { type: 'i', value: buf.readUInt32BE(o) };
    case 'l':
      return { type: 'l', value: readI64Exact(buf, o) };
    case 'f': {
      const value = buf.readFloatBE(o);
      return Number.isNaN(value) && buf.readUInt32BE(o) !== CANONICAL_NAN_F
        ? { type: 'f', value, nan: Buffer.from(buf.subarray(o, o + 4)) }
        : { type: 'f', value };
    }
    case 'd': {
      const value = buf.readDoubleBE(o);
      return Number.isNaN(value) && (buf.readUInt32BE(o) !== CANONICAL_NAN_D_HI || buf.readUInt32BE(o + 4) !== 0)
        ? { type: 'd', value, nan: Buffer.from(buf.subarray(o, o + 8)) }
        : { type: 'd', value };
    }
    case 'D':
      return { type: 'D', value: { places: buf[o], digits: buf.readInt32BE(o + 1) } };
    case 'T':
      return { type: 'T', value: readU64Exact(buf, o) };
    case 'V':
      return { type: 'V', value: null };
    case 'S':
    case 'x':
    case 'A':
    case 'F': {
      if (o + 4 > limit) throw truncated(`'${type}' field value`);
      const start = o + 4;
      const end = start + readU32(buf, o);
      if (end > limit) throw truncated(`'${type}' field value`);
      let v: FieldValue;
      if (type === 'S') v = { type: 'S', value: readText(buf, start, end) };
      else if (type === 'x') v = { type: 'x', value: Buffer.from(buf.subarray(start, end)) };
      else if (type === 'F') v = { type: 'F', value: readEntries(buf, start, end, depth + 1) };
      else v = { type: 'A', value: readArray(buf, start, end, depth + 1) };
      valueEnd = end;
      return v;
    }
    default:
      throw new ProtocolError(
        ReplyCode.SYNTAX_ERROR,
        `unknown field type 0x${buf[o - 1].toString(16).padStart(2, '0')}`,
      );
  }
}

function readArray(buf: Buffer, start: number, end: number, depth: number): FieldValue[] {
  if (depth > MAX_FIELD_DEPTH) throw tooDeep();
  const values: FieldValue[] = [];
  let o = start;
  while (o < end) {
    values.push(readValue(buf, o, end, depth));
    o = valueEnd;
  }
  return values;
}

// ---------------------------------------------------------------------------------------------------------
// encoding

/** Encoded size of a table, length prefix included. */
export function fieldTableSize(table: FieldTable): number {
  let n = 4;
  for (const [name, value] of table) n += 1 + textByteLength(name) + valueSize(value);
  return n;
}

/** Encoded size of a value, type octet included. */
function valueSize(v: FieldValue): number {
  switch (v.type) {
    case 'S':
      return 5 + textByteLength(v.value);
    case 'x':
      return 5 + v.value.length;
    case 'F':
      return 1 + fieldTableSize(v.value);
    case 'A': {
      let n = 5;
      for (const item of v.value) n += valueSize(item);
      return n;
    }
    default: {
      const fixed = FIXED[v.type];
      if (fixed === undefined) throw new TypeError(`unknown field type '${String((v as { type: unknown }).type)}'`);
      return 1 + fixed;
    }
  }
}

/** Encodes a table with its length prefix. */
export function encodeFieldTable(table: FieldTable): Buffer {
  const buf = Buffer.allocUnsafe(fieldTableSize(table));
  encodeFieldTableInto(buf, 0, table);
  return buf;
}

/**
 * Writes a table (length prefix included; undefined = empty table) at `offset` and returns the offset after
 * it. The caller guarantees fieldTableSize(table) bytes of room. Out-of-range numbers throw RangeError.
 */
export function encodeFieldTableInto(buf: Buffer, offset: number, table: FieldTable | undefined): number {
  let o = offset + 4;
  if (table !== undefined) {
    for (const [name, value] of table) o = writeValue(buf, writeShortstr(buf, o, name), value);
  }
  buf.writeUInt32BE(o - offset - 4, offset);
  return o;
}

function writeValue(buf: Buffer, o: number, v: FieldValue): number {
  o = buf.writeUInt8(v.type.charCodeAt(0), o);
  switch (v.type) {
    case 't':
      return buf.writeUInt8(v.value ? 1 : 0, o);
    case 'b':
      return buf.writeInt8(v.value, o);
    case 'B':
      return buf.writeUInt8(v.value, o);
    case 's':
      return buf.writeInt16BE(v.value, o);
    case 'u':
      return buf.writeUInt16BE(v.value, o);
    case 'I':
      return buf.writeInt32BE(v.value, o);
    case 'i':
      return buf.writeUInt32BE(v.value, o);
    case 'l':
      return writeI64(buf, o, v.value);
    case 'f':
      return v.nan && Number.isNaN(v.value) ? o + v.nan.copy(buf, o, 0, 4) : buf.writeFloatBE(v.value, o);
    case 'd':
      return v.nan && Number.isNaN(v.value) ? o + v.nan.copy(buf, o, 0, 8) : buf.writeDoubleBE(v.value, o);
    case 'D':
      return buf.writeInt32BE(v.value.digits, buf.writeUInt8(v.value.places, o));
    case 'T':
      return writeU64(buf, o, v.value);
    case 'V':
      return o;
    case 'S':
      return writeLongstr(buf, o, v.value);
    case 'x':
      buf.writeUInt32BE(v.value.length, o);
      return o + 4 + v.value.copy(buf, o + 4);
    case 'F':
      return encodeFieldTableInto(buf, o, v.value);
    case 'A': {
      let end = o + 4;
      for (const item of v.value) end = writeValue(buf, end, item);
      buf.writeUInt32BE(end - o - 4, o);
      return end;
    }
    default:
      throw new TypeError(`unknown field type '${String((v as { type: unknown }).type)}'`);
  }
}

// ---------------------------------------------------------------------------------------------------------
// plain JavaScript values

/** The value without its type: numbers, booleans, strings, Buffers, {places, digits}, arrays, objects, null. */
export function toPlain(value: FieldValue): unknown {
  switch (value.type) {
    case 'A':
      return value.value.map(toPlain);
    case 'F':
      return tableToPlain(value.value);
    case 'D':
      return { places: value.value.places, digits: value.value.digits };
    default:
      return value.value;
  }
}

export function tableToPlain(table: FieldTable): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of table) {
    // '__proto__' must become an own property, not the object's prototype
    if (name === '__proto__')
      Object.defineProperty(out, name, { value: toPlain(value), enumerable: true, writable: true, configurable: true });
    else out[name] = toPlain(value);
  }
  return out;
}

// Type hints accepted as {'!': hint, value}: the type letters, and the names amqplib uses.
const HINTS: Readonly<Record<string, FieldType>> = {
  bool: 't',
  boolean: 't',
  int8: 'b',
  byte: 'b',
  uint8: 'B',
  unsignedbyte: 'B',
  int16: 's',
  short: 's',
  uint16: 'u',
  unsignedshort: 'u',
  int32: 'I',
  int: 'I',
  uint32: 'i',
  unsignedint: 'i',
  int64: 'l',
  long: 'l',
  float: 'f',
  float32: 'f',
  double: 'd',
  float64: 'd',
  decimal: 'D',
  timestamp: 'T',
  string: 'S',
  longstr: 'S',
  binary: 'x',
  bytes: 'x',
  array: 'A',
  table: 'F',
  void: 'V',
  t: 't',
  b: 'b',
  B: 'B',
  s: 's',
  u: 'u',
  I: 'I',
  i: 'i',
  l: 'l',
  f: 'f',
  d: 'd',
  D: 'D',
  T: 'T',
  S: 'S',
  x: 'x',
  A: 'A',
  F: 'F',
  V: 'V',
};

/**
 * Infers a wire type the way client libraries do: string -> S, boolean -> t, integer in int32 range -> I,
 * other safe integer or bigint -> l, other number -> d, null/undefined -> V, Buffer -> x, array -> A,
 * Date -> T (whole seconds), {'!': type, value} -> that type ('I', 'timestamp', 'uint8', ... as amqplib
 * accepts them; any other object, one with a '!' key included, is a table), other object -> F.
 */
export function fromPlain(v: unknown): FieldValue {
  switch (typeof v) {
    case 'string':
      return { type: 'S', value: v };
    case 'boolean':
      return { type: 't', value: v };
    case 'number':
      if (Number.isInteger(v) && v >= -0x8000_0000 && v <= 0x7fff_ffff) return { type: 'I', value: v };
      return Number.isSafeInteger(v) ? { type: 'l', value: v } : { type: 'd', value: v };
    case 'bigint':
      return { type: 'l', value: v };
    case 'undefined':
      return { type: 'V', value: null };
    case 'object': {
      if (v === null) return { type: 'V', value: null };
      if (Buffer.isBuffer(v)) return { type: 'x', value: v };
      if (Array.isArray(v)) return { type: 'A', value: v.map(fromPlain) };
      if (v instanceof Date) return { type: 'T', value: Math.floor(v.getTime() / 1000) };
      const hint = typeHint(v);
      if (hint) return fromHint(hint, (v as { value?: unknown }).value);
      return { type: 'F', value: tableFromPlain(v as Record<string, unknown>) };
    }
    default:
      throw new TypeError(`cannot encode a ${typeof v} in a field table`);
  }
}

// A hint is an object with exactly the keys '!' (a known type) and 'value'; anything else is a table, so a
// table that merely has a '!' key round-trips.
function typeHint(v: object): FieldType | undefined {
  const keys = Object.keys(v);
  if (keys.length !== 2 || !keys.includes('!') || !keys.includes('value')) return undefined;
  const hint = (v as { '!': unknown })['!'];
  return typeof hint === 'string' && Object.hasOwn(HINTS, hint) ? HINTS[hint] : undefined;
}

function fromHint(type: FieldType, value: unknown): FieldValue {
  switch (type) {
    case 't':
      return { type, value: Boolean(value) };
    case 'S':
      return { type, value: String(value) };
    case 'V':
      return { type, value: null };
    case 'x':
      return { type, value: Buffer.isBuffer(value) ? value : Buffer.from(String(value)) };
    case 'A':
      return { type, value: (value as unknown[]).map(fromPlain) };
    case 'F':
      return { type, value: tableFromPlain(value as Record<string, unknown>) };
    case 'D': {
      const d = value as { places: number; digits: number };
      return { type, value: { places: d.places, digits: d.digits } };
    }
    case 'T':
      if (value instanceof Date) return { type, value: Math.floor(value.getTime() / 1000) };
      return { type, value: typeof value === 'bigint' ? value : Number(value) };
    case 'l':
      return { type, value: typeof value === 'bigint' ? value : Number(value) };
    default:
      return { type, value: Number(value) };
  }
}

export function tableFromPlain(o: Record<string, unknown>): FieldTable {
  const table: FieldTable = new Map();
  for (const name of Object.keys(o)) table.set(name, fromPlain(o[name]));
  return table;
}

// ---------------------------------------------------------------------------------------------------------
// equality

/** Deep, type-sensitive equality ('I' 1 differs from 'l' 1). NaN equals NaN; for floats 0 differs from -0. */
export function fieldEquals(a: FieldValue, b: FieldValue): boolean {
  if (a.type !== b.type) return false;
  switch (a.type) {
    case 'f':
    case 'd':
      return Object.is(a.value, b.value);
    case 'D':
      return (
        a.value.places === (b.value as typeof a.value).places && a.value.digits === (b.value as typeof a.value).digits
      );
    case 'x':
      return a.value.equals(b.value as Buffer);
    case 'A': {
      const other = b.value as FieldValue[];
      return a.value.length === other.length && a.value.every((item, i) => fieldEquals(item, other[i]));
    }
    case 'F':
      return tableEquals(a.value, b.value as FieldTable);
    default:
      return a.value === b.value;
  }
}

/** Same names with equal values, in any order; undefined equals the empty table. */
export function tableEquals(a: FieldTable | undefined, b: FieldTable | undefined): boolean {
  const x = a ?? EMPTY;
  const y = b ?? EMPTY;
  if (x.size !== y.size) return false;
  for (const [name, value] of x) {
    const other = y.get(name);
    if (other === undefined || !fieldEquals(value, other)) return false;
  }
  return true;
}

const EMPTY: FieldTable = new Map();
