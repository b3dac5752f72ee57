// Content header frames and basic's properties.
//
// Content header payload:
//   class-id (short) | weight (short, always 0) | body-size (longlong) | property flags | property list
// Property flags: a 16-bit word; bit 15 flags the first property, bit 14 the second, and so on. The spec lets
// bit 0 announce another flags word, but 0-9-1 defines only 14 properties and RabbitMQ ignores the bit (the
// list follows the first word in any case), so we do too.
// Property list: the values of the flagged properties, in order, each in its domain's encoding; bits would be
// carried by the flag alone (basic has none). It must end exactly where the content header does.
//
// basic's properties, by flag bit: 15 content-type, 14 content-encoding, 13 headers, 12 delivery-mode,
// 11 priority, 10 correlation-id, 9 reply-to, 8 expiration, 7 message-id, 6 timestamp, 5 type, 4 user-id,
// 3 app-id, 2 cluster-id (the spec's "reserved").

import { ProtocolError } from './errors';
import {
  readShortstr,
  readU16,
  readU32,
  readU64,
  readU64Exact,
  shortstrMaxSize,
  truncated,
  writeShortstr,
  writeU16,
  writeU64,
  writeU8,
} from './codec';
import { decodeFieldTable, encodeFieldTableInto, fieldTableSize, type FieldTable } from './field-table';
import { ReplyCode } from './generated/constants';

export interface BasicProperties {
  contentType?: string;
  contentEncoding?: string;
  headers?: FieldTable;
  deliveryMode?: number;
  priority?: number;
  correlationId?: string;
  replyTo?: string;
  expiration?: string;
  messageId?: string;
  /** Seconds since the epoch (a bigint when beyond 2^53, so that any value re-encodes as it came). */
  timestamp?: number | bigint;
  type?: string;
  userId?: string;
  appId?: string;
  clusterId?: string;
}

export interface ContentHeader {
  classId: number;
  weight: number;
  bodySize: number;
  /** Property flags + property list, exactly as received (a subarray of the payload). */
  properties: Buffer;
}

export const FLAG_CONTENT_TYPE = 1 << 15;
export const FLAG_CONTENT_ENCODING = 1 << 14;
export const FLAG_HEADERS = 1 << 13;
export const FLAG_DELIVERY_MODE = 1 << 12;
export const FLAG_PRIORITY = 1 << 11;
export const FLAG_CORRELATION_ID = 1 << 10;
export const FLAG_REPLY_TO = 1 << 9;
export const FLAG_EXPIRATION = 1 << 8;
export const FLAG_MESSAGE_ID = 1 << 7;
export const FLAG_TIMESTAMP = 1 << 6;
export const FLAG_TYPE = 1 << 5;
export const FLAG_USER_ID = 1 << 4;
export const FLAG_APP_ID = 1 << 3;
export const FLAG_CLUSTER_ID = 1 << 2;

/** Splits a content header payload; throws ProtocolError 502 if it is shorter than 14 bytes. */
export function decodeContentHeader(payload: Buffer): ContentHeader {
  if (payload.length < 14) {
    throw new ProtocolError(ReplyCode.SYNTAX_ERROR, `content header of ${payload.length} bytes is truncated`);
  }
  return {
    classId: readU16(payload, 0),
    weight: readU16(payload, 2),
    bodySize: readU64(payload, 4),
    properties: payload.subarray(12),
  };
}

/**
 * Decodes property flags + property list. Only flagged properties are set on the result. Throws ProtocolError
 * 502 when the list is shorter or longer than its flags say.
 */
export function decodeBasicProperties(raw: Buffer): BasicProperties {
  try {
    return decodeProperties(raw);
  } catch (err) {
    if (err instanceof ProtocolError && err.code === ReplyCode.SYNTAX_ERROR) {
      throw new ProtocolError(ReplyCode.SYNTAX_ERROR, `malformed basic properties: ${err.message}`);
    }
    throw err;
  }
}

function decodeProperties(raw: Buffer): BasicProperties {
  if (raw.length < 2) throw truncated('property flags');
  const flags = readU16(raw, 0);
  let o = 2;
  const props: BasicProperties = {};
  if (flags & FLAG_CONTENT_TYPE) {
    props.contentType = readShortstr(raw, o);
    o += 1 + raw[o];
  }
  if (flags & FLAG_CONTENT_ENCODING) {
    props.contentEncoding = readShortstr(raw, o);
    o += 1 + raw[o];
  }
  if (flags & FLAG_HEADERS) {
    const { table, end } = decodeFieldTable(raw, o);
    props.headers = table;
    o = end;
  }
  if (flags & FLAG_DELIVERY_MODE) {
    if (o + 1 > raw.length) throw truncated('delivery-mode');
    props.deliveryMode = raw[o++];
  }
  if (flags & FLAG_PRIORITY) {
    if (o + 1 > raw.length) throw truncated('priority');
    props.priority = raw[o++];
  }
  if (flags & FLAG_CORRELATION_ID) {
    props.correlationId = readShortstr(raw, o);
    o += 1 + raw[o];
  }
  if (flags & FLAG_REPLY_TO) {
    props.replyTo = readShortstr(raw, o);
    o += 1 + raw[o];
  }
  if (flags & FLAG_EXPIRATION) {
    props.expiration = readShortstr(raw, o);
    o += 1 + raw[o];
  }
  if (flags & FLAG_MESSAGE_ID) {
    props.messageId = readShortstr(raw, o);
    o += 1 + raw[o];
  }
  if (flags & FLAG_TIMESTAMP) {
    if (o + 8 > raw.length) throw truncated('timestamp');
    props.timestamp = readU64Exact(raw, o);
    o += 8;
  }
  if (flags & FLAG_TYPE) {
    props.type = readShortstr(raw, o);
    o += 1 + raw[o];
  }
  if (flags & FLAG_USER_ID) {
    props.userId = readShortstr(raw, o);
    o += 1 + raw[o];
  }
  if (flags & FLAG_APP_ID) {
    props.appId = readShortstr(raw, o);
    o += 1 + raw[o];
  }
  if (flags & FLAG_CLUSTER_ID) {
    props.clusterId = readShortstr(raw, o);
    o += 1 + raw[o];
  }
  if (o !== raw.length)
    throw new ProtocolError(ReplyCode.SYNTAX_ERROR, `${raw.length - o} bytes after the property list`);
  return props;
}

// The size of each property's encoding, by flag bit (15 = content-type … 2 = cluster-id): a shortstr (-1), a
// table (-4) or that many fixed bytes.
const SIZE_BY_BIT: readonly number[] = [0, 0, -1, -1, -1, -1, 8, -1, -1, -1, -1, 1, 1, -4, -1, -1];

/**
 * True when the property list is exactly as long as its flags say, checked by lengths alone (nothing is
 * decoded, so it is cheap enough for every publish). RabbitMQ refuses a message whose properties do not parse,
 * whatever they hold; a broker that decodes lazily must still check this much up front.
 */
export function propertiesWellFormed(raw: Buffer): boolean {
  if (raw.length < 2) return false;
  const flags = readU16(raw, 0);
  let o = 2;
  for (let bit = 15; bit >= 2; bit--) {
    if ((flags & (1 << bit)) === 0) continue;
    const size = SIZE_BY_BIT[bit];
    if (size === -1) o += o < raw.length ? 1 + raw[o] : 1;
    else if (size === -4) o += o + 4 <= raw.length ? 4 + readU32(raw, o) : 4;
    else o += size;
    if (o > raw.length) return false;
  }
  return o === raw.length;
}

/** Upper bound of the encoded size of property flags + property list. */
export function basicPropertiesMaxSize(p: BasicProperties): number {
  let n = 2;
  if (p.contentType != null) n += shortstrMaxSize(p.contentType);
  if (p.contentEncoding != null) n += shortstrMaxSize(p.contentEncoding);
  if (p.headers != null) n += fieldTableSize(p.headers);
  if (p.deliveryMode != null) n += 1;
  if (p.priority != null) n += 1;
  if (p.correlationId != null) n += shortstrMaxSize(p.correlationId);
  if (p.replyTo != null) n += shortstrMaxSize(p.replyTo);
  if (p.expiration != null) n += shortstrMaxSize(p.expiration);
  if (p.messageId != null) n += shortstrMaxSize(p.messageId);
  if (p.timestamp != null) n += 8;
  if (p.type != null) n += shortstrMaxSize(p.type);
  if (p.userId != null) n += shortstrMaxSize(p.userId);
  if (p.appId != null) n += shortstrMaxSize(p.appId);
  if (p.clusterId != null) n += shortstrMaxSize(p.clusterId);
  return n;
}

/**
 * Writes property flags + property list at `offset` (room for basicPropertiesMaxSize(props) assumed) and
 * returns the offset after them. Properties that are undefined (or null) are absent; all others are written,
 * empty strings and zeros included.
 */
export function encodeBasicPropertiesInto(buf: Buffer, offset: number, p: BasicProperties): number {
  let flags = 0;
  let o = offset + 2;
  if (p.contentType != null) {
    flags |= FLAG_CONTENT_TYPE;
    o = writeShortstr(buf, o, p.contentType);
  }
  if (p.contentEncoding != null) {
    flags |= FLAG_CONTENT_ENCODING;
    o = writeShortstr(buf, o, p.contentEncoding);
  }
  if (p.headers != null) {
    flags |= FLAG_HEADERS;
    o = encodeFieldTableInto(buf, o, p.headers);
  }
  if (p.deliveryMode != null) {
    flags |= FLAG_DELIVERY_MODE;
    o = writeU8(buf, o, p.deliveryMode);
  }
  if (p.priority != null) {
    flags |= FLAG_PRIORITY;
    o = writeU8(buf, o, p.priority);
  }
  if (p.correlationId != null) {
    flags |= FLAG_CORRELATION_ID;
    o = writeShortstr(buf, o, p.correlationId);
  }
  if (p.replyTo != null) {
    flags |= FLAG_REPLY_TO;
    o = writeShortstr(buf, o, p.replyTo);
  }
  if (p.expiration != null) {
    flags |= FLAG_EXPIRATION;
    o = writeShortstr(buf, o, p.expiration);
  }
  if (p.messageId != null) {
    flags |= FLAG_MESSAGE_ID;
    o = writeShortstr(buf, o, p.messageId);
  }
  if (p.timestamp != null) {
    flags |= FLAG_TIMESTAMP;
    o = writeU64(buf, o, p.timestamp);
  }
  if (p.type != null) {
    flags |= FLAG_TYPE;
    o = writeShortstr(buf, o, p.type);
  }
  if (p.userId != null) {
    flags |= FLAG_USER_ID;
    o = writeShortstr(buf, o, p.userId);
  }
  if (p.appId != null) {
    flags |= FLAG_APP_ID;
    o = writeShortstr(buf, o, p.appId);
  }
  if (p.clusterId != null) {
    flags |= FLAG_CLUSTER_ID;
    o = writeShortstr(buf, o, p.clusterId);
  }
  writeU16(buf, offset, flags);
  return o;
}

/** Property flags + property list: the inverse of decodeBasicProperties. */
export function encodeBasicProperties(props: BasicProperties): Buffer {
  const max = basicPropertiesMaxSize(props);
  const buf = Buffer.allocUnsafe(max);
  const end = encodeBasicPropertiesInto(buf, 0, props);
  return end === max ? buf : Buffer.from(buf.subarray(0, end));
}
