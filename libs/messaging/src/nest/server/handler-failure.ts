import { RpcException } from '@nestjs/microservices';
import type { MessagingContext } from '../ctx-host/messaging.context';

// Nest's RPC exception filter turns any error that is not an RpcException into the plain object
// { status: 'error', message: 'Internal server error' } before the transport sees it. Passed on like that, the
// DLQ headers would not say what failed, and a NonRetryableError would be retried like any other failure.
// So HandlerFailureInterceptor, which runs inside the filter, records the error it saw against the handler's
// context, and MessagingServer fails the message with that original error.

interface Watch {
  error?: unknown;
  failed: boolean;
}

const watches = new WeakMap<MessagingContext, Watch>();

/** Called by the interceptor as the handler starts: from now on its failures are recorded. */
export function watchFailures(ctx: MessagingContext): void {
  if (!watches.has(ctx)) watches.set(ctx, { failed: false });
}

export function recordFailure(ctx: MessagingContext, error: unknown): void {
  const watch = watches.get(ctx);
  if (watch && !watch.failed) Object.assign(watch, { error, failed: true });
}

/**
 * The error to fail the message with: the one the interceptor recorded, else what the handler's result
 * errored with (after the exception filter). `intercepted` says whether the interceptor ran at all.
 */
export function failureOf(ctx: MessagingContext, reported: unknown): { error: Error; intercepted: boolean } {
  const watch = watches.get(ctx);
  return { error: toError(watch?.failed ? watch.error : reported), intercepted: watch !== undefined };
}

/** Makes an Error of what a handler threw: RpcExceptions are unwrapped, plain objects keep message and code. */
export function toError(thrown: unknown): Error {
  const value = thrown instanceof RpcException ? thrown.getError() : thrown;
  if (value instanceof Error) return value;
  if (typeof value === 'string') return new Error(value);
  if (value !== null && typeof value === 'object') {
    const { message, code } = value as { message?: unknown; code?: unknown };
    const error = new Error(typeof message === 'string' ? message : safeJson(value));
    return code === undefined ? error : Object.assign(error, { code });
  }
  return new Error(String(value));
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}
