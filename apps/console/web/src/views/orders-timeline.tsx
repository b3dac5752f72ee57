import { Fragment } from 'react';
import type { MessageRef, Order, OrderStep } from '../../../src/contracts/orders';
import { money, shortId, StatusBadge } from './orders-list';

/** Fields of a step shown in their own places; any other detail is listed under the step. */
const SHOWN = new Set(['step', 'at', 'message', 'via', 'sent', 'compensation', 'items', 'reason']);

const VIA: Record<string, string> = {
  http: 'POST /orders (HTTP, no message)',
  deadline: 'the saga deadline (no answer in time)',
};

/** hh:mm:ss.mmm in the browser's time zone. */
const clock = (iso: string) =>
  new Date(iso).toLocaleTimeString('en-GB', {
    hour12: false,
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    fractionalSecondDigits: 3,
  });

function Message({ m }: { m: MessageRef }) {
  return (
    <span className="orders-message" data-message-type={m.type} data-message-id={m.messageId}>
      <code className="orders-message-type">{m.type}</code>
      <span>
        id <code>{m.messageId}</code>
      </span>
      {m.correlationId ? (
        <span>
          correlation <code>{m.correlationId}</code>
        </span>
      ) : null}
    </span>
  );
}

function detailText(value: unknown): string {
  if (Array.isArray(value) && value.every((v) => typeof v !== 'object')) return value.join(', ');
  return typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
}

function Step({ s, placedAt }: { s: OrderStep; placedAt: number }) {
  const since = Date.parse(s.at) - placedAt;
  const items = Array.isArray(s.items) ? (s.items as Array<{ sku: string; quantity: number }>) : undefined;
  const extra = Object.entries(s).filter(([k, v]) => !SHOWN.has(k) && v !== undefined);
  return (
    <li
      data-step={s.step}
      data-compensation={s.compensation ? 'true' : undefined}
      className={s.compensation ? 'compensation' : undefined}
    >
      <div className="orders-step-head">
        <strong>{s.step}</strong>
        {s.compensation ? <span className="orders-compensation">compensation</span> : null}
        <time dateTime={s.at}>{clock(s.at)}</time>
        <span className="orders-since">+{since} ms</span>
      </div>
      <dl className="orders-step-facts">
        <dt>driven by</dt>
        <dd data-driven-by>{s.message ? <Message m={s.message} /> : (VIA[s.via ?? ''] ?? s.via ?? '–')}</dd>
        <dt>sent</dt>
        <dd data-sent>
          {s.sent?.length ? (
            <ul>
              {s.sent.map((m) => (
                <li key={m.messageId}>
                  <Message m={m} />
                </li>
              ))}
            </ul>
          ) : (
            'nothing'
          )}
        </dd>
        {items ? (
          <>
            <dt>items</dt>
            <dd>{items.map((i) => `${i.quantity} × ${i.sku}`).join(', ')}</dd>
          </>
        ) : null}
        {typeof s.reason === 'string' ? (
          <>
            <dt>reason</dt>
            <dd>{s.reason}</dd>
          </>
        ) : null}
        {extra.map(([k, v]) => (
          <Fragment key={k}>
            <dt>{k}</dt>
            <dd>{k === 'total' || k === 'amount' ? money(v as number) : detailText(v)}</dd>
          </Fragment>
        ))}
      </dl>
    </li>
  );
}

/** One order's saga, oldest step first: when, what drove it, what it sent, compensations marked, then where it ended. */
export function OrderTimeline({ order }: { order: Order }) {
  const history = order.history ?? [];
  const placedAt = Date.parse(history.find((h) => h.step === 'PLACED')?.at ?? order.createdAt);
  return (
    <article
      className="orders-detail"
      data-order-detail={order.id}
      data-status={order.status}
      aria-labelledby="orders-detail-heading"
    >
      <header>
        <h3 id="orders-detail-heading">
          Order <code title={order.id}>{shortId(order.id)}</code> <StatusBadge status={order.status} />
        </h3>
        <p className="orders-detail-facts">
          {order.customerEmail} · {order.items.map((i) => `${i.quantity} × ${i.sku}`).join(', ')} · total{' '}
          {money(order.total)}
          {order.paymentId ? (
            <>
              {' '}
              · payment <code>{order.paymentId}</code>
            </>
          ) : null}
        </p>
      </header>
      <ol className="orders-timeline" aria-label="Saga steps">
        {history.map((s, i) => (
          <Step key={`${i}-${s.step}`} s={s} placedAt={placedAt} />
        ))}
      </ol>
      <p className="orders-final" data-final-status={order.status}>
        {order.status === 'PENDING' ? 'Still running: ' : 'Final: '}
        <StatusBadge status={order.status} />
        {order.reason ? <span data-reason> {order.reason}</span> : null}
      </p>
    </article>
  );
}
