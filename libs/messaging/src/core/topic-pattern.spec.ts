import { isWildcardPattern, topicMatches } from './topic-pattern';

describe('topicMatches', () => {
  it.each([
    ['order.placed', 'order.placed', true],
    ['order.placed', 'order.confirmed', false],
    ['order.*', 'order.placed', true],
    ['order.*', 'order', false],
    ['order.*', 'order.placed.eu', false],
    ['order.#', 'order', true],
    ['order.#', 'order.placed.eu', true],
    ['#', 'anything.at.all', true],
    ['#', '', true],
    ['*.placed', 'order.placed', true],
    ['#.placed', 'eu.order.placed', true],
    ['#.placed', 'placed', true],
    ['a.#.z', 'a.z', true],
    ['a.#.z', 'a.b.c.z', true],
    ['a.#.z', 'a.b.c', false],
    ['a.*.#', 'a', false],
    ['a.*.#', 'a.b', true],
  ])('%s against %s is %s', (pattern, key, expected) => {
    expect(topicMatches(pattern, key)).toBe(expected);
  });

  it('tells wildcard patterns from exact ones', () => {
    expect(isWildcardPattern('order.*')).toBe(true);
    expect(isWildcardPattern('order.#')).toBe(true);
    expect(isWildcardPattern('order.placed')).toBe(false);
    expect(isWildcardPattern('order.pla*ced')).toBe(false);
  });
});
