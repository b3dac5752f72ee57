import { useEffect, useState } from 'react';
import type { DeadLetterQueueList, DeadLetterQueueSummary } from '../../../src/contracts/dead-letters';
import type { Topology } from '../../../src/server/topology';
import { api } from '../api';
import type { Live } from '../stream';
import { DeadLetterQueue } from './dead-letters-queue';
import './dead-letters-view.css';

/** The DLQs the live topology shows (a `.dlq` queue without its work queue too), with their depths. */
function liveDeadLetterQueues(live: Live): DeadLetterQueueSummary[] | undefined {
  const t = live.topology;
  if (t?.status !== 'ok') return undefined;
  const topology = t.data as Topology;
  return topology.queues
    .filter((q) => q.role === 'dead-letter' || (q.name.endsWith('.dlq') && q.name.length > 4))
    .map((q) => ({
      queue: q.name,
      workQueue: q.role === 'dead-letter' ? q.group : q.name.slice(0, -4),
      workQueueExists: q.role === 'dead-letter',
      ready: q.ready,
      unacked: q.unacked,
    }));
}

/**
 * Every dead-letter queue and what is parked in it, with replay and purge (the same operations as `npm run dlq`,
 * through the console's server). The depths are live (the topology stream); a DLQ's messages are listed again
 * when its depth moves. Non-empty queues come first.
 */
export function DeadLettersView({ live }: { live: Live }) {
  const fromTopology = liveDeadLetterQueues(live);
  const names = fromTopology?.map((q) => q.queue).join('\n');
  const [listed, setListed] = useState<DeadLetterQueueList | undefined>();
  const [error, setError] = useState<string | undefined>();

  // the server's list once, and again when a DLQ comes or goes (the counts move with the stream in between)
  useEffect(() => {
    let current = true;
    api<DeadLetterQueueList>('GET', '/api/dead-letters').then(
      (l) => {
        if (!current) return;
        setListed(l);
        setError(undefined);
      },
      (err: Error) => current && setError(err.message),
    );
    return () => {
      current = false;
    };
  }, [names]);

  const byName = new Map<string, DeadLetterQueueSummary>();
  for (const q of listed?.queues ?? []) byName.set(q.queue, q);
  // the live depths win: the list was read once
  for (const q of fromTopology ?? [])
    byName.set(q.queue, { ...q, workQueueExists: byName.get(q.queue)?.workQueueExists ?? q.workQueueExists });
  const depth = (q: DeadLetterQueueSummary) => q.ready + q.unacked;
  const queues = [...byName.values()].sort(
    (a, b) => Number(depth(b) > 0) - Number(depth(a) > 0) || a.queue.localeCompare(b.queue),
  );

  const parked = queues.reduce((n, q) => n + q.ready + q.unacked, 0);
  if (!queues.length) {
    if (error) return <p className="error">{error}</p>;
    if (!listed) return <p aria-busy="true">Looking for dead-letter queues…</p>;
    return (
      <p>No dead-letter queues on the broker yet: a consumer declares its queue's .dlq companion when it starts.</p>
    );
  }
  return (
    <div className="dead-letters">
      <p data-dead-letters-total={parked}>
        {parked === 0 ? 'Nothing is parked' : `${parked} message${parked === 1 ? '' : 's'} parked`} in {queues.length}{' '}
        dead-letter queue{queues.length === 1 ? '' : 's'}.
        {live.topology?.status === 'unreachable' ? (
          <span className="error"> Live depths unavailable: {live.topology.error}</span>
        ) : null}
      </p>
      {error ? <p className="error">{error}</p> : null}
      {queues.map((q) => (
        <DeadLetterQueue
          key={q.queue}
          queue={q.queue}
          workQueue={q.workQueue}
          count={q.ready + q.unacked}
          version={q.ready + q.unacked}
        />
      ))}
    </div>
  );
}
