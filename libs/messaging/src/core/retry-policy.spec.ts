import { jitteredRetryDelayMs, retryDelayMs, validateRetryPolicy } from './retry-policy';

describe('retry policy', () => {
  const policy = { maxAttempts: 6, initialDelayMs: 1000, multiplier: 2, maxDelayMs: 5000 };

  it('doubles the delay per failed attempt up to the cap', () => {
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs(policy, n))).toEqual([1000, 2000, 4000, 5000, 5000]);
  });

  it('refuses policies that cannot work, naming the rule', () => {
    expect(() => validateRetryPolicy({ ...policy, maxAttempts: 0 })).toThrow(/need maxAttempts ≥ 1/);
    expect(() => validateRetryPolicy({ ...policy, maxAttempts: 2.5 })).toThrow(RangeError);
    expect(() => validateRetryPolicy({ ...policy, multiplier: 0.5 })).toThrow(RangeError);
    expect(() => validateRetryPolicy({ ...policy, maxDelayMs: 10 })).toThrow(RangeError);
    expect(validateRetryPolicy(policy)).toBe(policy);
    expect(() => validateRetryPolicy({ ...policy, jitter: 1.5 })).toThrow(/jitter 'full' or 0 … 1/);
    expect(() => validateRetryPolicy({ ...policy, jitter: -0.1 })).toThrow(RangeError);
    expect(() => validateRetryPolicy({ ...policy, jitter: 'half' as never })).toThrow(RangeError);
    expect(() => validateRetryPolicy({ ...policy, maxDelayMs: 2 ** 32 })).toThrow(RangeError);
    expect(validateRetryPolicy({ ...policy, jitter: 'full' }).jitter).toBe('full');
  });

  it('spreads each delay by its jitter: ± a fraction, or anywhere from 0 (full); none without', () => {
    const at = (r: number) => () => r;
    expect([0, 0.5, 0.999999].map((r) => jitteredRetryDelayMs({ ...policy, jitter: 0.2 }, 2, at(r)))).toEqual([
      1600, 2000, 2400,
    ]);
    expect([0, 0.5, 0.999999].map((r) => jitteredRetryDelayMs({ ...policy, jitter: 'full' }, 2, at(r)))).toEqual([
      0, 1000, 2000,
    ]);
    expect(jitteredRetryDelayMs({ ...policy, jitter: 0 }, 2, at(0.9))).toBe(2000);
    expect(jitteredRetryDelayMs(policy, 2, at(0.9))).toBe(2000);
  });
});
