import type { Live } from '../stream';

/** The view a running scenario asks the reader to watch (a tab's id), if any. Placeholder (issue 13). */
export function watchedView(live: Live): string | undefined {
  void live;
  return undefined;
}

/** Placeholder: guided scenarios, one per pattern (issue 13). */
export function ScenariosPanel({ live }: { live: Live }) {
  void live;
  return <p>Coming soon: guided scenarios.</p>;
}
