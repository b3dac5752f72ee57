import { useState } from 'react';
import type { ParkedMessageJson } from '../../../src/contracts/dead-letters';

const when = (iso: string | undefined) => (iso ? new Date(iso).toLocaleString() : '—');

/** The payload as text: JSON pretty-printed, a text or binary preview as it came. */
function payloadText(m: ParkedMessageJson): string {
  return m.payloadFormat === 'json' ? JSON.stringify(m.payload, null, 2) : String(m.payload);
}

export interface ParkedMessageProps {
  message: ParkedMessageJson;
  /** An operation on this queue is running: no second one meanwhile. */
  busy: boolean;
  onReplay(id: string): void;
  onPurge(id: string): void;
}

/**
 * One parked message: what it was, why it failed, where it came from and when it was parked; the payload on
 * demand. Purging asks first, in place (a real button to confirm, not a browser dialog), with the keyboard's
 * focus on Cancel: the button pressed is gone, and the safe choice is the one under Enter.
 */
export function ParkedMessage({ message: m, busy, onReplay, onPurge }: ParkedMessageProps) {
  const [confirming, setConfirming] = useState(false);
  const id = m.messageId;
  const routing = [
    m.originalExchange === '' ? '(default exchange)' : m.originalExchange,
    m.originalRoutingKey,
    m.originalQueue,
  ]
    .filter((x) => x !== undefined)
    .join(' → ');
  return (
    <li className="parked" data-parked-id={id ?? ''} data-reason={m.reason ?? ''} data-replay-count={m.replayCount}>
      <div className="parked-head">
        <strong>{m.type ?? 'untyped message'}</strong>
        {m.reason ? <span className="badge">{m.reason}</span> : null}
        <span>
          attempt{m.attempts === 1 ? '' : 's'}: {m.attempts ?? '—'}
        </span>
        {m.deliveries !== undefined ? <span>unsettled deliveries: {m.deliveries}</span> : null}
        {m.replayCount ? <span>replayed {m.replayCount}×</span> : null}
      </div>
      {m.error ? (
        <p className="parked-error">
          <strong>{m.error.name ?? 'Error'}</strong>
          {m.error.message ? `: ${m.error.message}` : ''}
        </p>
      ) : null}
      <dl className="parked-facts">
        <dt>Message id</dt>
        <dd>
          <code>{id ?? '(none)'}</code>
        </dd>
        <dt>From</dt>
        <dd>{routing || '—'}</dd>
        <dt>Parked</dt>
        <dd>{when(m.deadLetteredAt ?? m.deaths[0]?.time)}</dd>
        {m.deaths.length ? (
          <>
            <dt>Dead-lettered by the broker</dt>
            <dd>
              {m.deaths
                .map(
                  (d) => `${d.reason ?? '?'} from ${d.queue ?? '?'}${d.count && d.count > 1 ? ` (${d.count}×)` : ''}`,
                )
                .join('; ')}
            </dd>
          </>
        ) : null}
      </dl>
      <details>
        <summary>
          Payload ({m.payloadFormat}, {m.size} byte{m.size === 1 ? '' : 's'})
        </summary>
        <pre>{payloadText(m)}</pre>
        {m.error?.stack.length ? <pre className="parked-stack">{m.error.stack.join('\n')}</pre> : null}
      </details>
      <div className="parked-actions">
        {confirming ? (
          <>
            <span role="alert">Delete this message for good?</span>
            <button
              type="button"
              className="danger"
              disabled={busy}
              onClick={() => {
                setConfirming(false);
                if (id) onPurge(id);
              }}
            >
              Delete it
            </button>
            <button type="button" autoFocus className="secondary outline" onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </>
        ) : (
          <>
            <button
              type="button"
              disabled={busy || !id}
              title={id ? undefined : 'a message without an id cannot be picked out'}
              onClick={() => id && onReplay(id)}
            >
              Replay
            </button>
            <button
              type="button"
              className="secondary outline"
              disabled={busy || !id}
              onClick={() => setConfirming(true)}
            >
              Purge
            </button>
          </>
        )}
      </div>
    </li>
  );
}
