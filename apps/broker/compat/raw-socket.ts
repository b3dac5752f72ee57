// Frame-level scenarios: the raw client with channel 1 open, messages read frame by frame, and the few bytes
// the protocol library cannot write because they are malformed on purpose.

import * as P from '@warren/amqp-protocol';
import { RawClient, rawFrame, type Frame, type HandshakeOpts } from '../test/support/raw-client';
import type { Ctx } from './context';

/** Raw client after handshake with channel 1 open. */
export async function rawOpen(ctx: Ctx, tuneOk?: HandshakeOpts['tuneOk']): Promise<RawClient> {
  const r = await ctx.raw();
  const p = ctx.credentials;
  const res = await r.handshake({ user: p.user, pass: p.pass, vhost: p.vhost, tuneOk });
  if (!res.openOk) throw new Error(`raw handshake failed: ${JSON.stringify(res.close ?? res)}`);
  if (!(await r.openChannel(1))) throw new Error('raw channel.open failed');
  return r;
}

export interface RawMessage {
  method: Frame;
  header: Frame;
  bodyFrames: number[];
  body: Buffer;
}

/** Read a get-ok/deliver + header + bodies (get-empty resolves null). */
export async function rawReadMessage(r: RawClient, timeoutMs = 3000): Promise<RawMessage | null> {
  const method = await r.next(timeoutMs);
  if (!method || method.type !== P.FRAME_METHOD)
    throw new Error(`expected a method frame, got ${method && method.type}`);
  if (method.method?.id === P.BASIC_GET_EMPTY) return null;
  if (method.method?.id !== P.BASIC_GET_OK && method.method?.id !== P.BASIC_DELIVER) {
    throw new Error(`expected get-ok/deliver, got ${method.classId}.${method.methodId} ${JSON.stringify(method.args)}`);
  }
  const header = await r.next(timeoutMs);
  if (!header || header.type !== P.FRAME_HEADER) throw new Error('expected a content header frame');
  const size = P.decodeContentHeader(header.payload).bodySize;
  const parts: Buffer[] = [];
  let got = 0;
  const bodyFrames: number[] = [];
  while (got < size) {
    const b = await r.next(timeoutMs);
    if (!b || b.type !== P.FRAME_BODY) throw new Error('expected a body frame');
    parts.push(b.payload);
    bodyFrames.push(b.payload.length);
    got += b.payload.length;
  }
  return { method, header, bodyFrames, body: Buffer.concat(parts) };
}

/** A field value of an exact wire type (tables and arrays may hold plain values, typed as clients type them). */
export function typed(type: string, value: any): P.FieldValue {
  if (type === 'F') return { type, value: fieldTable(value) };
  if (type === 'A') return { type, value: (value as unknown[]).map(fieldValue) };
  return { type, value } as P.FieldValue;
}

const isFieldValue = (v: unknown): v is P.FieldValue =>
  !!v && typeof v === 'object' && Object.keys(v).length === 2 && 'type' in v && 'value' in v;

const fieldValue = (v: unknown): P.FieldValue => (isFieldValue(v) ? v : P.fromPlain(v));

/** A field table from plain values and typed() ones. */
export function fieldTable(o: Record<string, unknown>): P.FieldTable {
  return new Map(Object.entries(o).map(([k, v]) => [k, fieldValue(v)]));
}

/** BasicProperties (flags + values) as the wire carries them; headers may hold typed() values. */
export function encodeProps(p: Omit<P.BasicProperties, 'headers'> & { headers?: Record<string, unknown> }): Buffer {
  return P.encodeBasicProperties({ ...p, headers: p.headers && fieldTable(p.headers) });
}

/** Content header frame for class basic with pre-encoded property flags + list (by default none). */
export function headerFrame(channel: number, bodySize: number, props: Buffer = Buffer.from([0, 0])): Buffer {
  const w = new P.FrameWriter();
  w.headerRaw(channel, P.ClassId.basic, bodySize, props);
  return w.take();
}

/** One body frame, empty ones included (which the library's writer never makes). */
export function bodyFrame(channel: number, body: Buffer): Buffer {
  return rawFrame(P.FRAME_BODY, channel, body);
}

/**
 * Bytes written by hand, for arguments and properties that are malformed on purpose (a shortstr of invalid
 * UTF-8, a table length that overruns its frame, an unknown field tag): the protocol library's encoders refuse
 * to write those, and they are what the error and hostile-input scenarios send.
 */
export class RawBytes {
  private readonly parts: Buffer[] = [];

  private int(n: number, size: 1 | 2 | 4): this {
    const b = Buffer.alloc(size);
    b.writeUIntBE(n, 0, size);
    this.parts.push(b);
    return this;
  }
  u8(n: number): this {
    return this.int(n, 1);
  }
  u16(n: number): this {
    return this.int(n, 2);
  }
  u32(n: number): this {
    return this.int(n, 4);
  }
  bytes(b: Buffer): this {
    this.parts.push(b);
    return this;
  }
  shortstr(s: string): this {
    const b = Buffer.from(s, 'utf8');
    return this.u8(b.length).bytes(b);
  }
  longstr(s: string | Buffer): this {
    const b = Buffer.isBuffer(s) ? s : Buffer.from(s, 'utf8');
    return this.u32(b.length).bytes(b);
  }
  /** A well-formed table, by the library's encoder. */
  table(t: Record<string, unknown>): this {
    return this.bytes(P.encodeFieldTable(fieldTable(t)));
  }
  build(): Buffer {
    return Buffer.concat(this.parts);
  }
}
