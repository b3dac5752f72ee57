import fc from 'fast-check';
import { Deque } from './deque';

describe('Deque', () => {
  it('behaves like an array under any sequence of operations', () => {
    type Op = ['push', number] | ['unshift', number] | ['shift'] | ['pop'] | ['insertAt', number, number];
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.tuple(fc.constant('push' as const), fc.integer()),
      fc.tuple(fc.constant('unshift' as const), fc.integer()),
      fc.tuple(fc.constant('shift' as const)),
      fc.tuple(fc.constant('pop' as const)),
      fc.tuple(fc.constant('insertAt' as const), fc.nat(40), fc.integer()),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const deque = new Deque<number>(2);
        const model: number[] = [];
        for (const o of ops) {
          if (o[0] === 'push') {
            deque.push(o[1]);
            model.push(o[1]);
          } else if (o[0] === 'unshift') {
            deque.unshift(o[1]);
            model.unshift(o[1]);
          } else if (o[0] === 'shift') expect(deque.shift()).toBe(model.shift());
          else if (o[0] === 'pop') expect(deque.pop()).toBe(model.pop());
          else {
            const i = Math.min(o[1], model.length);
            deque.insertAt(i, o[2]);
            model.splice(i, 0, o[2]);
          }
          expect(deque.length).toBe(model.length);
          expect(deque.peek()).toBe(model[0]);
        }
        expect(deque.toArray()).toEqual(model);
      }),
    );
  });
});
