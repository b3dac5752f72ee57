import { useEffect, useState } from 'react';
import {
  GatewayChange,
  type ControlsStatus,
  type GatewayReply,
  type GatewaySettings,
} from '../../../src/contracts/controls';
import { api } from '../api';
import { ActionOutcome, ControlNote, useAction } from './controls-action';

type Form = { declinePct: string; failurePct: string; latencyMs: string };

const toForm = (s: GatewaySettings): Form => ({
  declinePct: String(Math.round(s.declineRate * 1000) / 10),
  failurePct: String(Math.round(s.failureRate * 1000) / 10),
  latencyMs: String(s.latencyMs),
});

/** The form in the gateway's units (0..1, whole ms); a field left empty or not a number is a problem to show. */
function toChange(form: Form): { change?: GatewayChange; problem?: string } {
  const number = (v: string) => (v.trim() === '' ? NaN : Number(v));
  const parsed = GatewayChange.safeParse({
    declineRate: number(form.declinePct) / 100,
    failureRate: number(form.failurePct) / 100,
    latencyMs: number(form.latencyMs),
  });
  if (parsed.success) return { change: parsed.data };
  const labels: Record<string, string> = {
    declineRate: 'Decline % must be from 0 to 100',
    failureRate: 'Transient failure % must be from 0 to 100',
    latencyMs: 'Latency must be a whole number of ms from 0 to 60000',
  };
  return { problem: [...new Set(parsed.error.issues.map((i) => labels[String(i.path[0])] ?? i.message))].join('; ') };
}

const summary = (reply: GatewayReply) =>
  reply.instances
    .map((i) =>
      i.settings
        ? `${i.name}: decline ${Math.round(i.settings.declineRate * 100)} %, failures ${Math.round(i.settings.failureRate * 100)} %, ${i.settings.latencyMs} ms`
        : `${i.name}: ${i.error}`,
    )
    .join(' · ');

/** A percentage with its slider (for the mouse; the number field is the labelled, keyboard one). */
function Percent({
  id,
  label,
  value,
  onChange,
}: {
  id: string;
  label: string;
  value: string;
  onChange: (v: string) => void;
}) {
  return (
    <div className="gateway-field">
      <label htmlFor={id}>{label}</label>
      <div className="gateway-inputs">
        <input
          type="range"
          min={0}
          max={100}
          step={1}
          value={Number(value) || 0}
          tabIndex={-1}
          aria-hidden="true"
          onChange={(e) => onChange(e.target.value)}
        />
        <input
          id={id}
          type="number"
          min={0}
          max={100}
          step="any"
          inputMode="decimal"
          value={value}
          onChange={(e) => onChange(e.target.value)}
        />
      </div>
    </div>
  );
}

/** Payments gateway: decline and transient-failure rates and latency, applied to every payments instance. */
export function GatewayControl({ status, refresh }: { status?: ControlsStatus['gateway']; refresh: () => void }) {
  const [form, setForm] = useState<Form | undefined>();
  const [dirty, setDirty] = useState(false);
  const { busy, outcome, run } = useAction(refresh);
  const current = status?.instances?.find((i) => i.settings)?.settings;

  // show what the gateway runs with, unless the reader is in the middle of changing it
  useEffect(() => {
    if (current && !dirty) setForm(toForm(current));
  }, [current?.declineRate, current?.failureRate, current?.latencyMs, dirty]);

  const shown = form ?? { declinePct: '0', failurePct: '0', latencyMs: '0' };
  const set = (field: keyof Form) => (value: string) => {
    setForm({ ...shown, [field]: value });
    setDirty(true);
  };
  const unavailable = status?.state === 'unavailable';

  const apply = () =>
    run(async () => {
      const { change, problem } = toChange(shown);
      if (!change) throw new Error(problem);
      const reply = await api<GatewayReply>('PUT', '/api/controls/gateway', change);
      setDirty(false);
      return `Applied. ${summary(reply)}`;
    });

  return (
    <section
      className="control"
      data-control="gateway"
      data-availability={status?.state ?? 'pending'}
      aria-labelledby="control-gateway"
    >
      <h3 id="control-gateway">Payments gateway</h3>
      <ControlNote state={status?.state} reason={status?.reason} />
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void apply();
        }}
      >
        <fieldset disabled={unavailable || busy || !status}>
          <Percent id="gateway-decline" label="Decline %" value={shown.declinePct} onChange={set('declinePct')} />
          <Percent
            id="gateway-failure"
            label="Transient failure %"
            value={shown.failurePct}
            onChange={set('failurePct')}
          />
          <div className="gateway-field">
            <label htmlFor="gateway-latency">Latency (ms)</label>
            <input
              id="gateway-latency"
              type="number"
              min={0}
              max={60000}
              step={1}
              inputMode="numeric"
              value={shown.latencyMs}
              onChange={(e) => set('latencyMs')(e.target.value)}
            />
          </div>
          <button type="submit">Apply</button>
        </fieldset>
      </form>
      {status?.instances && status.instances.length > 1 ? (
        <p className="control-hint">
          {status.instances.length} payments instances: {status.instances.map((i) => i.name).join(', ')}
        </p>
      ) : null}
      <ActionOutcome busy={busy} outcome={outcome} busyText="Applying…" />
    </section>
  );
}
