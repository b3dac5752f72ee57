import type { Live } from '../stream';

/** Placeholder: every dead-letter queue, its parked messages, replay and purge (issue 13). */
export function DeadLettersView({ live }: { live: Live }) {
  void live;
  return <p>Coming soon: every dead-letter queue, its parked messages, replay and purge.</p>;
}
