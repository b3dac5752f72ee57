import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { ControlsStatus, DemoProcess } from '../../../src/contracts/controls';
import type { Topology } from '../../../src/server/topology';
import { api } from '../api';
import type { Live } from '../stream';

/**
 * What the live stream says that can change what the controls offer: the consumers (a connection closed or
 * back), the processes (killed, restarted, added), whether payments and the mail server answer, and the mail
 * count (a refused send used up a planned failure). Depths and rates are left out, so the many topology events
 * of a busy broker do not each cost a GET /api/controls.
 */
function changeKey(live: Live): string {
  const parts: string[] = [];
  const topology = live.topology;
  parts.push(topology?.status ?? '-');
  if (topology?.status === 'ok') {
    parts.push(
      (topology.data as Topology).consumers
        .map((c) => `${c.id}/${c.tag}/${c.holder}`)
        .sort()
        .join(','),
    );
  }
  const processes = live.processes;
  parts.push(processes?.status ?? '-');
  if (processes?.status === 'ok')
    parts.push((processes.data as DemoProcess[]).map((p) => `${p.name}:${p.pid}:${p.state}`).join(','));
  parts.push(live.payments?.status ?? '-', live.emails?.status ?? '-');
  const emails = live.emails;
  if (emails?.status === 'ok') parts.push(String((emails.data as { total?: number }).total ?? ''));
  return parts.join('|');
}

/**
 * GET /api/controls, fetched again when the live stream shows a change that matters (changeKey) and after each
 * action (`refresh`): no polling loop of its own. An answer older than one already shown is dropped.
 */
export function useControlsStatus(live: Live): { status?: ControlsStatus; error?: string; refresh: () => void } {
  const [status, setStatus] = useState<ControlsStatus | undefined>();
  const [error, setError] = useState<string | undefined>();
  const latest = useRef(0);
  const key = useMemo(() => changeKey(live), [live]);

  const refresh = useCallback(() => {
    const id = ++latest.current;
    api<ControlsStatus>('GET', '/api/controls').then(
      (s) => {
        if (id !== latest.current) return;
        setStatus(s);
        setError(undefined);
      },
      (err: Error) => id === latest.current && setError(err.message),
    );
  }, []);

  useEffect(() => {
    refresh();
  }, [key, refresh]);

  return { status, error, refresh };
}
