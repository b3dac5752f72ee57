import type { Live } from '../stream';

/** Placeholder: the payment ledger and stock levels (issue 13). */
export function LedgerView({ live }: { live: Live }) {
  void live;
  return <p>Coming soon: the payment ledger and stock levels.</p>;
}
