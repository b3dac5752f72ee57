import { useState } from 'react';
import { SmtpFailure, type ControlsStatus, type SmtpFailNext } from '../../../src/contracts/controls';
import { api } from '../api';
import { ActionOutcome, ControlNote, useAction } from './controls-action';

const plan = (s: SmtpFailNext) =>
  s.remaining
    ? `the next ${s.remaining} ${s.remaining === 1 ? 'send is' : 'sends are'} refused with ${s.code}`
    : 'no failures planned';

/** SMTP outage: the SMTP capture refuses the next N sends (421 temporary, so notifications retries; or 550). */
export function SmtpControl({ status, refresh }: { status?: ControlsStatus['smtp']; refresh: () => void }) {
  const [count, setCount] = useState('3');
  const [code, setCode] = useState('421');
  const { busy, outcome, run } = useAction(refresh);
  const unavailable = status?.state === 'unavailable';

  const fail = () =>
    run(async () => {
      const body = SmtpFailure.safeParse({ count: count.trim() === '' ? NaN : Number(count), code: Number(code) });
      if (!body.success) throw new Error('Fail next: give a whole number of sends from 1 to 1000');
      return `Planned: ${plan(await api<SmtpFailNext>('POST', '/api/controls/smtp', body.data))}.`;
    });
  const clear = () => run(async () => `Cleared: ${plan(await api<SmtpFailNext>('DELETE', '/api/controls/smtp'))}.`);

  return (
    <section
      className="control"
      data-control="smtp"
      data-availability={status?.state ?? 'pending'}
      aria-labelledby="control-smtp"
    >
      <h3 id="control-smtp">SMTP outage</h3>
      <ControlNote state={status?.state} reason={status?.reason} />
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void fail();
        }}
      >
        <fieldset disabled={unavailable || busy || !status}>
          <div className="control-row">
            <label>
              Fail next N sends
              <input
                type="number"
                min={1}
                max={1000}
                step={1}
                inputMode="numeric"
                value={count}
                onChange={(e) => setCount(e.target.value)}
              />
            </label>
            <label>
              Reply code
              <select value={code} onChange={(e) => setCode(e.target.value)}>
                <option value="421">421 (temporary)</option>
                <option value="550">550 (permanent)</option>
              </select>
            </label>
          </div>
          <div className="control-buttons">
            <button type="submit">Fail</button>
            <button type="button" className="secondary" onClick={() => void clear()}>
              Clear
            </button>
          </div>
        </fieldset>
      </form>
      {status?.failNext ? (
        <p className="control-hint" data-fail-next={status.failNext.remaining}>
          Now: {plan(status.failNext)}
        </p>
      ) : null}
      <ActionOutcome busy={busy} outcome={outcome} />
    </section>
  );
}
