import type { ParkedMessage } from './parked-message';

// How the CLI shows parked messages to a person: one line each, the columns an operator triages by.

const MAX = { id: 40, type: 32, error: 70 };

export function formatTable(messages: ParkedMessage[]): string {
  const rows = messages.map((m) => [
    clip(m.messageId ?? '-', MAX.id),
    clip(m.type ?? '-', MAX.type),
    m.reason ?? '-',
    m.attempts === undefined ? '-' : String(m.attempts),
    m.deadLetteredAt ? shortTime(m.deadLetteredAt) : '-',
    clip(errorLine(m), MAX.error),
  ]);
  const header = ['MESSAGE ID', 'TYPE', 'REASON', 'ATTEMPTS', 'DEAD-LETTERED AT', 'ERROR'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [header, ...rows].map((cells) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd()).join('\n');
}

/** `n message(s)` with the right noun. */
export const messages = (n: number): string => `${n} message${n === 1 ? '' : 's'}`;

function errorLine(m: ParkedMessage): string {
  if (!m.error) return '-';
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
      return b && typeof b === 'object' && b.type === 'Buffer' && Array.isArray(b.data) ? Buffer.from(b.data as number[]).toString('base64') : v;
    },
    2,
  );
}
