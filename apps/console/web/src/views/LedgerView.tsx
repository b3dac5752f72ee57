import type { Live } from '../stream';
import { liveData } from './charts-live-data';
import { PaymentsTable, type LedgerEntry } from './ledger-payments';
import { StockTable, type StockLevel } from './ledger-stock';
import './charts-tables.css';
import './ledger-view.css';

/** Money and goods, live: the payments ledger (latest 50 entries) and every SKU's stock. */
export function LedgerView({ live }: { live: Live }) {
  const payments = liveData<LedgerEntry[]>(live.payments, 'payments');
  const stock = liveData<StockLevel[]>(live.stock, 'inventory');
  return (
    <div className="ledger">
      <section aria-labelledby="ledger-payments">
        <h3 id="ledger-payments">Payments</h3>
        {payments.note}
        {payments.data ? <PaymentsTable entries={payments.data} /> : null}
      </section>
      <section aria-labelledby="ledger-stock">
        <h3 id="ledger-stock">Stock</h3>
        {stock.note}
        {stock.data ? <StockTable levels={stock.data} /> : null}
      </section>
    </div>
  );
}
