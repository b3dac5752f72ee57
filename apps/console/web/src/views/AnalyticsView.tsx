import type { Live } from '../stream';

/** Placeholder: the clickstream's live charts (issue 13). */
export function AnalyticsView({ live }: { live: Live }) {
  void live;
  return <p>Coming soon: the clickstream's live charts.</p>;
}
