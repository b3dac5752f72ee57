import { useEffect, useState } from 'react';
import type { SourceState } from '../../src/server/shared-source';

/** Every source's latest state from GET /api/stream (server-sent events, one event name per source). */
export type Live = Record<string, SourceState<unknown>>;

const SOURCES = ['topology', 'orders', 'stock', 'payments', 'emails', 'stats', 'processes', 'scenario', 'traces'];

/** Subscribes to the console server's live stream; EventSource reconnects by itself if the server goes away. */
export function useLive(): { live: Live; connected: boolean } {
  const [live, setLive] = useState<Live>({});
  const [connected, setConnected] = useState(false);
  useEffect(() => {
    const source = new EventSource('/api/stream');
    source.onopen = () => setConnected(true);
    source.onerror = () => setConnected(false);
    const listeners = SOURCES.map((name) => {
      const listener = (e: MessageEvent<string>) =>
        setLive((prev) => ({ ...prev, [name]: JSON.parse(e.data) as SourceState<unknown> }));
      source.addEventListener(name, listener);
      return listener;
    });
    return () => {
      SOURCES.forEach((name, i) => source.removeEventListener(name, listeners[i]));
      source.close();
    };
  }, []);
  return { live, connected };
}
