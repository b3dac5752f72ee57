import { Ref, RefDeque } from './ref-deque';

// The on-disk tail of a queue as 8-byte references (ref-deque.ts): a FIFO of (segment, position, redelivered)
// in chunks of 8,192, the redelivered bit kept in the top bit of the position word.

const CHUNK = 8192;

function drain(deque: RefDeque): [number, number, boolean][] {
  const out: [number, number, boolean][] = [];
  const ref: Ref = { segment: 0, position: 0, redelivered: false };
  while (deque.peek(ref)) {
    out.push([ref.segment, ref.position, ref.redelivered]);
    deque.shift();
  }
  return out;
}

describe('RefDeque', () => {
  it('is first in, first out across chunk boundaries, with the redelivered bit apart from the position', () => {
    const deque = new RefDeque();
    const n = 2 * CHUNK + 5;
    for (let i = 0; i < n; i++) deque.push(1 + (i >> 10), 0x7fffff - i, i % 3 === 0);
    expect(deque.length).toBe(n);
    const want = Array.from({ length: n }, (_, i) => [1 + (i >> 10), 0x7fffff - i, i % 3 === 0]);
    expect(drain(deque).join(';')).toBe(want.join(';'));
    expect(deque.length).toBe(0);
  });

  it('keeps its order when pushes and shifts interleave past a chunk', () => {
    const deque = new RefDeque();
    const ref: Ref = { segment: 0, position: 0, redelivered: false };
    const shifted: number[] = [];
    for (let i = 0; i < 3 * CHUNK; i++) {
      deque.push(1, i);
      if (i % 2 === 1 && deque.peek(ref)) {
        shifted.push(ref.position);
        deque.shift();
      }
    }
    const rest = drain(deque).map(([, position]) => position);
    expect([...shifted, ...rest].join()).toBe(Array.from({ length: 3 * CHUNK }, (_, i) => i).join());
    expect(shifted).toHaveLength(1.5 * CHUNK);
  });

  it('is empty after clear, and peek then says so', () => {
    const deque = new RefDeque();
    for (let i = 0; i < CHUNK + 1; i++) deque.push(1, i);
    deque.shift();
    deque.clear();
    expect(deque.length).toBe(0);
    expect(deque.peek({ segment: 9, position: 9, redelivered: true })).toBe(false);
    deque.push(2, 3, true);
    expect(drain(deque)).toEqual([[2, 3, true]]);
  });

  it('visits every location in order, without the redelivered bit', () => {
    const deque = new RefDeque();
    deque.push(1, 10, true);
    deque.push(1, 20);
    deque.push(2, 0, true);
    deque.shift();
    const seen: [number, number][] = [];
    deque.forEach((segment, position) => seen.push([segment, position]));
    expect(seen).toEqual([
      [1, 20],
      [2, 0],
    ]);
  });

  it('relocates the references a compaction moved, keeping their redelivered bit and their place', () => {
    const deque = new RefDeque();
    deque.push(1, 0, true);
    deque.push(2, 0);
    deque.push(1, 33);
    deque.relocate((segment, position, redelivered) => {
      expect(typeof redelivered).toBe('boolean');
      return segment === 1 ? { segment: 3, position: 1000 + position } : undefined;
    });
    expect(drain(deque)).toEqual([
      [3, 1000, true],
      [2, 0, false],
      [3, 1033, false],
    ]);
  });
});
