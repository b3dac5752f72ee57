import { useState, type FormEvent } from 'react';
import { MAX_QUANTITY, PlaceOrderRequest, type Order, type StockLine } from '../../../src/contracts/orders';
import { api } from '../api';
import { money, shortId } from './orders-list';

/**
 * Places an order through POST /api/orders: a customer, a SKU from the live stock (typed in when inventory
 * cannot be reached) and a quantity. The body is checked with the server's own schema first, so every problem
 * shows at once without a round trip; what the server or the orders service refuses shows next to the form.
 */
export function PlaceOrderForm({ stock, onPlaced }: { stock?: StockLine[]; onPlaced(order: Order): void }) {
  const [email, setEmail] = useState('ada@example.com');
  const [sku, setSku] = useState('');
  const [quantity, setQuantity] = useState('1');
  const [problems, setProblems] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const [placed, setPlaced] = useState<Order | undefined>();

  // the first SKU in stock until one is chosen
  const chosenSku = sku || stock?.find((s) => s.available > 0)?.sku || stock?.[0]?.sku || '';

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const body = { customerEmail: email.trim(), items: [{ sku: chosenSku.trim(), quantity: Number(quantity) }] };
    const checked = PlaceOrderRequest.safeParse(body);
    if (!checked.success) {
      setProblems(checked.error.issues.map((i) => `${label(i.path.join('.'))}: ${i.message}`));
      return;
    }
    setBusy(true);
    setProblems([]);
    try {
      const order = await api<Order>('POST', '/api/orders', checked.data);
      setPlaced(order);
      onPlaced(order);
    } catch (err) {
      setProblems([(err as Error).message]);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      className="orders-form"
      data-form="place-order"
      aria-labelledby="place-order-heading"
      onSubmit={(e) => void submit(e)}
      noValidate
    >
      <h3 id="place-order-heading">Place an order</h3>
      <div className="orders-form-fields">
        <label>
          Customer email
          <input
            type="email"
            name="customerEmail"
            autoComplete="off"
            required
            value={email}
            onChange={(e) => setEmail(e.target.value)}
          />
        </label>
        <label>
          SKU
          {stock?.length ? (
            <select name="sku" value={chosenSku} onChange={(e) => setSku(e.target.value)}>
              {stock.map((s) => (
                <option key={s.sku} value={s.sku}>
                  {s.sku} {s.name} ({money(s.unitPrice)}, {s.available} available)
                </option>
              ))}
            </select>
          ) : (
            <input name="sku" placeholder="SKU-001" required value={sku} onChange={(e) => setSku(e.target.value)} />
          )}
        </label>
        <label>
          Quantity
          <input
            type="number"
            name="quantity"
            inputMode="numeric"
            min={1}
            max={MAX_QUANTITY}
            step={1}
            required
            value={quantity}
            onChange={(e) => setQuantity(e.target.value)}
          />
        </label>
        <button type="submit" disabled={busy} aria-busy={busy}>
          Place order
        </button>
      </div>
      <div className="orders-form-outcome" aria-live="polite">
        {problems.length ? (
          <ul className="error" data-form-errors>
            {problems.map((p) => (
              <li key={p}>{p}</li>
            ))}
          </ul>
        ) : placed ? (
          <p data-placed-order={placed.id}>
            Placed order <code title={placed.id}>{shortId(placed.id)}</code> ({placed.status}) for{' '}
            {placed.customerEmail}.
          </p>
        ) : null}
      </div>
    </form>
  );
}

/** A problem's path in the form's words. */
function label(path: string): string {
  if (path === 'customerEmail') return 'Customer email';
  if (/^items\.\d+\.sku$/.test(path)) return 'SKU';
  if (/^items\.\d+\.quantity$/.test(path)) return 'Quantity';
  return path || 'order';
}
