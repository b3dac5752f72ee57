import fc from 'fast-check';
import { DelayEntry, DelayHeap } from './delay-heap';

const popAll = (heap: DelayHeap): DelayEntry[] => {
  const out: DelayEntry[] = [];
  for (;;) {
    const e: DelayEntry = { due: 0, seq: 0, exchange: 0, segment: 0, position: 0 };
    if (!heap.pop(e)) return out;
    out.push(e);
  }
};

describe('DelayHeap', () => {
  it('pops by due time, ties in push order, whatever the interleaving (and grows and shrinks)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 50 }), fc.boolean()), { maxLength: 3000 }), (ops) => {
        const heap = new DelayHeap();
        const model: { due: number; seq: number }[] = [];
        let seq = 0;
        for (const [due, pop] of ops) {
          if (pop && model.length > 0) {
            model.sort((a, b) => a.due - b.due || a.seq - b.seq);
            const want = model.shift()!;
            const e: DelayEntry = { due: 0, seq: 0, exchange: 0, segment: 0, position: 0 };
            expect(heap.pop(e)).toBe(true);
            expect([e.due, e.seq, e.position]).toEqual([want.due, want.seq, want.seq]);
          } else {
            heap.push(due, seq, 1, 2, seq);
            model.push({ due, seq: seq++ });
          }
          expect(heap.length).toBe(model.length);
        }
        model.sort((a, b) => a.due - b.due || a.seq - b.seq);
        expect(popAll(heap).map((e) => e.seq)).toEqual(model.map((m) => m.seq));
        expect(heap.peekDue()).toBe(Infinity);
      }),
      { numRuns: 50 },
    );
  });

  it('drops one exchange’s entries and keeps the order of the rest', () => {
    const heap = new DelayHeap();
    for (let i = 0; i < 5000; i++) heap.push((i * 7919) % 1000, i, i % 3, 0, i);
    expect(heap.removeExchange(1)).toBe(1667);
    const rest = popAll(heap);
    expect(rest).toHaveLength(3333);
    expect(rest.every((e) => e.exchange !== 1)).toBe(true);
    for (let i = 1; i < rest.length; i++)
      expect(rest[i - 1].due < rest[i].due || (rest[i - 1].due === rest[i].due && rest[i - 1].seq < rest[i].seq)).toBe(
        true,
      );
  });

  it('relocates log positions in place', () => {
    const heap = new DelayHeap();
    heap.push(3, 0, 1, 5, 100);
    heap.push(1, 1, 2, 5, 200);
    heap.push(2, 2, 1, 6, 300);
    heap.relocate((x, s, p) => (x === 1 && s === 5 ? { segment: 9, position: p + 1 } : undefined));
    expect(popAll(heap).map((e) => [e.due, e.exchange, e.segment, e.position])).toEqual([
      [1, 2, 5, 200],
      [2, 1, 6, 300],
      [3, 1, 9, 101],
    ]);
  });
});
