import { equalJitterDelay, exponentialDelay, fullJitterDelay } from './backoff';

describe('backoff', () => {
  afterEach(() => jest.restoreAllMocks());
  const random = (r: number) => jest.spyOn(Math, 'random').mockReturnValue(r);

  it('grows from the first delay by the multiplier up to the cap; an attempt below 1 counts as 1', () => {
    expect([0, 1, 2, 3, 4, 5].map((n) => exponentialDelay(n, 100, 1_000))).toEqual([100, 100, 200, 400, 800, 1_000]);
    expect([1, 2, 3].map((n) => exponentialDelay(n, 100, 10_000, 3))).toEqual([100, 300, 900]);
    expect(exponentialDelay(5_000, 100, 1_000)).toBe(1_000);
    expect(exponentialDelay(5_000, 0, 1_000)).toBe(0);
  });

  it('full jitter draws from [0, base × 2^attempt) up to the cap', () => {
    random(0.5);
    expect([0, 1, 2, 10].map((n) => fullJitterDelay(n, 100, 1_000))).toEqual([50, 100, 200, 500]);
    random(0);
    expect(fullJitterDelay(3, 100, 1_000)).toBe(0);
  });

  it('equal jitter keeps half of the delay and draws the other half', () => {
    random(0);
    expect([1, 2, 3].map((n) => equalJitterDelay(n, 100, 1_000))).toEqual([50, 100, 200]);
    random(0.999999);
    expect([1, 2, 5].map((n) => equalJitterDelay(n, 100, 1_000))).toEqual([100, 200, 1_000]);
  });
});
