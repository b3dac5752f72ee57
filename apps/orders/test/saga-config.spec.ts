import { canonicalJson } from '../src/orders/place-order.schema';
import { SagaConfig } from '../src/saga/saga-config';

describe('SagaConfig.fromEnv', () => {
  it('defaults to a 30 s step timeout and a 1 s sweep, on the namespaced exchanges', () => {
    expect(SagaConfig.fromEnv({ WARREN_NAMESPACE: 'ns' })).toEqual(
      new SagaConfig(30_000, 1_000, 'ns.warren.events', 'ns.warren.commands'),
    );
  });

  it('names the variable it cannot read', () => {
    expect(() => SagaConfig.fromEnv({ SAGA_STEP_TIMEOUT_MS: 'soon' })).toThrow(
      "SAGA_STEP_TIMEOUT_MS must be a positive number of milliseconds, got 'soon'",
    );
    expect(() => SagaConfig.fromEnv({ SAGA_SWEEP_INTERVAL_MS: '0' })).toThrow(/SAGA_SWEEP_INTERVAL_MS/);
  });
});

describe('canonicalJson (what an Idempotency-Key is compared on)', () => {
  it('ignores key order and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: [{ y: 2, x: 1 }] })).toBe(canonicalJson({ a: [{ x: 1, y: 2 }], b: 1 }));
    expect(canonicalJson({ a: [1, 2] })).not.toBe(canonicalJson({ a: [2, 1] }));
  });
});
