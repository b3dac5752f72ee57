import type { Message } from 'amqplib';
import { Headers } from '../core/headers';

/** One message in `<queue>.dlq`, as the consumer parked it (see QueueConsumer: the failure headers). */
export interface ParkedMessage {
  messageId?: string;
  type?: string;
  correlationId?: string;
  /** Why it was parked: 'retries-exhausted' | 'non-retryable' | 'invalid' | 'no-handler' (FailureReason). */
  reason?: string;
  error?: ParkedError;
  /** The attempt that failed last (x-attempt). */
  attempts?: number;
  /** How often it was replayed before (x-replay-count); 0 for a first failure. */
  replayCount: number;
  originalExchange?: string;
  originalRoutingKey?: string;
  /** The work queue a replay sends it back to. */
  originalQueue?: string;
  /** ISO 8601, as the consumer wrote it. */
  deadLetteredAt?: string;
  /** When it was first published (AMQP timestamp, whole seconds), ISO 8601. */
  publishedAt?: string;
  contentType?: string;
  /** Body size in bytes. */
  size: number;
  /** All headers as they are on the parked message, failure headers included. */
  headers: Record<string, unknown>;
  /** The parsed body when it is JSON; otherwise a preview (`payloadFormat` says which). */
  payload: unknown;
  payloadFormat: 'json' | 'text' | 'binary';
}

export interface ParkedError {
  name?: string;
  message?: string;
  /** The first frames of the stack (`at …` lines), enough to see where it failed. */
  stack: string[];
}

const STACK_FRAMES = 5;
const PREVIEW_CHARS = 200;
const PREVIEW_BYTES = 96;

/** Reads what the consumer wrote on a parked message; tolerant of messages put there by other means. */
export function toParkedMessage(raw: Message): ParkedMessage {
  const p = raw.properties;
  const headers = (p.headers ?? {}) as Record<string, unknown>;
  const str = (name: string): string | undefined => (typeof headers[name] === 'string' && headers[name] !== '' ? (headers[name] as string) : undefined);
  const num = (name: string): number | undefined => {
    const n = Number(headers[name]);
    return headers[name] !== undefined && Number.isFinite(n) ? n : undefined;
  };
  const errorName = str(Headers.errorName);
  const errorMessage = str(Headers.errorMessage);
  const errorStack = str(Headers.errorStack);
  const body = describeBody(raw.content, p.contentType as string | undefined);
  return {
    messageId: (p.messageId as string | undefined) || undefined,
    type: (p.type as string | undefined) || undefined,
    correlationId: (p.correlationId as string | undefined) || undefined,
    reason: str(Headers.failureReason),
    error: errorName || errorMessage || errorStack ? { name: errorName, message: errorMessage, stack: stackFrames(errorStack) } : undefined,
    attempts: num(Headers.attempt),
    replayCount: num(Headers.replayCount) ?? 0,
    originalExchange: typeof headers[Headers.originalExchange] === 'string' ? (headers[Headers.originalExchange] as string) : undefined,
    originalRoutingKey: str(Headers.originalRoutingKey),
    originalQueue: str(Headers.originalQueue),
    deadLetteredAt: str(Headers.deadLetteredAt),
    publishedAt: typeof p.timestamp === 'number' ? new Date(p.timestamp * 1000).toISOString() : undefined,
    contentType: (p.contentType as string | undefined) || undefined,
    size: raw.content.length,
    headers,
    ...body,
  };
}

function stackFrames(stack: string | undefined): string[] {
  if (!stack) return [];
  const lines = stack.split('\n').map((l) => l.trim()).filter(Boolean);
  const frames = lines.filter((l) => l.startsWith('at '));
  return (frames.length > 0 ? frames : lines).slice(0, STACK_FRAMES);
}

function describeBody(content: Buffer, contentType: string | undefined): Pick<ParkedMessage, 'payload' | 'payloadFormat'> {
  // The consumer treats a body without a content type as JSON too.
  if (!contentType || /json/i.test(contentType)) {
    try {
      return { payload: JSON.parse(content.toString('utf8')), payloadFormat: 'json' };
    } catch {
      // not JSON after all (that may be why it was parked): fall through to a preview
    }
  }
  const text = content.toString('utf8');
  // U+FFFD means bytes that are not UTF-8; control characters other than whitespace mean binary.
  // eslint-disable-next-line no-control-regex
  if (!/\uFFFD|[\u0000-\u0008\u000E-\u001F]/.test(text)) {
    return { payload: text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS)}…` : text, payloadFormat: 'text' };
  }
  const head = content.subarray(0, PREVIEW_BYTES).toString('base64');
  return { payload: `base64:${head}${content.length > PREVIEW_BYTES ? '…' : ''}`, payloadFormat: 'binary' };
}
