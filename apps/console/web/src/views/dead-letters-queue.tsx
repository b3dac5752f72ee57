import { useCallback, useEffect, useRef, useState } from 'react';
import type {
  ParkedList,
  PurgeRequest,
  PurgeResponse,
  ReplayRequest,
  ReplayResponse,
} from '../../../src/contracts/dead-letters';
import { api } from '../api';
import { ParkedMessage } from './dead-letters-message';

export interface DeadLetterQueueProps {
  queue: string;
  workQueue: string;
  /** Messages in the DLQ as the live topology (or the list) tells it. */
  count: number;
  /**
   * Changes when the DLQ's content may have: its messages, ready plus unacked. Not `ready` alone, since a listing
   * holds them unacked for a moment, and a list refreshed on that would refresh itself forever.
   */
  version: number;
}

type Outcome = { kind: 'done' | 'error'; text: string };

const plural = (n: number) => `${n} message${n === 1 ? '' : 's'}`;
const path = (queue: string) => `/api/dead-letters/${encodeURIComponent(queue)}`;

/** One dead-letter queue: its count, its parked messages (listed again when the count moves), replay and purge. */
export function DeadLetterQueue({ queue, workQueue, count, version }: DeadLetterQueueProps) {
  const [list, setList] = useState<ParkedList | undefined>();
  const [loadError, setLoadError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | undefined>();
  const [confirmAll, setConfirmAll] = useState(false);
  // answers can come back out of order: only the latest request's is shown
  const latest = useRef(0);

  const load = useCallback(async () => {
    const ticket = ++latest.current;
    try {
      const answer = await api<ParkedList>('GET', `${path(queue)}?limit=100`);
      if (ticket !== latest.current) return;
      setList(answer);
      setLoadError(undefined);
    } catch (err) {
      if (ticket === latest.current) setLoadError((err as Error).message);
    }
  }, [queue]);

  useEffect(() => {
    // an empty DLQ has nothing to list: no broker round trip for each of them on every visit
    if (version === 0) {
      latest.current++;
      setList({ queue, workQueue, count: 0, messages: [] });
      setLoadError(undefined);
    } else void load();
  }, [load, version, queue, workQueue]);

  const act = async (what: () => Promise<string>) => {
    setBusy(true);
    setOutcome(undefined);
    try {
      setOutcome({ kind: 'done', text: await what() });
    } catch (err) {
      setOutcome({ kind: 'error', text: (err as Error).message });
    } finally {
      setBusy(false);
      void load();
    }
  };
  const replay = (ids?: string[]) =>
    act(async () => {
      const body: ReplayRequest = ids ? { ids } : {};
      const r = await api<ReplayResponse>('POST', `${path(queue)}/replay`, body);
      return `Replayed ${plural(r.replayed)} to ${workQueue}${r.notFound.length ? `; no longer parked: ${r.notFound.join(', ')}` : ''}.`;
    });
  const purge = (ids?: string[]) =>
    act(async () => {
      const body: PurgeRequest = ids ? { ids } : { all: true };
      const r = await api<PurgeResponse>('POST', `${path(queue)}/purge`, body);
      return `Purged ${plural(r.purged)}.`;
    });

  const shown = list?.messages ?? [];
  const total = Math.max(count, list?.count ?? 0);
  return (
    <article className="dlq" data-dlq={queue} data-count={count} aria-labelledby={`dlq-${queue}`}>
      <header className="dlq-head">
        <div>
          <h3 id={`dlq-${queue}`}>{queue}</h3>
          <small>
            work queue <code>{workQueue}</code> · <span data-dlq-count={count}>{plural(count)}</span>
          </small>
        </div>
        <div className="dlq-actions">
          {confirmAll ? (
            <>
              <span role="alert">Delete all {plural(total)} for good?</span>
              <button
                type="button"
                className="danger"
                disabled={busy}
                onClick={() => {
                  setConfirmAll(false);
                  void purge();
                }}
              >
                Delete all
              </button>
              <button type="button" autoFocus className="secondary outline" onClick={() => setConfirmAll(false)}>
                Cancel
              </button>
            </>
          ) : (
            <>
              <button type="button" disabled={busy || total === 0} onClick={() => void replay()}>
                Replay all
              </button>
              <button
                type="button"
                className="secondary outline"
                disabled={busy || total === 0}
                onClick={() => setConfirmAll(true)}
              >
                Purge all
              </button>
            </>
          )}
        </div>
      </header>
      <p
        role="status"
        className={outcome?.kind === 'error' ? 'error' : 'dlq-outcome'}
        data-dlq-result={outcome?.kind ?? ''}
        aria-busy={busy || undefined}
      >
        {busy ? 'Working…' : (outcome?.text ?? '')}
      </p>
      {loadError ? <p className="error">{loadError}</p> : null}
      {!list && !loadError ? <p aria-busy="true">Reading the parked messages…</p> : null}
      {list && shown.length === 0 ? <p className="dlq-empty">Nothing parked.</p> : null}
      {shown.length ? (
        <ol className="parked-list">
          {shown.map((m, i) => (
            <ParkedMessage
              key={`${m.messageId ?? ''}#${i}`}
              message={m}
              busy={busy}
              onReplay={(id) => void replay([id])}
              onPurge={(id) => void purge([id])}
            />
          ))}
        </ol>
      ) : null}
      {list && list.count > shown.length ? (
        <p>
          <small>
            The oldest {shown.length} of {plural(list.count)} shown.
          </small>
        </p>
      ) : null}
    </article>
  );
}
