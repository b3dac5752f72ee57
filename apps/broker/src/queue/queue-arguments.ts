import { ReplyCode, type FieldTable, type FieldValue } from '@warren/amqp-protocol';
import { ConnectionError, preconditionFailed } from '../errors';

export type Overflow = 'drop-head' | 'reject-publish' | 'reject-publish-dlx';
export type QueueType = 'classic' | 'quorum';
export type DeadLetterStrategy = 'at-most-once' | 'at-least-once';

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
  /** x-queue-type: absent is classic. */
  type: QueueType;
  /**
   * Quorum queues: x-delivery-limit. RabbitMQ 3.10 does not validate it and compares the delivery count with
   * whatever it is, where a number is below any other Erlang term: a value that is not a number never trips.
   */
  deliveryLimit?: number;
  /**
   * Quorum queues: x-dead-letter-strategy as declared, or from a policy; absent is at-most-once (whether it takes
   * effect: see effectiveDeadLetterStrategy).
   */
  deadLetterStrategy?: DeadLetterStrategy;
}

/** RabbitMQ's names for field types, as they appear in its error texts. */
const TYPE_NAMES: Record<string, string> = {
  t: 'bool',
  b: 'byte',
  B: 'unsignedbyte',
  s: 'short',
  u: 'unsignedshort',
  I: 'signedint',
  i: 'unsignedint',
  l: 'long',
  f: 'float',
  d: 'double',
  D: 'decimal',
  T: 'timestamp',
  S: 'longstr',
  x: 'binary',
  A: 'array',
  F: 'table',
  V: 'void',
};
const INTEGER_TYPES = new Set(['b', 'B', 's', 'u', 'I', 'i', 'l']);

/** RabbitMQ 3.10 closes the connection with a bare 541 when a declaration crashes its channel. */
const crash = () => new ConnectionError(ReplyCode.INTERNAL_ERROR, 'INTERNAL_ERROR').at(0, 0);

type Check = (value: FieldValue, args: FieldTable) => string | undefined;

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
/** A longstr from a list; `problem` words any other string. */
const oneOf =
  (problem: (s: string) => string, ...allowed: string[]): Check =>
  (v) =>
    v.type !== 'S'
      ? `{unacceptable_type,${TYPE_NAMES[v.type]}}`
      : allowed.includes(v.value)
        ? undefined
        : problem(v.value);
const bool: Check = (v) => (v.type === 't' ? undefined : `{unacceptable_type,${TYPE_NAMES[v.type]}}`);
/** x-message-ttl, x-expires and per-message expiration above ten years (in ms) are refused, as in RabbitMQ 3.10. */
export const MAX_TTL = 315_360_000_000;

const QUEUE_TYPES = ['classic', 'quorum', 'stream'];
const checkQueueType = oneOf((s) => `"unsupported queue type '${s}'"`, ...QUEUE_TYPES);

const positive = integer(1);
/** The leader locators RabbitMQ 3.10 knows (rabbit_queue_location), the two deprecated ones included. */
const LEADER_LOCATORS = ['client-local', 'balanced', 'random', 'least-leaders'];

/**
 * The validators of rabbit_amqqueue:declare_args/0, in RabbitMQ 3.10's order; each queue type runs those of its
 * own arguments (below), and the first failing one is reported, whatever the order of the arguments in the
 * table. x-queue-master-locator has no validator (see checkMasterLocator); x-delivery-limit has none either.
 */
const CHECKS: [string, Check][] = [
  ['x-expires', integer(1, (n) => (n > MAX_TTL ? `{value_too_large,${n}}` : undefined))],
  ['x-message-ttl', integer(0, (n) => (n > MAX_TTL ? `{value_too_large,${n}}` : undefined))],
  ['x-dead-letter-exchange', longstr],
  [
    'x-dead-letter-routing-key',
    (v, args) =>
      longstr(v, args) ?? (args.has('x-dead-letter-exchange') ? undefined : 'routing_key_but_no_dlx_defined'),
  ],
  ['x-dead-letter-strategy', oneOf(() => 'invalid_dlx_strategy', 'at-most-once', 'at-least-once')],
  ['x-max-length', integer(0)],
  ['x-max-length-bytes', integer(0)],
  ['x-max-in-memory-length', integer(0)],
  ['x-max-in-memory-bytes', integer(0)],
  ['x-max-priority', integer(0, (n) => (n > 255 ? `{max_value_exceeded,${n}}` : undefined))],
  ['x-overflow', oneOf(() => 'invalid_overflow', 'drop-head', 'reject-publish', 'reject-publish-dlx')],
  ['x-queue-mode', oneOf((s) => `"unsupported queue mode '${s}'"`, 'default', 'lazy')],
  ['x-queue-version', integer(0, (n) => (n === 1 || n === 2 ? undefined : `"unsupported queue version '${n}'"`))],
  ['x-single-active-consumer', bool],
  ['x-queue-type', checkQueueType],
  ['x-quorum-initial-group-size', positive],
  ['x-queue-leader-locator', oneOf(() => 'invalid_queue_locator_arg', ...LEADER_LOCATORS)],
];

/**
 * The arguments of each queue type (its capabilities' queue_arguments in RabbitMQ 3.10), in RabbitMQ's order:
 * validated at creation, compared on a redeclaration (others may differ, as in RabbitMQ).
 */
const TYPE_ARGS: Record<QueueType, readonly string[]> = {
  classic: [
    'x-expires',
    'x-message-ttl',
    'x-dead-letter-exchange',
    'x-dead-letter-routing-key',
    'x-max-length',
    'x-max-length-bytes',
    'x-max-priority',
    'x-overflow',
    'x-queue-mode',
    'x-queue-version',
    'x-single-active-consumer',
    'x-queue-type',
    'x-queue-master-locator',
  ],
  quorum: [
    'x-dead-letter-exchange',
    'x-dead-letter-routing-key',
    'x-dead-letter-strategy',
    'x-expires',
    'x-max-length',
    'x-max-length-bytes',
    'x-max-in-memory-length',
    'x-max-in-memory-bytes',
    'x-overflow',
    'x-single-active-consumer',
    'x-queue-type',
    'x-quorum-initial-group-size',
    'x-delivery-limit',
    'x-message-ttl',
    'x-queue-leader-locator',
  ],
};
const STREAM_ARGS = [
  'x-queue-type',
  'x-max-length-bytes',
  'x-max-age',
  'x-stream-max-segment-size-bytes',
  'x-initial-cluster-size',
  'x-queue-leader-locator',
];
/** Every queue type's arguments: what a type does not take of these is refused "of queue type …". */
const ALL_TYPE_ARGS = new Set([...TYPE_ARGS.classic, ...TYPE_ARGS.quorum, ...STREAM_ARGS]);
/** RabbitMQ's module name for each queue type, as its texts print it. */
const TYPE_MODULES: Record<QueueType, string> = { classic: 'rabbit_classic_queue', quorum: 'rabbit_quorum_queue' };

/** The arguments compared when a queue of `type` is declared again (rabbit_amqqueue:assert_args_equivalence). */
export const equivalenceArgs = (type: QueueType): readonly string[] => TYPE_ARGS[type];

/** The classic queue master locators RabbitMQ 3.10 registers. */
const MASTER_LOCATORS = new Set(['client-local', 'min-masters', 'random']);

const invalid = (key: string, queue: string, vhost: string, problem: string) =>
  preconditionFailed(`invalid arg '${key}' for queue '${queue}' in vhost '${vhost}': ${problem}`);

/**
 * x-dead-letter-exchange as RabbitMQ's channel reads it for a new queue, before any other argument is looked
 * at and before the permission checks it leads to: absent, or the name of an exchange (a longstr).
 */
export function deadLetterExchangeArg(queue: string, args: FieldTable, vhost = '/'): string | undefined {
  const v = args.get('x-dead-letter-exchange');
  if (v === undefined) return undefined;
  if (v.type !== 'S')
    throw preconditionFailed(
      `invalid type '${TYPE_NAMES[v.type]}' for arg 'x-dead-letter-exchange' in queue '${queue}' in vhost '${vhost}'`,
    );
  return v.value;
}

/** The queue type an argument table asks for (validated by parseQueueArguments). */
export function queueTypeOf(args: FieldTable): QueueType {
  const v = args.get('x-queue-type');
  return v?.type === 'S' && v.value === 'quorum' ? 'quorum' : 'classic';
}

/**
 * Validates the arguments of a new queue as RabbitMQ 3.10 does (rabbit_amqqueue:check_declare_arguments) and
 * parses the ones the broker acts on. Order: x-queue-type; then the validators of the queue type's arguments, in
 * RabbitMQ's order (the first failing one is reported); then arguments of other queue types, in table order;
 * then, for a classic queue that is not exclusive, the master locator. Streams are not implemented: refused.
 */
export function parseQueueArguments(queue: string, args: FieldTable, vhost = '/', exclusive = false): QueueSettings {
  const queueType = args.get('x-queue-type');
  if (queueType) {
    const problem = checkQueueType(queueType, args);
    if (problem) throw invalid('x-queue-type', queue, vhost, problem);
    if (queueType.value === 'stream') throw invalid('x-queue-type', queue, vhost, 'invalid_queue_type');
  }
  const type = queueTypeOf(args);
  const own = TYPE_ARGS[type];
  for (const [key, check] of CHECKS) {
    const value = own.includes(key) ? args.get(key) : undefined;
    const problem = value && check(value, args);
    if (problem) throw invalid(key, queue, vhost, problem);
  }
  for (const key of args.keys())
    if (ALL_TYPE_ARGS.has(key) && !own.includes(key))
      throw preconditionFailed(
        `invalid arg '${key}' for queue '${queue}' in vhost '${vhost}' of queue type ${TYPE_MODULES[type]}`,
      );
  if (type === 'classic' && !exclusive) checkMasterLocator(args.get('x-queue-master-locator'));
  return queueSettings(args);
}

/**
 * A quorum queue is durable, never exclusive nor auto-delete (rabbit_quorum_queue:declare, checked in this
 * order after the arguments). `durable` is the flag as RabbitMQ reads it: false for an exclusive queue.
 */
export function checkQuorumProperties(
  queue: string,
  vhost: string,
  p: { durable: boolean; exclusive: boolean; autoDelete: boolean },
): void {
  const refuse = (property: string) =>
    preconditionFailed(`invalid property '${property}' for queue '${queue}' in vhost '${vhost}'`);
  if (p.autoDelete) throw refuse('auto-delete');
  if (p.exclusive) throw refuse('exclusive-owner');
  if (!p.durable) throw refuse('non-durable');
}

/**
 * The settings of arguments validated when their queue was declared (a durable queue recovered at start-up is
 * not validated again, as in RabbitMQ: arguments an older version accepted stay as they are).
 */
export function queueSettings(args: FieldTable): QueueSettings {
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
    type: queueTypeOf(args),
    deliveryLimit: deliveryLimitOf(args.get('x-delivery-limit')),
    deadLetterStrategy: str('x-dead-letter-strategy') as DeadLetterStrategy | undefined,
  };
}

/** x-delivery-limit as RabbitMQ 3.10 compares it: a number, or (any other type) a limit never reached. */
function deliveryLimitOf(v: FieldValue | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (INTEGER_TYPES.has(v.type) || v.type === 'f' || v.type === 'd' || v.type === 'T') return Number(v.value);
  return Infinity;
}

/**
 * The dead-letter strategy a quorum queue uses (rabbit_quorum_queue:dead_letter_handler): at-least-once only with
 * a dead-letter exchange and the reject-publish overflow in force; otherwise RabbitMQ logs a warning and falls
 * back to at-most-once (reject-publish-dlx counts as drop-head on a quorum queue).
 */
export function effectiveDeadLetterStrategy(s: QueueSettings): DeadLetterStrategy {
  return s.deadLetterStrategy === 'at-least-once' &&
    s.deadLetterExchange !== undefined &&
    s.overflow === 'reject-publish'
    ? 'at-least-once'
    : 'at-most-once';
}

/**
 * x-queue-master-locator is not validated, but RabbitMQ 3.10 looks a non-exclusive classic queue's locator up
 * when it places the queue, and one it does not know (any value that is not a registered locator's name, whatever
 * its type) crashes the declaration: 541 on the connection.
 */
function checkMasterLocator(v: FieldValue | undefined): void {
  if (v === undefined) return;
  const name = v.type === 'S' ? v.value : v.type === 'x' ? v.value.toString('latin1') : undefined;
  if (name === undefined || !MASTER_LOCATORS.has(name)) throw crash();
}

// ---------------------------------------------------------------------------------------------------------
// equivalence on redeclaration (rabbit_misc:assert_args_equivalence)

/** The class RabbitMQ compares types by: the integer types (decimal included) alike, float and double alike. */
function typeClass(type: string): string {
  if (INTEGER_TYPES.has(type) || type === 'D') return 'int';
  if (type === 'f' || type === 'd') return 'float';
  return type;
}

const isInteger = (v: FieldValue) => INTEGER_TYPES.has(v.type) || v.type === 'T';
const bytesOf = (v: FieldValue) => (v.type === 'S' ? Buffer.from(v.value) : (v.value as Buffer));

/**
 * Erlang's equality of two decoded field values (the value only, without the type): `exact` is =:=, otherwise ==
 * (numbers compare by value, so 1 == 1.0). Integers of any width are the same term; a longstr and a binary with the
 * same bytes are the same term; arrays and tables compare element by element, in order, types included.
 */
function sameValue(a: FieldValue, b: FieldValue, exact: boolean): boolean {
  const numeric = (v: FieldValue) => isInteger(v) || v.type === 'f' || v.type === 'd';
  if (numeric(a) && numeric(b)) {
    if (isInteger(a) && isInteger(b)) return BigInt(a.value as number | bigint) === BigInt(b.value as number | bigint);
    if (exact && isInteger(a) !== isInteger(b)) return false;
    return Number(a.value) === Number(b.value);
  }
  if ((a.type === 'S' || a.type === 'x') && (b.type === 'S' || b.type === 'x')) return bytesOf(a).equals(bytesOf(b));
  if (a.type === 'D' && b.type === 'D') return a.value.places === b.value.places && a.value.digits === b.value.digits;
  if (a.type === 't' && b.type === 't') return a.value === b.value;
  if (a.type === 'V' && b.type === 'V') return true;
  const list = (v: FieldValue) => (v.type === 'A' ? v.value.length : v.type === 'F' ? v.value.size : -1);
  if (list(a) === 0 && list(b) === 0) return true; // [] =:= []
  if (a.type === 'A' && b.type === 'A') {
    const bs = b.value;
    return a.value.length === bs.length && a.value.every((x, i) => x.type === bs[i].type && sameValue(x, bs[i], exact));
  }
  if (a.type === 'F' && b.type === 'F') {
    if (a.value.size !== b.value.size) return false;
    const bs = [...b.value];
    return [...a.value].every(
      ([k, x], i) => k === bs[i][0] && x.type === bs[i][1].type && sameValue(x, bs[i][1], exact),
    );
  }
  return false;
}

/**
 * Whether RabbitMQ 3.10 takes `received` as equivalent to `current` for one argument: identical; or of the same
 * type class with equal values; or, failing that, the very same value whatever the types (an int and a timestamp,
 * a longstr and a binary). Absent only matches absent, but for x-queue-type, where absent and 'classic' match.
 */
function equivalent(key: string, received: FieldValue | undefined, current: FieldValue | undefined): boolean {
  if (received === undefined || current === undefined) {
    const other = received ?? current;
    return other === undefined || (key === 'x-queue-type' && other.type === 'S' && other.value === 'classic');
  }
  if (typeClass(received.type) === typeClass(current.type) && sameValue(received, current, false)) return true;
  return sameValue(received, current, true);
}

/**
 * Compares the arguments named in `keys` as RabbitMQ 3.10 does on a redeclaration and throws its 406
 * "inequivalent arg" for the first that differs. RabbitMQ cannot print a decimal in that message: comparing one
 * that differs crashes the channel, a 541 on the connection.
 */
export function assertArgsEquivalence(
  kind: 'queue' | 'exchange',
  name: string,
  vhost: string,
  received: FieldTable,
  current: FieldTable,
  keys: readonly string[],
): void {
  for (const key of keys) {
    const r = received.get(key);
    const c = current.get(key);
    if (equivalent(key, r, c)) continue;
    if (r && c && (r.type === 'D' || c.type === 'D')) throw crash();
    throw inequivalentArg(kind, name, vhost, key, describeMismatch(r, c));
  }
}

/** RabbitMQ's 406 for a redeclaration whose flag or argument `field` does not match the existing one. */
export function inequivalentArg(
  kind: 'queue' | 'exchange',
  name: string,
  vhost: string,
  field: string,
  detail: string,
) {
  return preconditionFailed(`inequivalent arg '${field}' for ${kind} '${name}' in vhost '${vhost}': ${detail}`);
}

/** Erlang's shortest float format (io_lib_format:fwrite_g): 5.0, 0.1, 1.0e20, 1.5e-4. */
export function erlangFloat(x: number): string {
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  const [mantissa, e] = Math.abs(x).toExponential().split('e');
  const digits = mantissa.replace('.', '');
  const exp = Number(e);
  const scientific = `${digits[0]}.${digits.slice(1) || '0'}e${exp}`;
  // scientific when it is shorter, and always from 2^53 on
  if (Math.abs(x) >= 2 ** 53) return sign + scientific;
  const place = exp + 1;
  const plain =
    place <= 0
      ? `0.${'0'.repeat(-place)}${digits}`
      : place >= digits.length
        ? `${digits}${'0'.repeat(place - digits.length)}.0`
        : `${digits.slice(0, place)}.${digits.slice(place)}`;
  return sign + (plain.length <= scientific.length ? plain : scientific);
}

/** A binary as Erlang's ~p prints it: <<"text">> when printable, <<1,2,3>> otherwise. */
function erlangBinary(b: Buffer): string {
  const printable = [...b].every((c) => (c >= 32 && c < 127) || (c >= 160 && c <= 255) || c === 10 || c === 9);
  if (!printable) return `<<${[...b].join(',')}>>`;
  return `<<"${b
    .toString('latin1')
    .replace(/["\\]/g, (c) => `\\${c}`)
    .replace(/\n/g, '\\n')
    .replace(/\t/g, '\\t')}">>`;
}

/** A field value's Erlang term as ~p prints it (short terms; ~p's line breaking of long ones is not reproduced). */
function erlangTerm(v: FieldValue): string {
  switch (v.type) {
    case 't':
      return String(v.value);
    case 'f':
    case 'd':
      return erlangFloat(v.value);
    case 'D':
      return `{${v.value.places},${v.value.digits}}`;
    case 'S':
    case 'x':
      return erlangBinary(bytesOf(v));
    case 'V':
      return 'undefined';
    case 'A':
      return `[${v.value.map((x) => `{${TYPE_NAMES[x.type]},${erlangTerm(x)}}`).join(',')}]`;
    case 'F':
      return `[${[...v.value].map(([k, x]) => `{${erlangBinary(Buffer.from(k))},${TYPE_NAMES[x.type]},${erlangTerm(x)}}`).join(',')}]`;
    default:
      return String(v.value);
  }
}

/** A value in RabbitMQ's equivalence messages: a string's text as is, any other term as ~p prints it. */
function show(value: FieldValue): string {
  return value.type === 'S' || value.type === 'x' ? bytesOf(value).toString() : erlangTerm(value);
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
