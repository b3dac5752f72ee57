import { LongTimeout, MAX_TIMER_DELAY } from './long-timeout';

describe('LongTimeout', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it.each([
    ['just under the limit', MAX_TIMER_DELAY - 1],
    ['at the limit', MAX_TIMER_DELAY],
    ['one past the limit', MAX_TIMER_DELAY + 1],
    ['2^32', 2 ** 32],
    ['ten years', 315_360_000_000],
  ])('fires %s after exactly its delay, not before', (_, delay) => {
    const fire = jest.fn();
    const timer = new LongTimeout(fire, delay);
    jest.advanceTimersByTime(Math.min(delay - 1, MAX_TIMER_DELAY));
    expect(fire).not.toHaveBeenCalled();
    jest.advanceTimersByTime(delay - 1 - Math.min(delay - 1, MAX_TIMER_DELAY));
    expect(fire).not.toHaveBeenCalled();
    expect(timer.pending).toBe(true);
    jest.advanceTimersByTime(1);
    expect(fire).toHaveBeenCalledTimes(1);
    expect(timer.pending).toBe(false);
  });

  it('never fires once cleared, even between hops', () => {
    const fire = jest.fn();
    const timer = new LongTimeout(fire, 3 * MAX_TIMER_DELAY);
    jest.advanceTimersByTime(MAX_TIMER_DELAY + 5);
    timer.clear();
    jest.advanceTimersByTime(3 * MAX_TIMER_DELAY);
    expect(fire).not.toHaveBeenCalled();
  });

  it('fires a zero or negative delay on the next timer turn', () => {
    const fire = jest.fn();
    new LongTimeout(fire, -5);
    expect(fire).not.toHaveBeenCalled();
    jest.advanceTimersByTime(0);
    expect(fire).toHaveBeenCalledTimes(1);
  });
});
