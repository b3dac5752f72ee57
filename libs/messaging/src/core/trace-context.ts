import { AsyncLocalStorage } from 'node:async_hooks';
import { randomFillSync } from 'node:crypto';

/**
 * What a handler runs inside: the trace it continues, and the ids that everything it publishes inherits
 * (its causation id is the handled message's id; its correlation id is carried through unchanged).
 */
export interface MessageScope {
  traceId: string;
  spanId: string;
  flags: string;
  tracestate?: string;
  messageId: string;
  correlationId: string;
}

const storage = new AsyncLocalStorage<MessageScope>();

export function currentScope(): MessageScope | undefined {
  return storage.getStore();
}

export function runInScope<T>(scope: MessageScope, fn: () => T): T {
  return storage.run(scope, fn);
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export interface TraceParent {
  traceId: string;
  spanId: string;
  flags: string;
}

/** Parses a version-00 traceparent; anything malformed (or an all-zero id) counts as absent, per the spec. */
export function parseTraceparent(value: unknown): TraceParent | undefined {
  if (typeof value !== 'string') return undefined;
  const m = TRACEPARENT.exec(value.trim().toLowerCase());
  if (!m || m[1] === 'ff' || /^0+$/.test(m[2]) || /^0+$/.test(m[3])) return undefined;
  return { traceId: m[2], spanId: m[3], flags: m[4] };
}

export function formatTraceparent(t: TraceParent): string {
  return `00-${t.traceId}-${t.spanId}-${t.flags}`;
}

// Ids come from a pool of random bytes filled 4 KiB at a time: one randomBytes() call per id cost about 2 µs
// (a syscall's worth), several times per message handled. An all-zero id is invalid in W3C trace context; the
// chance is 2^-64 at worst, and such an id is drawn again.
const pool = Buffer.allocUnsafe(4096);
let used = pool.length;

function randomHex(bytes: number): string {
  for (;;) {
    if (used + bytes > pool.length) {
      randomFillSync(pool);
      used = 0;
    }
    const start = used;
    used += bytes;
    if (pool.subarray(start, used).some((b) => b !== 0)) return pool.toString('hex', start, used);
  }
}

export const newTraceId = (): string => randomHex(16);
export const newSpanId = (): string => randomHex(8);
