/** One line of payments' `GET /payments` (apps/payments, LedgerEntry): a capture or a refund, amounts in cents. */
export interface LedgerEntry {
  id: string;
  kind: 'capture' | 'refund';
  orderId: string;
  paymentId: string;
  amount: number;
  at: string;
  status?: string;
  customerEmail?: string;
  reason?: string;
  /** For a capture: the payments instance that made it (payments, payments-2 …), when recorded. */
  instance?: string;
}

interface PaymentRow {
  paymentId: string;
  capture?: LedgerEntry;
  refunds: LedgerEntry[];
}

export const money = (cents: number) => `$${(cents / 100).toFixed(2)}`;
const time = (iso: string) => new Date(iso).toLocaleTimeString();
const short = (id: string) => (id.length > 8 ? `${id.slice(0, 8)}…` : id);

/** A row per payment, newest first, its refunds beside it (a refund of a capture older than the page has a row of its own). */
function rows(entries: LedgerEntry[]): PaymentRow[] {
  const byPayment = new Map<string, PaymentRow>();
  for (const e of entries) {
    const row = byPayment.get(e.paymentId) ?? { paymentId: e.paymentId, refunds: [] };
    if (e.kind === 'capture') row.capture = e;
    else row.refunds.push(e);
    byPayment.set(e.paymentId, row);
  }
  return [...byPayment.values()];
}

/** The payments ledger: captures with their refunds, and the money in, out and kept. */
export function PaymentsTable({ entries }: { entries: LedgerEntry[] }) {
  const captured = entries.filter((e) => e.kind === 'capture').reduce((n, e) => n + e.amount, 0);
  const refunded = entries.filter((e) => e.kind === 'refund').reduce((n, e) => n + e.amount, 0);
  const payments = rows(entries);
  if (!payments.length) return <p>No payment yet.</p>;
  return (
    <>
      <p data-ledger-captured={captured} data-ledger-refunded={refunded}>
        Captured {money(captured)}, refunded {money(refunded)}, kept {money(captured - refunded)} (the latest{' '}
        {entries.length} ledger entries).
      </p>
      <div className="overflow-auto">
        <table className="striped stack-on-phone">
          <thead>
            <tr>
              <th scope="col">Payment</th>
              <th scope="col">Order</th>
              <th scope="col">Amount</th>
              <th scope="col">Status</th>
              <th scope="col">When</th>
              <th scope="col">Refunds</th>
            </tr>
          </thead>
          <tbody>
            {payments.map(({ paymentId, capture, refunds }) => {
              const orderId = capture?.orderId ?? refunds[0]?.orderId ?? '';
              const status = capture?.status ?? 'REFUNDED';
              return (
                <tr key={paymentId} data-payment-id={paymentId} data-order-id={orderId} data-status={status}>
                  <td data-label="Payment">
                    <code title={paymentId}>{short(paymentId)}</code>
                    {capture?.instance ? (
                      <small className="instance" data-instance={capture.instance}>
                        by {capture.instance}
                      </small>
                    ) : null}
                  </td>
                  <td data-label="Order">
                    <code title={orderId}>{short(orderId)}</code>
                  </td>
                  <td className="num" data-label="Amount">
                    {capture ? money(capture.amount) : '—'}
                  </td>
                  <td data-label="Status">
                    <span className={`status status-${status.toLowerCase()}`}>{status.toLowerCase()}</span>
                  </td>
                  <td data-label="When">
                    {capture ? <time dateTime={capture.at}>{time(capture.at)}</time> : <small>captured earlier</small>}
                  </td>
                  <td data-label="Refunds">
                    {refunds.length
                      ? refunds.map((r) => (
                          <div key={r.id} data-refund-id={r.id}>
                            −{money(r.amount)} at <time dateTime={r.at}>{time(r.at)}</time>
                            {r.reason ? <small> ({r.reason})</small> : null}
                          </div>
                        ))
                      : '—'}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </>
  );
}
