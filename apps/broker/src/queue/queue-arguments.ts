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

const integer =
  (min: number, max = Number.MAX_SAFE_INTEGER): Check =>
  (v) => {
    if (!INTEGER_TYPES.has(v.type)) return `{unacceptable_type,${TYPE_NAMES[v.type]}}`;
    const n = v.value as number;
    if (n < 0 && min >= 0) return `{value_negative,${n}}`;
    if (n < min) return `{value_zero,${n}}`;
    if (n > max) return `{value_too_large,${n},${max}}`;
    return undefined;
  };
const longstr: Check = (v) => (v.type === 'S' ? undefined : `{unacceptable_type,${TYPE_NAMES[v.type]}}`);
const oneOf =
  (...allowed: string[]): Check =>
  (v) =>
    v.type !== 'S' ? `{unacceptable_type,${TYPE_NAMES[v.type]}}` : allowed.includes(v.value) ? undefined : `{invalid_value,<<"${v.value}">>}`;
const bool: Check = (v) => (v.type === 't' ? undefined : `{unacceptable_type,${TYPE_NAMES[v.type]}}`);

// The arguments RabbitMQ validates for classic queues; unknown arguments are kept but ignored, as RabbitMQ does.
const CHECKS: Record<string, Check> = {
  'x-message-ttl': integer(0, 0xffffffff),
  'x-expires': integer(1, 0xffffffff),
  'x-max-length': integer(0),
  'x-max-length-bytes': integer(0),
  'x-overflow': oneOf('drop-head', 'reject-publish', 'reject-publish-dlx'),
  'x-dead-letter-exchange': longstr,
  'x-dead-letter-routing-key': longstr,
  'x-max-priority': integer(0, 255),
  'x-single-active-consumer': bool,
  'x-queue-mode': oneOf('default', 'lazy'),
  'x-queue-type': oneOf('classic'),
  'x-queue-master-locator': longstr,
};

/** The arguments that must be equal when a queue is declared again (others may differ, as in RabbitMQ). */
export const EQUIVALENCE_ARGS = [
  'x-expires', 'x-message-ttl', 'x-dead-letter-exchange', 'x-dead-letter-routing-key', 'x-max-length',
  'x-max-length-bytes', 'x-max-priority', 'x-overflow', 'x-queue-mode', 'x-single-active-consumer',
];

export function parseQueueArguments(queue: string, args: FieldTable): QueueSettings {
  for (const [key, value] of args) {
    const problem = CHECKS[key]?.(value);
    if (problem) throw preconditionFailed(`invalid arg '${key}' for queue '${queue}' in vhost '/': ${problem}`);
  }
  const num = (key: string) => args.get(key)?.value as number | undefined;
  const str = (key: string) => args.get(key)?.value as string | undefined;
  return {
    messageTtl: num('x-message-ttl'),
    expires: num('x-expires'),
    maxLength: num('x-max-length'),
    maxLengthBytes: num('x-max-length-bytes'),
    overflow: (str('x-overflow') as Overflow | undefined) ?? 'drop-head',
    deadLetterExchange: str('x-dead-letter-exchange'),
    deadLetterRoutingKey: str('x-dead-letter-routing-key'),
    maxPriority: num('x-max-priority'),
    singleActiveConsumer: args.get('x-single-active-consumer')?.value === true,
  };
}

export function describeFieldValue(value: FieldValue | undefined): string {
  if (value === undefined) return 'none';
  if (value.type === 'S') return value.value;
  if (value.type === 't') return String(value.value);
  if (typeof value.value === 'number') return String(value.value);
  return JSON.stringify(value.value);
}
