import type { BasicProperties, FieldTable, FieldValue } from '@warren/amqp-protocol';
import type { DeadLetterReason } from '../queue/queue';

/**
 * Rewrites a message's properties the way RabbitMQ 3.10 does when it dead-letters it from a queue:
 * - `x-death` is an array of tables, one per (queue, reason), newest first; dying again in the same queue for
 *   the same reason increments that entry's `count` and moves it to the front.
 * - the first death also sets `x-first-death-reason`, `-queue` and `-exchange`.
 * - a per-message `expiration` is removed (so the message does not expire again in the next queue) and kept
 *   in the entry as `original-expiration`.
 */
export function deadLetterProperties(
  props: BasicProperties,
  queue: string,
  reason: DeadLetterReason,
  exchange: string,
  routingKeys: string[],
  now: number,
): BasicProperties {
  const headers: FieldTable = new Map(props.headers ?? []);
  const deaths = headers.get('x-death');
  const existing = deaths?.type === 'A' ? deaths.value : undefined;

  const isSame = (entry: FieldValue) =>
    entry.type === 'F' &&
    entry.value.get('queue')?.value === queue &&
    entry.value.get('reason')?.value === reason;

  let entry: FieldValue;
  const match = existing?.find(isSame);
  if (match && match.type === 'F') {
    const table = new Map(match.value);
    const count = table.get('count');
    table.set('count', { type: 'l', value: (typeof count?.value === 'number' ? count.value : 0) + 1 });
    entry = { type: 'F', value: sortTable(table) };
  } else {
    const table: FieldTable = new Map<string, FieldValue>([
      ['count', { type: 'l', value: 1 }],
      ['reason', { type: 'S', value: reason }],
      ['queue', { type: 'S', value: queue }],
      ['time', { type: 'T', value: Math.floor(now / 1000) }],
      ['exchange', { type: 'S', value: exchange }],
      ['routing-keys', { type: 'A', value: routingKeys.map((key) => ({ type: 'S', value: key }) as FieldValue) }],
    ]);
    if (props.expiration !== undefined) table.set('original-expiration', { type: 'S', value: props.expiration });
    entry = { type: 'F', value: existing ? sortTable(table) : table };
  }

  if (!existing) {
    headers.set('x-first-death-reason', { type: 'S', value: reason });
    headers.set('x-first-death-queue', { type: 'S', value: queue });
    headers.set('x-first-death-exchange', { type: 'S', value: exchange });
  }
  headers.set('x-death', { type: 'A', value: [entry, ...(existing ?? []).filter((e) => e !== match)] });

  const next: BasicProperties = { ...props, headers: sortTable(headers) };
  delete next.expiration;
  return next;
}

/** RabbitMQ keeps tables it rewrites sorted by key. */
function sortTable(table: FieldTable): FieldTable {
  return new Map([...table].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * Dead-lettering a message back into a queue it already died in is a cycle, and RabbitMQ drops it unless a
 * client rejected it somewhere along the way (then it is a deliberate retry loop, not a cycle).
 */
export function isDeadLetterCycle(props: BasicProperties, queue: string): boolean {
  const deaths = props.headers?.get('x-death');
  if (deaths?.type !== 'A') return false;
  let seen = false;
  for (const entry of deaths.value) {
    if (entry.type !== 'F') continue;
    if (entry.value.get('reason')?.value === 'rejected') return false;
    if (entry.value.get('queue')?.value === queue) seen = true;
  }
  return seen;
}
