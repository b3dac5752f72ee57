import { crc32 } from 'node:zlib';
import { Message } from '../message';

/**
 * One message as stored in a segment file (all integers big-endian):
 *
 *   0      4      8     9     10         18
 *   +------+------+-----+-----+----------+-------------+--------------+-----------+-----------+-------------+
 *   | len  | crc  |flags| pri | expiresAt| exchange    | routing key  | props     | body      | [bcc]       |
 *   | u32  | u32  | u8  | u8  | f64 (ms) | u8 + bytes  | u8 + bytes   | u32+bytes | u32+bytes | see below   |
 *   +------+------+-----+-----+----------+-------------+--------------+-----------+-----------+-------------+
 *
 * `len` counts the bytes after itself; `crc` is CRC-32 of everything after the crc field. A record whose length
 * runs past the end of the file, or whose checksum does not match, is a torn write: recovery stops reading the
 * segment there. `props` are the content-header property bytes exactly as the publisher sent them.
 *
 * Flags: bit 0 (FLAG_PERSISTENT) the message is persistent; bit 1 (FLAG_BCC) the record ends with the message's
 * BCC routing keys (Message.bcc: taken out of the headers at publish, still routing the message when it is
 * dead-lettered), as a u32 count then, per key, u32 length + UTF-8 bytes. Records without FLAG_BCC (all those
 * written before it existed) end with the body, and read as a message without BCC keys. Readers that only need
 * the body length (segment-log.ts scanRecord) never look past the body.
 */
export const RECORD_HEADER = 8;
export const FLAG_PERSISTENT = 1;
export const FLAG_BCC = 2;

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
    RECORD_HEADER +
    10 +
    1 +
    Buffer.byteLength(message.exchange) +
    1 +
    Buffer.byteLength(message.routingKey) +
    4 +
    message.rawProperties.length +
    4 +
    message.body.length +
    (hasBcc(message) ? bccSize(message.bcc as string[]) : 0)
  );
}

const hasBcc = (message: Message): boolean => message.bcc !== undefined && message.bcc.length > 0;

function bccSize(keys: string[]): number {
  let size = 4;
  for (const key of keys) size += 4 + Buffer.byteLength(key);
  return size;
}

/**
 * Encodes a record into `out` at `offset`; returns the offset after it. `out` must have recordSize() bytes.
 * `persistent` (recovered after a restart) is the message's delivery mode unless the store keeps everything
 * (a quorum queue).
 */
export function writeRecord(
  out: Buffer,
  offset: number,
  message: Message,
  expiresAt: number,
  persistent = message.persistent,
): number {
  const start = offset;
  offset += RECORD_HEADER;
  const bcc = hasBcc(message);
  offset = out.writeUInt8((persistent ? FLAG_PERSISTENT : 0) | (bcc ? FLAG_BCC : 0), offset);
  offset = out.writeUInt8(Math.min(message.priority, 255), offset);
  offset = out.writeDoubleBE(expiresAt, offset);
  offset = writeShort(out, offset, message.exchange);
  offset = writeShort(out, offset, message.routingKey);
  offset = out.writeUInt32BE(message.rawProperties.length, offset);
  offset += message.rawProperties.copy(out, offset);
  offset = out.writeUInt32BE(message.body.length, offset);
  offset += message.body.copy(out, offset);
  if (bcc) {
    const keys = message.bcc as string[];
    offset = out.writeUInt32BE(keys.length, offset);
    for (const key of keys) {
      const length = out.write(key, offset + 4, 'utf8');
      out.writeUInt32BE(length, offset);
      offset += 4 + length;
    }
  }
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
    const bodyEnd = p + bodyLength;
    if ((flags & FLAG_BCC) === 0 ? bodyEnd !== end : bodyEnd + 4 > end) return 'corrupt';
    const body = Buffer.from(buf.subarray(p, bodyEnd));
    const message = new Message(exchange, routingKey, props, body);
    if ((flags & FLAG_BCC) !== 0) {
      p = bodyEnd;
      const count = buf.readUInt32BE(p);
      p += 4;
      if (count > (end - p) / 4) return 'corrupt';
      const bcc: string[] = [];
      for (let i = 0; i < count; i++) {
        const length = buf.readUInt32BE(p);
        p += 4;
        if (p + length > end) return 'corrupt';
        bcc.push(buf.toString('utf8', p, (p += length)));
      }
      if (p !== end) return 'corrupt';
      message.bcc = bcc;
    }
    return {
      message,
      persistent: (flags & FLAG_PERSISTENT) !== 0,
      priority,
      expiresAt,
      length: end - offset,
    };
  } catch {
    return 'corrupt';
  }
}
