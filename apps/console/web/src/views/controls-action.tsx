import { useCallback, useState } from 'react';

/** What an action ended with, shown next to its buttons until the next one. */
export interface Outcome {
  kind: 'ok' | 'error';
  text: string;
}

/**
 * Runs a control's actions one at a time: `busy` while one runs (its buttons are disabled, so a slow restart
 * cannot be clicked twice), then its outcome. `run` resolves the action's success text or its error's message.
 */
export function useAction(after?: () => void) {
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | undefined>();
  const run = useCallback(
    async (action: () => Promise<string>) => {
      setBusy(true);
      setOutcome(undefined);
      try {
        setOutcome({ kind: 'ok', text: await action() });
      } catch (err) {
        setOutcome({ kind: 'error', text: (err as Error).message });
      } finally {
        setBusy(false);
        after?.();
      }
    },
    [after],
  );
  return { busy, outcome, run };
}

/** The outcome line: polite for a success, an alert for an error; always present, so screen readers hear the change. */
export function ActionOutcome({
  busy,
  outcome,
  busyText = 'Working…',
}: {
  busy: boolean;
  outcome?: Outcome;
  busyText?: string;
}) {
  if (busy) {
    return (
      <p className="control-outcome" role="status" aria-busy="true" data-result="busy">
        {busyText}
      </p>
    );
  }
  if (!outcome) return <p className="control-outcome" role="status" data-result="" />;
  return (
    <p
      className={`control-outcome ${outcome.kind}`}
      role={outcome.kind === 'error' ? 'alert' : 'status'}
      data-result={outcome.kind}
    >
      {outcome.text}
    </p>
  );
}

/** Why a control cannot be used here (unavailable), or why it may fail right now (unreachable). */
export function ControlNote({ state, reason }: { state?: string; reason?: string }) {
  if (!reason || state === 'available') return null;
  return (
    <p className={`control-note ${state ?? ''}`} data-availability={state}>
      {state === 'unavailable' ? 'Unavailable: ' : 'Not answering: '}
      {reason}
    </p>
  );
}
