import type { Live } from '../stream';

/** Placeholder: the captured emails (issue 13). */
export function EmailsView({ live }: { live: Live }) {
  void live;
  return <p>Coming soon: the captured emails.</p>;
}
