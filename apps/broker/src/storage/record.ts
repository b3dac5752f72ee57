import { crc32 } from 'node:zlib';
import { Message } from '../message';

/**
 * One message as stored in a segment file (all integers big-endian):
 *
 *   0      4      8     9     10         18
 *   +------+------+-----+-----+----------+-------------+--------------+-----------+-----------+
 *   | len  | crc  |flags| pri | expiresAt| exchange    | routing key  | props     | body      |
 *   | u32  | u32  | u8  | u8  | f64 (ms) | u8 + bytes  | u8 + bytes   | u32+bytes | u32+bytes |
 *   +------+------+-----+-----+----------+-------------+--------------+-----------+-----------+
 *
 * `len` counts the bytes after itself; `crc` is CRC-32 of everything after the crc field. A record whose length
 * runs past the end of the file, or whose checksum does not match, is a torn write: recovery stops reading the
 * segment there. `props` are the content-header property bytes exactly as the publisher sent them.
 */
export const RECORD_HEADER = 8;
export const FLAG_PERSISTENT = 1;

export interface StoredMessage {
  message: Message;
  persistent: boolean;
  priority: number;
  expiresAt: number;
  /** Bytes the record takes in the segment, header included. */
  length: number;
}

export function recordSize(message: Message): number {
  return (
    RECORD_HEADER + 10 + 1 + Buffer.byteLength(message.exchange) + 1 + Buffer.byteLength(message.routingKey) +
    4 + message.rawProperties.length + 4 + message.body.length
  );
}

/** Encodes a record into `out` at `offset`; returns the offset after it. `out` must have recordSize() bytes. */
export function writeRecord(out: Buffer, offset: number, message: Message, expiresAt: number): number {
  const start = offset;
  offset += RECORD_HEADER;
  offset = out.writeUInt8(message.persistent ? FLAG_PERSISTENT : 0, offset);
  offset = out.writeUInt8(Math.min(message.priority, 255), offset);
  offset = out.writeDoubleBE(expiresAt, offset);
  offset = writeShort(out, offset, message.exchange);
  offset = writeShort(out, offset, message.routingKey);
  offset = out.writeUInt32BE(message.rawProperties.length, offset);
  offset += message.rawProperties.copy(out, offset);
  offset = out.writeUInt32BE(message.body.length, offset);
  offset += message.body.copy(out, offset);
  out.writeUInt32BE(offset - start - 4, start);
  out.writeUInt32BE(crc32(out.subarray(start + RECORD_HEADER, offset)), start + 4);
  return offset;
}

function writeShort(out: Buffer, offset: number, value: string): number {
  const length = out.write(value, offset + 1, 'utf8');
  out.writeUInt8(length, offset);
  return offset + 1 + length;
}

export type ReadResult = StoredMessage | 'incomplete' | 'corrupt';

/**
 * Decodes the record at `offset` of `buf`. 'incomplete' means the buffer ends inside the record (read more, or
 * a torn tail at the end of a file); 'corrupt' means the bytes are not a valid record.
 */
export function readRecord(buf: Buffer, offset: number): ReadResult {
  if (offset + RECORD_HEADER > buf.length) return 'incomplete';
  const length = buf.readUInt32BE(offset);
  if (length < RECORD_HEADER - 4 + 10 + 10) return 'corrupt';
  const end = offset + 4 + length;
  if (end > buf.length) return 'incomplete';
  if (crc32(buf.subarray(offset + RECORD_HEADER, end)) !== buf.readUInt32BE(offset + 4)) return 'corrupt';
  try {
    let p = offset + RECORD_HEADER;
    const flags = buf.readUInt8(p++);
    const priority = buf.readUInt8(p++);
    const expiresAt = buf.readDoubleBE(p);
    p += 8;
    const exchangeLength = buf.readUInt8(p++);
    const exchange = buf.toString('utf8', p, (p += exchangeLength));
    const keyLength = buf.readUInt8(p++);
    const routingKey = buf.toString('utf8', p, (p += keyLength));
    const propsLength = buf.readUInt32BE(p);
    p += 4;
    const props = Buffer.from(buf.subarray(p, (p += propsLength)));
    const bodyLength = buf.readUInt32BE(p);
    p += 4;
    if (p + bodyLength !== end) return 'corrupt';
    const body = Buffer.from(buf.subarray(p, end));
    return {
      message: new Message(exchange, routingKey, props, body),
      persistent: (flags & FLAG_PERSISTENT) !== 0,
      priority,
      expiresAt,
      length: end - offset,
    };
  } catch {
    return 'corrupt';
  }
}
