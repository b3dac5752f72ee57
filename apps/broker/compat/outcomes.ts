// Outcomes: the plain data a scenario returns, and turning amqplib's failures into it.

import type { Conn } from './amqplib-connection';

export interface ErrorOutcome {
  kind: 'error';
  /** 'channel' (channel.close from the server), 'connection' (connection.close from the
   *  server), 'socket' (socket dropped without a close method), or 'client' (amqplib refused). */
  level: 'channel' | 'connection' | 'socket' | 'client';
  code?: number;
  classId?: number;
  methodId?: number;
  /** reply-text; compared between brokers only for scenarios with compareText. */
  text?: string;
}

export interface OkOutcome {
  kind: 'ok';
  value?: unknown;
}

export type Result = OkOutcome | ErrorOutcome;

function textOf(message: string): string | undefined {
  const m = /with message "([\s\S]*)"\s*$/.exec(message);
  return m ? m[1] : undefined;
}

/** Turn a thrown amqplib error into an ErrorOutcome, consulting the connection for hard errors. */
export function errorOutcome(e: any, conn?: Conn): ErrorOutcome {
  if (conn && conn.serverClose) return { ...conn.serverClose };
  if (e && typeof e.code === 'number') {
    return {
      kind: 'error',
      level: 'channel',
      code: e.code,
      classId: e.classId,
      methodId: e.methodId,
      text: textOf(String(e.message)),
    };
  }
  if (conn && conn.closed) return { kind: 'error', level: 'socket', text: String(e && e.message) };
  return { kind: 'error', level: 'client', text: String(e && e.message) };
}

/** Await a promise; return {kind:'ok', value} or the ErrorOutcome it failed with. */
export async function captureError(p: Promise<unknown> | (() => Promise<unknown>), conn?: Conn): Promise<Result> {
  try {
    const value = await (typeof p === 'function' ? p() : p);
    return { kind: 'ok', value: value === undefined ? undefined : plain(value) };
  } catch (e) {
    return errorOutcome(e, conn);
  }
}

/** Like captureError but drops the ok value (for RPCs whose reply carries nothing interesting). */
export async function attempt(p: Promise<unknown> | (() => Promise<unknown>), conn?: Conn): Promise<Result> {
  const r = await captureError(p, conn);
  return r.kind === 'ok' ? { kind: 'ok' } : r;
}

/** JSON-ish copy: Buffers become {$bytes: hex}; functions dropped. */
export function plain(v: any): any {
  if (v === null || v === undefined) return v;
  if (Buffer.isBuffer(v)) return { $bytes: v.toString('hex') };
  if (Array.isArray(v)) return v.map(plain);
  if (typeof v === 'object') {
    const out: any = {};
    for (const k of Object.keys(v)) {
      if (typeof v[k] === 'function') continue;
      out[k] = plain(v[k]);
    }
    return out;
  }
  if (typeof v === 'bigint') return v.toString();
  return v;
}

/** What the server closing a channel or the connection with `code` for method classId.methodId comes out as. */
export function closeOutcome(
  level: 'channel' | 'connection',
  code: number,
  classId: number,
  methodId: number,
  text: string,
): ErrorOutcome {
  return { kind: 'error', level, code, classId, methodId, text };
}
