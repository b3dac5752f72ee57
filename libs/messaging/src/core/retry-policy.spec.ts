import { retryDelayMs, validateRetryPolicy } from './retry-policy';

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
  });
});
