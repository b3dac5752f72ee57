import type { Message } from 'amqplib';
import { Headers } from '../core/headers';

/**
 * One message in `<queue>.dlq`, as the consumer parked it (see QueueConsumer: the failure headers), or as the
 * broker dead-lettered it there (a quorum work queue past its delivery limit: the x-death headers).
 */
export interface ParkedMessage {
  messageId?: string;
  type?: string;
  correlationId?: string;
  /**
   * Why it was parked: 'retries-exhausted' | 'non-retryable' | 'invalid' | 'no-handler' | 'delivery_limit'
   * (FailureReason), or the broker's reason (x-death) when the broker put it there.
   */
  reason?: string;
  error?: ParkedError;
  /** The attempt that failed last (x-attempt). */
  attempts?: number;
  /**
   * Deliveries that ended without a settle before it was parked for the delivery limit, when the consumer counted
   * them (a classic queue: x-unsettled-deliveries). A quorum queue's count is the broker's: RabbitMQ does not write
   * it on the dead-lettered copy (x-death has how often it was dead-lettered, see `deaths`).
   */
  deliveries?: number;
  /** What the broker recorded each time it dead-lettered the message (x-death), newest first. */
  deaths: DeathRecord[];
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

/** One x-death entry: the broker dead-lettered the message from `queue` for `reason`, `count` times. */
export interface DeathRecord {
  queue?: string;
  reason?: string;
  count?: number;
  exchange?: string;
  routingKeys: string[];
  /** ISO 8601 (x-death's time has whole seconds). */
  time?: string;
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
  const str = (name: string): string | undefined =>
    typeof headers[name] === 'string' && headers[name] !== '' ? (headers[name] as string) : undefined;
  const num = (name: string): number | undefined => {
    const n = Number(headers[name]);
    return headers[name] !== undefined && Number.isFinite(n) ? n : undefined;
  };
  const errorName = str(Headers.errorName);
  const errorMessage = str(Headers.errorMessage);
  const errorStack = str(Headers.errorStack);
  const body = describeBody(raw.content, p.contentType as string | undefined);
  const deaths = deathRecords(headers['x-death']);
  // parked by the broker (no failure headers of ours): where and why it says
  const death = str(Headers.failureReason) === undefined ? deaths[0] : undefined;
  return {
    messageId: (p.messageId as string | undefined) || undefined,
    type: (p.type as string | undefined) || undefined,
    correlationId: (p.correlationId as string | undefined) || undefined,
    reason: str(Headers.failureReason) ?? death?.reason,
    error:
      errorName || errorMessage || errorStack
        ? { name: errorName, message: errorMessage, stack: stackFrames(errorStack) }
        : undefined,
    attempts: num(Headers.attempt),
    deliveries: num(Headers.unsettledDeliveries),
    deaths,
    replayCount: num(Headers.replayCount) ?? 0,
    originalExchange:
      typeof headers[Headers.originalExchange] === 'string'
        ? (headers[Headers.originalExchange] as string)
        : death?.exchange,
    originalRoutingKey: str(Headers.originalRoutingKey) ?? death?.routingKeys[0],
    originalQueue: str(Headers.originalQueue) ?? death?.queue,
    deadLetteredAt: str(Headers.deadLetteredAt) ?? death?.time,
    publishedAt: typeof p.timestamp === 'number' ? new Date(p.timestamp * 1000).toISOString() : undefined,
    contentType: (p.contentType as string | undefined) || undefined,
    size: raw.content.length,
    headers,
    ...body,
  };
}

/** x-death as amqplib decodes it: an array of tables; `time` a timestamp ({ '!': 'timestamp', value }) or a number. */
export function deathRecords(value: unknown): DeathRecord[] {
  if (!Array.isArray(value)) return [];
  return value
    .filter((d): d is Record<string, unknown> => typeof d === 'object' && d !== null)
    .map((d) => {
      const text = (v: unknown): string | undefined =>
        typeof v === 'string' ? v : Buffer.isBuffer(v) ? v.toString('utf8') : undefined;
      const rawTime = d.time as unknown;
      const seconds =
        typeof rawTime === 'number'
          ? rawTime
          : typeof (rawTime as { value?: unknown })?.value === 'number'
            ? (rawTime as { value: number }).value
            : undefined;
      const count = Number(d.count);
      return {
        queue: text(d.queue),
        reason: text(d.reason),
        count: d.count !== undefined && Number.isFinite(count) ? count : undefined,
        exchange: text(d.exchange),
        routingKeys: Array.isArray(d['routing-keys'])
          ? (d['routing-keys'] as unknown[]).map(text).filter((k): k is string => k !== undefined)
          : [],
        time: seconds === undefined ? undefined : new Date(seconds * 1000).toISOString(),
      };
    });
}

function stackFrames(stack: string | undefined): string[] {
  if (!stack) return [];
  const lines = stack
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const frames = lines.filter((l) => l.startsWith('at '));
  return (frames.length > 0 ? frames : lines).slice(0, STACK_FRAMES);
}

function describeBody(
  content: Buffer,
  contentType: string | undefined,
): Pick<ParkedMessage, 'payload' | 'payloadFormat'> {
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
