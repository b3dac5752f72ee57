import type { Live } from '../stream';

/** Placeholder: orders, each order's saga timeline, and a form to place one (issue 13). */
export function OrdersView({ live }: { live: Live }) {
  void live;
  return <p>Coming soon: orders, each order's saga timeline, and a form to place one.</p>;
}
