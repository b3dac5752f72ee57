import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';

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

export const newTraceId = (): string => randomBytes(16).toString('hex');
export const newSpanId = (): string => randomBytes(8).toString('hex');
