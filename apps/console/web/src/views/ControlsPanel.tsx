import type { Live } from '../stream';

/** Placeholder: controls that break the platform on purpose (issue 13). */
export function ControlsPanel({ live }: { live: Live }) {
  void live;
  return <p>Coming soon: controls that break the platform on purpose.</p>;
}
