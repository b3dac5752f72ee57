import type { Overflow, QueueSettings } from '../queue/queue-arguments';

/**
 * RabbitMQ's policies, for the keys it applies to classic and quorum queues and to exchanges. A policy matches
 * objects of its `apply-to` kind whose name its pattern matches (unanchored, as RabbitMQ's re:run); of several,
 * the one with the highest priority applies, alone. Where a queue argument names the same setting, the lower of the
 * two wins for limits and TTLs and the argument wins otherwise (RabbitMQ's rules); max-priority cannot be set by
 * policy.
 */
export interface Policy {
  name: string;
  pattern: string;
  applyTo: 'queues' | 'exchanges' | 'all';
  priority: number;
  definition: Record<string, unknown>;
}

const NON_NEGATIVE = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const STRING = (v: unknown) => typeof v === 'string';
const KEYS: Record<string, { check: (v: unknown) => boolean; expected: string; kind: 'queues' | 'exchanges' }> = {
  'message-ttl': { check: NON_NEGATIVE, expected: 'a non-negative integer', kind: 'queues' },
  expires: { check: (v) => NON_NEGATIVE(v) && (v as number) > 0, expected: 'a positive integer', kind: 'queues' },
  'max-length': { check: NON_NEGATIVE, expected: 'a non-negative integer', kind: 'queues' },
  'max-length-bytes': { check: NON_NEGATIVE, expected: 'a non-negative integer', kind: 'queues' },
  overflow: {
    check: (v) => v === 'drop-head' || v === 'reject-publish' || v === 'reject-publish-dlx',
    expected: 'drop-head, reject-publish or reject-publish-dlx',
    kind: 'queues',
  },
  'dead-letter-exchange': { check: STRING, expected: 'a string', kind: 'queues' },
  'dead-letter-routing-key': { check: STRING, expected: 'a string', kind: 'queues' },
  // quorum queues' keys (classic queues ignore them, as RabbitMQ's do)
  'dead-letter-strategy': {
    check: (v) => v === 'at-most-once' || v === 'at-least-once',
    expected: 'at-most-once or at-least-once',
    kind: 'queues',
  },
  'delivery-limit': { check: NON_NEGATIVE, expected: 'a non-negative integer', kind: 'queues' },
  'max-in-memory-length': { check: NON_NEGATIVE, expected: 'a non-negative integer', kind: 'queues' },
  'max-in-memory-bytes': { check: NON_NEGATIVE, expected: 'a non-negative integer', kind: 'queues' },
  'alternate-exchange': { check: STRING, expected: 'a string', kind: 'exchanges' },
};

/** What is wrong with a policy's fields, or undefined (RabbitMQ answers these with 400). */
export function policyProblem(p: {
  pattern: unknown;
  applyTo: unknown;
  priority: unknown;
  definition: unknown;
}): string | undefined {
  if (typeof p.pattern !== 'string') return 'pattern must be a string';
  try {
    new RegExp(p.pattern, 'u');
  } catch {
    return `pattern '${p.pattern}' is not a valid regular expression`;
  }
  if (p.applyTo !== 'queues' && p.applyTo !== 'exchanges' && p.applyTo !== 'all')
    return 'apply-to must be queues, exchanges or all';
  if (typeof p.priority !== 'number' || !Number.isInteger(p.priority)) return 'priority must be an integer';
  if (typeof p.definition !== 'object' || p.definition === null || Array.isArray(p.definition))
    return 'definition must be an object';
  const keys = Object.keys(p.definition);
  if (keys.length === 0) return 'definition must not be empty';
  for (const key of keys) {
    // own keys only: a definition's '__proto__' or 'constructor' would find Object's (a 500 before)
    const rule = Object.hasOwn(KEYS, key) ? KEYS[key] : undefined;
    if (!rule) return `unrecognised key '${key}' in the definition (supported: ${Object.keys(KEYS).join(', ')})`;
    if (!rule.check((p.definition as Record<string, unknown>)[key])) return `${key} must be ${rule.expected}`;
  }
  return undefined;
}

/** The policy that applies to an object, if any. */
export function effectivePolicy(
  policies: Iterable<Policy>,
  kind: 'queues' | 'exchanges',
  name: string,
): Policy | undefined {
  let best: Policy | undefined;
  for (const policy of policies) {
    if (policy.applyTo !== 'all' && policy.applyTo !== kind) continue;
    if (!new RegExp(policy.pattern, 'u').test(name)) continue;
    if (!best || policy.priority > best.priority) best = policy;
  }
  return best;
}

/** The part of a policy's definition that applies to objects of `kind`. */
export function definitionFor(policy: Policy | undefined, kind: 'queues' | 'exchanges'): Record<string, unknown> {
  if (!policy) return {};
  return Object.fromEntries(Object.entries(policy.definition).filter(([key]) => KEYS[key]?.kind === kind));
}

const lower = (a: number | undefined, b: unknown) => (typeof b !== 'number' ? a : a === undefined ? b : Math.min(a, b));

/**
 * A queue's settings from its arguments and the policy that applies to it. A quorum queue resolves two keys the
 * other way round (rabbit_quorum_queue:ra_machine_config): the policy's overflow and expires win over the
 * arguments'. Its delivery limit is the lower of the two, its dead-letter strategy the argument's if it has one.
 */
export function withPolicy(declared: QueueSettings, definition: Record<string, unknown>): QueueSettings {
  const quorum = declared.type === 'quorum';
  const overflow = definition.overflow as Overflow | undefined;
  const expires = definition.expires as number | undefined;
  return {
    ...declared,
    messageTtl: lower(declared.messageTtl, definition['message-ttl']),
    expires: quorum ? (expires ?? declared.expires) : lower(declared.expires, expires),
    maxLength: lower(declared.maxLength, definition['max-length']),
    maxLengthBytes: lower(declared.maxLengthBytes, definition['max-length-bytes']),
    overflow: quorum
      ? (overflow ?? declared.overflow)
      : declared.overflowDeclared
        ? declared.overflow
        : (overflow ?? declared.overflow),
    deadLetterExchange: declared.deadLetterExchange ?? (definition['dead-letter-exchange'] as string | undefined),
    deadLetterRoutingKey:
      declared.deadLetterRoutingKey ?? (definition['dead-letter-routing-key'] as string | undefined),
    deliveryLimit: lower(declared.deliveryLimit, definition['delivery-limit']),
    deadLetterStrategy:
      declared.deadLetterStrategy ?? (definition['dead-letter-strategy'] as QueueSettings['deadLetterStrategy']),
  };
}
