import type { ParkedMessage } from './parked-message';

// How the CLI shows parked messages to a person: one line each, the columns an operator triages by.

const MAX = { id: 40, type: 32, error: 70 };

export function formatTable(messages: ParkedMessage[]): string {
  const rows = messages.map((m) => [
    clip(m.messageId ?? '-', MAX.id),
    clip(m.type ?? '-', MAX.type),
    m.reason ?? '-',
    m.attempts === undefined ? '-' : String(m.attempts),
    deliveries(m),
    m.deadLetteredAt ? shortTime(m.deadLetteredAt) : '-',
    clip(errorLine(m), MAX.error),
  ]);
  const header = ['MESSAGE ID', 'TYPE', 'REASON', 'ATTEMPTS', 'DELIVERIES', 'DEAD-LETTERED AT', 'ERROR'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [header, ...rows]
    .map((cells) =>
      cells
        .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** `n message(s)` with the right noun. */
export const messages = (n: number): string => `${n} message${n === 1 ? '' : 's'}`;

/**
 * Deliveries without a settle, for a delivery_limit parking: the consumer's count (classic queues), else what the
 * broker recorded: `x-death ×n` (how often the broker dead-lettered it; RabbitMQ writes no delivery count on it).
 */
function deliveries(m: ParkedMessage): string {
  if (m.deliveries !== undefined) return String(m.deliveries);
  const death = m.reason === undefined ? undefined : m.deaths.find((d) => d.reason === m.reason);
  return death?.count !== undefined ? `x-death ×${death.count}` : '-';
}

function errorLine(m: ParkedMessage): string {
  if (!m.error) {
    const death = m.deaths[0];
    // parked by the broker: no error of ours, but where it came from
    return death?.reason && death.reason === m.reason
      ? `dead-lettered by the broker from '${death.queue ?? '?'}' (${death.reason})`
      : '-';
  }
  const text = [m.error.name, m.error.message].filter(Boolean).join(': ');
  return text.replace(/\s+/g, ' ');
}

/** 2025-06-01T10:00:05.123Z → 2025-06-01 10:00:05Z; anything else as is. */
function shortTime(iso: string): string {
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.\d+)?Z$/.exec(iso);
  return m ? `${m[1]} ${m[2]}Z` : iso;
}

function clip(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** JSON.stringify for output: header byte arrays as base64 rather than Node's { type, data } shape. */
export function toJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_key, v: unknown) => {
      const b = v as { type?: unknown; data?: unknown };
      return b && typeof b === 'object' && b.type === 'Buffer' && Array.isArray(b.data)
        ? Buffer.from(b.data as number[]).toString('base64')
        : v;
    },
    2,
  );
}
