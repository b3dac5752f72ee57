import { useEffect, useState } from 'react';
import type { Order, OrderPage, StockLine } from '../../../src/contracts/orders';
import { api } from '../api';
import { liveData } from './charts-live-data';
import type { Live } from '../stream';
import { PlaceOrderForm } from './orders-form';
import { OrdersList } from './orders-list';
import { OrderTimeline } from './orders-timeline';
import { OrderTraceSection } from './orders-trace';
import './orders-view.css';

/**
 * The selected order with its history (GET /api/orders/:id), read when it is selected and again whenever the
 * live list says it changed (its status or updatedAt): the list is already polled once for every browser, so
 * the view keeps no timer of its own. A just-placed order is shown as POST answered it until the read returns.
 */
function useOrderDetail(
  id: string | undefined,
  version: string,
  placed: Order | undefined,
): { order?: Order; error?: string } {
  const [state, setState] = useState<{ id?: string; order?: Order; error?: string }>({});
  useEffect(() => {
    if (!id) return;
    let current = true;
    api<Order>('GET', `/api/orders/${id}`).then(
      (order) => current && setState({ id, order }),
      (err: Error) =>
        current && setState((prev) => ({ id, order: prev.id === id ? prev.order : undefined, error: err.message })),
    );
    return () => {
      current = false;
    };
  }, [id, version]);
  if (!id) return {};
  if (state.id === id) return { order: state.order, error: state.error };
  return { order: placed?.id === id ? placed : undefined };
}

/** The live orders, one order's saga as a timeline and its trace as a waterfall, and a form to place one. */
export function OrdersView({ live }: { live: Live }) {
  const { data: page, note } = liveData<OrderPage>(live.orders, 'the orders service');
  const orders = [...(page?.items ?? [])].sort(
    (a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt) || b.id.localeCompare(a.id),
  );
  const stock =
    live.stock?.status === 'ok' && Array.isArray(live.stock.data) ? (live.stock.data as StockLine[]) : undefined;

  const [selected, setSelected] = useState<string | undefined>();
  const [placed, setPlaced] = useState<Order | undefined>();
  const inList = orders.find((o) => o.id === selected);
  const detail = useOrderDetail(selected, inList ? `${inList.status}|${inList.updatedAt}` : '', placed);

  const onPlaced = (order: Order) => {
    setPlaced(order);
    setSelected(order.id);
  };

  return (
    <div className="orders-view">
      <PlaceOrderForm stock={stock} onPlaced={onPlaced} />
      <div className="orders-panes">
        <section className="orders-list-pane" aria-labelledby="orders-list-heading">
          <h3 id="orders-list-heading">
            Orders
            {page ? (
              <small>
                {' '}
                ({page.total} in all, the latest {Math.min(page.limit, orders.length)} shown)
              </small>
            ) : null}
          </h3>
          {note}
          {page && !orders.length ? <p>No orders yet: place one above.</p> : null}
          {orders.length ? <OrdersList orders={orders} selected={selected} onSelect={setSelected} /> : null}
        </section>
        <section className="orders-detail-pane" aria-label="Saga timeline">
          {detail.error ? <p className="error">{detail.error}</p> : null}
          {detail.order ? (
            <OrderTimeline order={detail.order} />
          ) : selected ? (
            <p aria-busy="true">Reading order…</p>
          ) : (
            <p>Select an order to see its saga step by step.</p>
          )}
        </section>
      </div>
      {selected ? <OrderTraceSection orderId={selected} live={live} /> : null}
    </div>
  );
}
