import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import type { Order, OrderStatus } from '../../../src/contracts/orders';

/** The first 8 hex digits: enough to tell orders apart on one screen (the full id is in the title). */
export const shortId = (id: string) => id.slice(0, 8);

/** Cents as an amount with two decimals (the platform has one currency and never names it). */
export const money = (cents: number | undefined) => (cents === undefined ? '–' : (cents / 100).toFixed(2));

/** How long ago, in the largest unit that fits: 12s, 3m, 2h, 4d. */
export function age(iso: string, now: number): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

/** The time now, again every `everyMs`: ages move on although the live list only speaks when it changes. */
function useNow(everyMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}

export function StatusBadge({ status }: { status: OrderStatus }) {
  return (
    <span className="orders-badge" data-badge={status}>
      {status}
    </span>
  );
}

/**
 * The orders, newest first, one button each: click, Enter or Space selects one; the arrow keys (and Home/End)
 * move the selection along the list, so the timelines can be read one after the other from the keyboard.
 */
export function OrdersList({
  orders,
  selected,
  onSelect,
}: {
  orders: Order[];
  selected?: string;
  onSelect(id: string): void;
}) {
  const now = useNow(1000);
  const list = useRef<HTMLUListElement>(null);

  const onKeyDown = (e: KeyboardEvent<HTMLUListElement>) => {
    if (!orders.length || !['ArrowDown', 'ArrowUp', 'Home', 'End'].includes(e.key)) return;
    e.preventDefault();
    const at = orders.findIndex((o) => o.id === selected);
    const next =
      e.key === 'Home'
        ? 0
        : e.key === 'End'
          ? orders.length - 1
          : Math.min(orders.length - 1, Math.max(0, at + (e.key === 'ArrowDown' ? 1 : -1)));
    const id = orders[at === -1 ? 0 : next].id;
    onSelect(id);
    list.current?.querySelector<HTMLButtonElement>(`[data-order-id="${id}"] button`)?.focus();
  };

  return (
    <ul className="orders-list" ref={list} onKeyDown={onKeyDown} aria-label="Orders, newest first">
      {orders.map((o) => (
        <li key={o.id} data-order-id={o.id} data-status={o.status}>
          <button type="button" aria-pressed={o.id === selected} title={o.id} onClick={() => onSelect(o.id)}>
            <code className="orders-id">{shortId(o.id)}</code>
            <span className="orders-customer">{o.customerEmail}</span>
            <StatusBadge status={o.status} />
            <span className="orders-total">{money(o.total)}</span>
            <time className="orders-age" dateTime={o.createdAt} title={new Date(o.createdAt).toLocaleString()}>
              {age(o.createdAt, now)}
            </time>
          </button>
        </li>
      ))}
    </ul>
  );
}
