import { money } from './ledger-payments';

/** One SKU of inventory's `GET /stock`, price in cents. */
export interface StockLevel {
  sku: string;
  name: string;
  unitPrice: number;
  available: number;
  reserved: number;
}

/** At or under this many free units a SKU is marked low (the demo's limited roast starts there). */
export const LOW_STOCK = 5;

/** Stock levels per SKU, with a mark on those running out. */
export function StockTable({ levels }: { levels: StockLevel[] }) {
  if (!levels.length) return <p>The catalogue is empty.</p>;
  return (
    <div className="overflow-auto">
      <table className="striped stack-on-phone">
        <thead>
          <tr>
            <th scope="col">SKU</th>
            <th scope="col">Name</th>
            <th scope="col">Price</th>
            <th scope="col">Available</th>
            <th scope="col">Reserved</th>
          </tr>
        </thead>
        <tbody>
          {levels.map((s) => {
            const low = s.available <= LOW_STOCK;
            return (
              <tr
                key={s.sku}
                data-sku={s.sku}
                data-available={s.available}
                data-reserved={s.reserved}
                data-low={low || undefined}
              >
                <td data-label="SKU">
                  <code>{s.sku}</code>
                </td>
                <td data-label="Name">{s.name}</td>
                <td className="num" data-label="Price">
                  {money(s.unitPrice)}
                </td>
                <td className="num" data-label="Available">
                  {s.available}
                  {low ? <span className="low-stock">{s.available === 0 ? 'out of stock' : 'low'}</span> : null}
                </td>
                <td className="num" data-label="Reserved">
                  {s.reserved}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
