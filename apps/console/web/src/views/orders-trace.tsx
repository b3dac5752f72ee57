import { Fragment, useEffect, useState } from 'react';
import type { AttributeValue, OrderTraces, Trace, TraceReceiverState, TraceSpan } from '../../../src/contracts/traces';
import { api } from '../api';
import type { Live } from '../stream';
import './orders-trace.css';

/** A colour per service: the platform's own first, then a few more for anything else that exports to the console. */
const SERVICE_COLOURS: Record<string, string> = {
  orders: '#4f46e5',
  inventory: '#0d9488',
  payments: '#c2410c',
  notifications: '#be185d',
  analytics: '#65a30d',
};
const MORE_COLOURS = ['#0369a1', '#7c3aed', '#a16207', '#475569'];

function colourOf(service: string): string {
  if (SERVICE_COLOURS[service]) return SERVICE_COLOURS[service];
  let h = 0;
  for (const c of service) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return MORE_COLOURS[h % MORE_COLOURS.length];
}

/** Milliseconds as people read them: 0.04 ms, 7.25 ms, 19.4 ms, 176 ms, 2.35 s. */
export function formatMs(ms: number): string {
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 100) return `${Math.round(ms)} ms`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(2)} ms`;
}

const KIND_LABEL: Record<TraceSpan['kind'], string> = {
  server: 'server',
  client: 'client',
  producer: 'producer',
  consumer: 'consumer',
  internal: 'internal',
  unspecified: '',
};

interface Row {
  span: TraceSpan;
  depth: number;
  /** Its parent is named but was not received (yet): it is drawn at the top level. */
  orphan: boolean;
}

/** Depth first from the roots, children by start time: the order a waterfall is read in. */
export function waterfallRows(trace: Trace): Row[] {
  const ids = new Set(trace.spans.map((s) => s.spanId));
  const children = new Map<string, TraceSpan[]>();
  const roots: TraceSpan[] = [];
  for (const s of trace.spans) {
    if (s.parentSpanId && ids.has(s.parentSpanId)) {
      const list = children.get(s.parentSpanId) ?? [];
      list.push(s);
      children.set(s.parentSpanId, list);
    } else roots.push(s);
  }
  const rows: Row[] = [];
  const visit = (span: TraceSpan, depth: number) => {
    rows.push({ span, depth, orphan: depth === 0 && span.parentSpanId !== undefined });
    for (const child of (children.get(span.spanId) ?? []).sort((a, b) => a.startMs - b.startMs))
      visit(child, depth + 1);
  };
  for (const root of roots.sort((a, b) => a.startMs - b.startMs)) visit(root, 0);
  return rows;
}

const valueText = (v: AttributeValue): string => (typeof v === 'string' ? v : JSON.stringify(v));

function Facts({ entries }: { entries: Array<[string, string]> }) {
  return (
    <dl className="trace-facts">
      {entries.map(([k, v]) => (
        <Fragment key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </Fragment>
      ))}
    </dl>
  );
}

function SpanDetails({ span, id }: { span: TraceSpan; id: string }) {
  const attributes = Object.entries(span.attributes).map(([k, v]): [string, string] => [k, valueText(v)]);
  return (
    <div id={id} className="trace-details" data-details-for={span.spanId}>
      <Facts
        entries={[
          ['span id', span.spanId],
          ['parent', span.parentSpanId ?? 'none (root)'],
          ['kind', span.kind],
          ['scope', span.scope || '–'],
          ...(span.instance ? [['instance', span.instance] as [string, string]] : []),
          ['status', `${span.status.code}${span.status.message ? `: ${span.status.message}` : ''}`],
        ]}
      />
      <h5>Attributes</h5>
      {attributes.length ? <Facts entries={attributes} /> : <p>none</p>}
      {span.events.length ? (
        <>
          <h5>Events</h5>
          <ul>
            {span.events.map((e, i) => (
              <li key={i}>
                <strong>{e.name}</strong> at +{formatMs(e.timeMs - span.startMs)}
                {Object.keys(e.attributes).length ? (
                  <Facts entries={Object.entries(e.attributes).map(([k, v]): [string, string] => [k, valueText(v)])} />
                ) : null}
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {span.links.length ? (
        <>
          <h5>Links</h5>
          <ul>
            {span.links.map((l) => (
              <li key={`${l.traceId}-${l.spanId}`}>
                span <code>{l.spanId}</code>
                {Object.keys(l.attributes).length
                  ? ` (${Object.entries(l.attributes)
                      .map(([k, v]) => `${k}: ${valueText(v)}`)
                      .join(', ')})`
                  : ''}
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </div>
  );
}

/**
 * One trace as a waterfall: a table, one row per span, indented under its parent, with the start (since the
 * trace began) and the duration as text and a bar drawn to scale beside them. A span's name is a button that
 * opens its attributes under it, so the whole table can be read and opened from the keyboard.
 */
export function Waterfall({ trace }: { trace: Trace }) {
  const [open, setOpen] = useState<Set<string>>(new Set());
  const rows = waterfallRows(trace);
  const total = Math.max(trace.durationMs, 0.001);
  const errors = trace.spans.filter((s) => s.status.code === 'error').length;
  const toggle = (spanId: string) =>
    setOpen((prev) => {
      const next = new Set(prev);
      if (next.has(spanId)) next.delete(spanId);
      else next.add(spanId);
      return next;
    });
  return (
    <figure className="trace" data-trace-id={trace.traceId}>
      <figcaption>
        Trace <code title={trace.traceId}>{trace.traceId.slice(0, 16)}</code> · {trace.spans.length} spans ·{' '}
        {formatMs(trace.durationMs)}
        {errors ? <span className="trace-error-count"> · {errors} with an error</span> : null}
        <ul className="trace-legend" aria-label="Services">
          {trace.services.map((s) => (
            <li key={s} data-service={s}>
              <span className="trace-swatch" style={{ background: colourOf(s) }} aria-hidden="true" />
              {s}
            </li>
          ))}
        </ul>
      </figcaption>
      <div className="trace-scroll">
        <table
          className="trace-waterfall"
          aria-label={`Spans of trace ${trace.traceId.slice(0, 16)}, by start, each under its parent`}
        >
          <thead>
            <tr>
              <th scope="col">Span</th>
              <th scope="col">Service</th>
              <th scope="col" className="trace-num">
                Start
              </th>
              <th scope="col" className="trace-num">
                Duration
              </th>
              <th scope="col" className="trace-timeline-head">
                Timeline (0 – {formatMs(trace.durationMs)})
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map(({ span, depth, orphan }) => {
              const offset = ((span.startMs - trace.startMs) / total) * 100;
              const width = (span.durationMs / total) * 100;
              const isOpen = open.has(span.spanId);
              const detailsId = `span-${span.spanId}`;
              const error = span.status.code === 'error';
              return (
                <Fragment key={span.spanId}>
                  <tr
                    data-span-id={span.spanId}
                    data-depth={depth}
                    data-service={span.service}
                    data-status={span.status.code}
                    className={error ? 'trace-row-error' : undefined}
                  >
                    <th scope="row" className="trace-name" style={{ paddingLeft: `${0.4 + depth * 0.8}rem` }}>
                      <button
                        type="button"
                        aria-expanded={isOpen}
                        aria-controls={detailsId}
                        onClick={() => toggle(span.spanId)}
                      >
                        <span aria-hidden="true" className="trace-caret">
                          {isOpen ? '▾' : '▸'}
                        </span>
                        {span.name}
                      </button>
                      {KIND_LABEL[span.kind] ? <span className="trace-kind">{KIND_LABEL[span.kind]}</span> : null}
                      {error ? (
                        <span className="trace-error" title={span.status.message}>
                          error{span.status.message ? `: ${span.status.message}` : ''}
                        </span>
                      ) : null}
                      {orphan ? <span className="trace-orphan">parent not received</span> : null}
                    </th>
                    <td className="trace-service">
                      <span
                        className="trace-swatch"
                        style={{ background: colourOf(span.service) }}
                        aria-hidden="true"
                      />
                      {span.service}
                    </td>
                    <td className="trace-num" data-start>
                      +{formatMs(span.startMs - trace.startMs)}
                    </td>
                    <td className="trace-num" data-duration>
                      {formatMs(span.durationMs)}
                    </td>
                    <td className="trace-timeline" aria-hidden="true">
                      <div className="trace-track">
                        <div
                          className="trace-bar"
                          style={{
                            left: `${offset}%`,
                            width: `max(${width}%, 2px)`,
                            background: colourOf(span.service),
                          }}
                        />
                      </div>
                    </td>
                  </tr>
                  {isOpen ? (
                    <tr className="trace-details-row">
                      <td colSpan={5}>
                        <SpanDetails span={span} id={detailsId} />
                      </td>
                    </tr>
                  ) : null}
                </Fragment>
              );
            })}
          </tbody>
        </table>
      </div>
    </figure>
  );
}

/**
 * The order's traces (GET /api/traces?orderId=), read when the order is selected and again whenever the live
 * stream's `traces` source says that order's spans changed: no timer of its own.
 */
function useOrderTraces(orderId: string, version: string): { traces?: Trace[]; error?: string } {
  const [state, setState] = useState<{ id?: string; traces?: Trace[]; error?: string }>({});
  useEffect(() => {
    let current = true;
    api<OrderTraces>('GET', `/api/traces?orderId=${encodeURIComponent(orderId)}`).then(
      (answer) => current && setState({ id: orderId, traces: answer.traces }),
      (err: Error) =>
        current &&
        setState((prev) => ({
          id: orderId,
          traces: prev.id === orderId ? prev.traces : undefined,
          error: err.message,
        })),
    );
    return () => {
      current = false;
    };
  }, [orderId, version]);
  return state.id === orderId ? state : {};
}

function Empty({ receiver, read }: { receiver?: TraceReceiverState; read: boolean }) {
  const endpoint = `${window.location.origin}/v1/traces`;
  if (receiver && receiver.received.requests === 0) {
    return (
      <div className="trace-empty" data-trace-empty="off">
        <p>
          <strong>Tracing off:</strong> no service has sent this console a span. Set{' '}
          <code>OTEL_EXPORTER_OTLP_TRACES_ENDPOINT={endpoint}</code> and{' '}
          <code>OTEL_EXPORTER_OTLP_PROTOCOL=http/json</code> on the services (<code>npm run demo</code> does, unless
          started with <code>--no-tracing</code>).
        </p>
        {receiver.refused.requests ? (
          <p className="error" data-trace-refused>
            It refused {receiver.refused.requests} request(s); the last: {receiver.refused.lastReason}
          </p>
        ) : null}
      </div>
    );
  }
  if (!read) return <p aria-busy="true">Reading the trace…</p>;
  return (
    <p className="trace-empty" data-trace-empty="none-yet">
      No spans for this order yet: services send theirs in batches, every few seconds (
      <code>OTEL_BSP_SCHEDULE_DELAY</code>).
    </p>
  );
}

/** The selected order's trace(s) as waterfalls, what the receiver says when there is none, and the forwarding's counts. */
export function OrderTraceSection({ orderId, live }: { orderId: string; live: Live }) {
  const state = live.traces;
  const receiver = state?.status === 'ok' ? (state.data as TraceReceiverState) : undefined;
  const recent = receiver?.recentOrders.find((o) => o.orderId === orderId);
  const { traces, error } = useOrderTraces(orderId, recent ? `${recent.spans}|${recent.updatedAt}` : '');
  const forward = receiver?.forward;
  return (
    <section className="orders-trace" aria-labelledby="orders-trace-heading" data-trace-for={orderId}>
      <h3 id="orders-trace-heading">Trace</h3>
      {error ? <p className="error">{error}</p> : null}
      {traces?.length ? (
        traces.map((t) => <Waterfall key={t.traceId} trace={t} />)
      ) : (
        <Empty receiver={receiver} read={traces !== undefined} />
      )}
      {forward ? (
        <p className="trace-forward" data-forward-failed={forward.failed}>
          Passed on to <code>{forward.url}</code>: {forward.sent} sent, {forward.failed} failed
          {forward.dropped ? `, ${forward.dropped} dropped (queue full)` : ''}
          {forward.lastError ? (
            <span className={forward.failed || forward.dropped ? 'error' : undefined}>
              {' '}
              · last problem: {forward.lastError}
            </span>
          ) : null}
        </p>
      ) : null}
    </section>
  );
}
