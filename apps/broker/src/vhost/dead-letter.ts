import type { BasicProperties, FieldTable, FieldValue } from '@warren/amqp-protocol';
import { ccKeys, type Message } from '../message';
import type { DeadLetterReason } from '../queue/queue';

/**
 * The copy of a message that died in `queue`, to publish to the dead-letter exchange `exchange`, and the extra
 * routing keys it goes with. As RabbitMQ 3.10 (rabbit_dead_letter:make_msg) does with sender-selected
 * distribution:
 * - without a dead-letter routing key the copy is routed by every key the original was: its routing key, its
 *   CC keys (the header stays) and its BCC keys (whose header was removed at publish; they stay with the copy,
 *   so a further dead-lettering routes by them again);
 * - with one, by that key alone, and the CC header is removed;
 * - either way x-death's routing-keys are the routing key and the CC keys, never the BCC ones.
 */
export function deadLetterMessage(
  message: Message,
  queue: string,
  reason: DeadLetterReason,
  exchange: string,
  routingKey: string | undefined,
  now: number,
): { dead: Message; extraKeys: string[] | undefined } {
  const cc = ccKeys(message);
  const dead = message.clone(exchange, routingKey ?? message.routingKey);
  const props = deadLetterProperties(
    message.properties,
    queue,
    reason,
    message.exchange,
    [message.routingKey, ...cc],
    now,
  );
  if (routingKey !== undefined) {
    props.headers?.delete('CC');
    dead.properties = props;
    return { dead, extraKeys: undefined };
  }
  dead.properties = props;
  dead.bcc = message.bcc;
  const extraKeys = [...cc, ...(message.bcc ?? [])];
  return { dead, extraKeys: extraKeys.length > 0 ? extraKeys : undefined };
}

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
    entry.type === 'F' && entry.value.get('queue')?.value === queue && entry.value.get('reason')?.value === reason;

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
