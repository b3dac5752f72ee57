import type { FieldTable, FieldValue } from '@warren/amqp-protocol';
import { preconditionFailed } from '../errors';

export type Overflow = 'drop-head' | 'reject-publish' | 'reject-publish-dlx';

/** The x-arguments a queue understands, validated and parsed once at declaration. */
export interface QueueSettings {
  messageTtl?: number;
  expires?: number;
  maxLength?: number;
  maxLengthBytes?: number;
  overflow: Overflow;
  /** x-overflow was given (a policy's overflow applies only when it was not). */
  overflowDeclared?: boolean;
  deadLetterExchange?: string;
  deadLetterRoutingKey?: string;
  maxPriority?: number;
  singleActiveConsumer: boolean;
}

/** RabbitMQ's names for field types, as they appear in its error texts. */
const TYPE_NAMES: Record<string, string> = {
  t: 'bool', b: 'byte', B: 'unsignedbyte', s: 'short', u: 'unsignedshort', I: 'signedint', i: 'unsignedint',
  l: 'long', f: 'float', d: 'double', D: 'decimal', T: 'timestamp', S: 'longstr', x: 'binary', A: 'array',
  F: 'table', V: 'void',
};
const INTEGER_TYPES = new Set(['b', 'B', 's', 'u', 'I', 'i', 'l']);

type Check = (value: FieldValue) => string | undefined;

/** RabbitMQ 3.10's wording for each way an argument can be wrong, as it appears after "invalid arg '…' …: ". */
const integer =
  (min: 0 | 1, tooLarge?: (n: number) => string | undefined): Check =>
  (v) => {
    if (!INTEGER_TYPES.has(v.type)) return `"expected integer, got ${TYPE_NAMES[v.type]}"`;
    const n = v.value as number;
    if (n < 0) return `{value_negative,${n}}`;
    if (n < min) return `{value_zero,${n}}`;
    return tooLarge?.(n);
  };
const longstr: Check = (v) => (v.type === 'S' ? undefined : `{unacceptable_type,${TYPE_NAMES[v.type]}}`);
const oneOf =
  (problem: string, ...allowed: string[]): Check =>
  (v) =>
    v.type !== 'S' ? `{unacceptable_type,${TYPE_NAMES[v.type]}}` : allowed.includes(v.value) ? undefined : problem;
const bool: Check = (v) => (v.type === 't' ? undefined : `{unacceptable_type,${TYPE_NAMES[v.type]}}`);
/** x-message-ttl, x-expires and per-message expiration above ten years (in ms) are refused, as in RabbitMQ 3.10. */
export const MAX_TTL = 315_360_000_000;

// The arguments RabbitMQ validates for classic queues; unknown arguments are kept but ignored, as RabbitMQ does.
const CHECKS: Record<string, Check> = {
  'x-message-ttl': integer(0, (n) => (n > MAX_TTL ? `{value_too_large,${n}}` : undefined)),
  'x-expires': integer(1, (n) => (n > MAX_TTL ? `{value_too_large,${n}}` : undefined)),
  'x-max-length': integer(0),
  'x-max-length-bytes': integer(0),
  'x-overflow': oneOf('invalid_overflow', 'drop-head', 'reject-publish', 'reject-publish-dlx'),
  'x-dead-letter-exchange': longstr,
  'x-dead-letter-routing-key': longstr,
  'x-max-priority': integer(0, (n) => (n > 255 ? `{max_value_exceeded,${n}}` : undefined)),
  'x-single-active-consumer': bool,
  'x-queue-mode': oneOf('invalid_queue_mode', 'default', 'lazy'),
  'x-queue-type': oneOf('invalid_queue_type', 'classic'),
  'x-queue-master-locator': longstr,
};

/** The arguments that must be equal when a queue is declared again (others may differ, as in RabbitMQ). */
export const EQUIVALENCE_ARGS = [
  'x-expires', 'x-message-ttl', 'x-dead-letter-exchange', 'x-dead-letter-routing-key', 'x-max-length',
  'x-max-length-bytes', 'x-max-priority', 'x-overflow', 'x-queue-mode', 'x-single-active-consumer',
];

export function parseQueueArguments(queue: string, args: FieldTable, vhost = '/'): QueueSettings {
  for (const [key, value] of args) {
    const problem = CHECKS[key]?.(value);
    if (problem) throw preconditionFailed(`invalid arg '${key}' for queue '${queue}' in vhost '${vhost}': ${problem}`);
  }
  // 64-bit values beyond 2^53 decode as bigint; limits this large are compared, never counted exactly
  const num = (key: string) => {
    const value = args.get(key)?.value;
    return value === undefined ? undefined : Number(value);
  };
  const str = (key: string) => args.get(key)?.value as string | undefined;
  return {
    messageTtl: num('x-message-ttl'),
    expires: num('x-expires'),
    maxLength: num('x-max-length'),
    maxLengthBytes: num('x-max-length-bytes'),
    overflow: (str('x-overflow') as Overflow | undefined) ?? 'drop-head',
    overflowDeclared: args.has('x-overflow'),
    deadLetterExchange: str('x-dead-letter-exchange'),
    deadLetterRoutingKey: str('x-dead-letter-routing-key'),
    maxPriority: num('x-max-priority'),
    singleActiveConsumer: args.get('x-single-active-consumer')?.value === true,
  };
}

function show(value: FieldValue): string {
  if (value.type === 'S') return value.value;
  if (value.type === 't' || typeof value.value === 'number') return String(value.value);
  return JSON.stringify(value.value);
}

/**
 * The "received … but current is …" part of RabbitMQ's inequivalent-argument error: bare values when both
 * sides have one, "the value 'v' of type 't'" against "none" when only one side does.
 */
export function describeMismatch(received: FieldValue | undefined, current: FieldValue | undefined): string {
  const typed = (v: FieldValue) => `the value '${show(v)}' of type '${TYPE_NAMES[v.type]}'`;
  if (received && current) return `received '${show(received)}' but current is '${show(current)}'`;
  if (received) return `received ${typed(received)} but current is none`;
  return `received none but current is ${current ? typed(current) : 'none'}`;
}
