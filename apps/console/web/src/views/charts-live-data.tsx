import type { ReactNode } from 'react';
import type { SourceState } from '../../../src/server/shared-source';

/**
 * A source's state for a view: its data when there is some (the last good data while it is unreachable), and the
 * line to show above it, or instead of it when there is none: waiting, or why the source cannot be reached.
 */
export function liveData<T>(state: SourceState<unknown> | undefined, what: string): { data?: T; note?: ReactNode } {
  if (!state || state.status === 'pending') return { note: <p aria-busy="true">Waiting for {what}…</p> };
  if (state.status === 'ok') return { data: state.data as T };
  const since = new Date(state.since).toLocaleTimeString();
  return {
    data: state.data as T | undefined,
    note: (
      <p className="error" role="alert" data-unreachable={what}>
        {state.error} (since {since}){state.data !== undefined ? '; showing the last data read' : ''}
      </p>
    ),
  };
}
