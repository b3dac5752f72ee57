// amqplib's codec, loaded from node_modules, as an independent implementation to test against.
// (Its package exports hide lib/, so the files are loaded by path.)

import { createRequire } from 'node:module';
import path from 'node:path';

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
