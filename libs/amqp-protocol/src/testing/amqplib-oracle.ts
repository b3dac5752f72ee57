// amqplib's codec, loaded from node_modules, as an independent implementation to test against.
// (Its package exports hide lib/, so the files are loaded by path.)

import { createRequire } from 'node:module';
import path from 'node:path';
import type { FieldTable, FieldValue } from '../field-table';

const load = createRequire(__filename);
const root = path.dirname(load.resolve('amqplib'));

export interface AmqplibDefs {
  /** A whole method frame. */
  encodeMethod(id: number, channel: number, fields: Record<string, unknown>): Buffer;
  /** A whole content header frame. */
  encodeProperties(classId: number, channel: number, size: number, fields: Record<string, unknown>): Buffer;
  /** Method arguments (payload after the ids), or properties (flags + list) for a class id. */
  decode(id: number, buf: Buffer): Record<string, unknown>;
  info(id: number): { name: string; args: { name: string; type: string }[] };
}

export interface AmqplibCodec {
  encodeTable(buf: Buffer, value: Record<string, unknown>, offset: number): number;
  decodeFields(buf: Buffer): Record<string, unknown>;
}

export const amqplibDefs = load(path.join(root, 'lib/defs.js')) as AmqplibDefs;
export const amqplibCodec = load(path.join(root, 'lib/codec.js')) as AmqplibCodec;

/** amqplib's field names for a method, in wire order (its names differ for reserved fields, no-wait...). */
export function amqplibFieldNames(methodId: number): string[] {
  return amqplibDefs.info(methodId).args.map((a) => a.name);
}

/** A table as amqplib encodes it (with its own choice of types), length prefix included. */
export function amqplibEncodeTable(value: Record<string, unknown>): Buffer {
  const buf = Buffer.alloc(65536);
  const n = amqplibCodec.encodeTable(buf, value, 0);
  return Buffer.from(buf.subarray(0, n));
}

/** amqplib decodes a table entry named '__proto__' into the object's prototype; such tables can't be compared. */
export function amqplibCanDecode(value: unknown): boolean {
  if (value instanceof Map) return [...value].every(([k, v]) => k !== '__proto__' && amqplibCanDecode(v));
  if (Array.isArray(value)) return value.every(amqplibCanDecode);
  if (value !== null && typeof value === 'object' && 'type' in value && 'value' in value) {
    return amqplibCanDecode((value as { value: unknown }).value);
  }
  return true;
}

/**
 * A table amqplib round-trips as plain values: no '__proto__' names, 'D' and 'T' (which it wraps) replaced by
 * void, and numbers it cannot type (non-finite, -0, magnitudes from 2^50 on) replaced by 0.
 */
export function amqplibFriendly(table: FieldTable): FieldTable {
  const out: FieldTable = new Map();
  for (const [name, value] of table) if (name !== '__proto__') out.set(name, friendlyValue(value));
  return out;
}

function friendlyValue(v: FieldValue): FieldValue {
  switch (v.type) {
    case 'D':
    case 'T':
      return { type: 'V', value: null };
    case 'A':
      return { type: 'A', value: v.value.map(friendlyValue) };
    case 'F':
      return { type: 'F', value: amqplibFriendly(v.value) };
    case 'f':
    case 'd':
      return Number.isFinite(v.value) && Math.abs(v.value) < 2 ** 50 && !Object.is(v.value, -0)
        ? v
        : { type: v.type, value: 0 };
    case 'l':
      return typeof v.value === 'number' && Math.abs(v.value) < 2 ** 50 ? v : { type: 'l', value: 0 };
    default:
      return v;
  }
}
