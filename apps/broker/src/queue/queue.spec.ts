import fc from 'fast-check';
import { Message, QueuedMessage } from '../message';
import type { Consumer } from './consumer';
import { DeadLetterReason, Queue } from './queue';
import type { Overflow, QueueSettings } from './queue-arguments';

const EMPTY_PROPS = Buffer.from([0, 0]);

/** A host that records what the queue dead-letters. */
function makeQueue(settings: Partial<QueueSettings>) {
  const dead: Array<[string, DeadLetterReason]> = [];
  const host = {
    deadLetter: (_q: Queue, m: Message, reason: DeadLetterReason) => dead.push([m.body.toString(), reason]),
    deadLetterReliably: () => false,
    expireQueue: () => undefined,
  };
  const options = { durable: false, exclusive: false, autoDelete: false, arguments: new Map() };
  const queue = new Queue(
    'q',
    options,
    {
      overflow: 'drop-head',
      singleActiveConsumer: false,
      type: 'classic',
      deadLetterStrategy: 'at-most-once',
      ...settings,
    },
    host,
    null,
  );
  return { queue, dead };
}

const message = (body: string) => new Message('', 'q', EMPTY_PROPS, Buffer.from(body));

/** basic.get with acknowledgement of `n` messages: what a channel would hold. */
function take(queue: Queue, n: number): QueuedMessage[] {
  const out: QueuedMessage[] = [];
  for (let i = 0; i < n; i++) {
    const entry = queue.get(false);
    if (entry) out.push(entry);
  }
  return out;
}

function ready(queue: Queue): Array<[string, boolean]> {
  const out: Array<[string, boolean]> = [];
  for (let e = queue.get(true); e; e = queue.get(true)) out.push([e.message.body.toString(), e.redelivered]);
  return out;
}

/** A consumer with a prefetch window; acknowledgements are up to the test. */
function consumer(queue: Queue, prefetch: number) {
  const got: QueuedMessage[] = [];
  const c: Consumer = {
    tag: 't',
    queue,
    noAck: false,
    exclusive: false,
    priority: 0,
    owner: {},
    canAccept: () => got.length < prefetch,
    deliver: (entry) => got.push(entry),
    cancelledByServer: () => undefined,
  };
  return { c, got };
}

describe('Queue.requeue at the length limit', () => {
  it('drop-head: requeued messages go back to their place and the head is dropped (maxlen) until within the limit', () => {
    const { queue, dead } = makeQueue({ maxLength: 3 });
    for (const b of ['1', '2', '3']) queue.publish(message(b));
    const held = take(queue, 3);
    queue.publish(message('4'));
    queue.publish(message('5'));
    queue.requeue(held);
    expect(queue.messageCount).toBe(3);
    expect(dead).toEqual([
      ['1', 'maxlen'],
      ['2', 'maxlen'],
    ]);
    expect(ready(queue)).toEqual([
      ['3', true],
      ['4', false],
      ['5', false],
    ]);
  });

  it('drop-head: a message requeued earlier and older than the one coming back is dropped first', () => {
    const { queue, dead } = makeQueue({ maxLength: 3 });
    for (const b of ['a', 'b', 'c']) queue.publish(message(b));
    const [a, b] = take(queue, 2);
    queue.requeue([a]);
    queue.publish(message('d'));
    expect(dead).toEqual([]);
    queue.requeue([b]);
    expect(dead).toEqual([['a', 'maxlen']]);
    expect(ready(queue)).toEqual([
      ['b', true],
      ['c', false],
      ['d', false],
    ]);
  });

  it('drop-head by bytes: drops until the ready bytes fit', () => {
    const { queue, dead } = makeQueue({ maxLengthBytes: 6 });
    queue.publish(message('a'));
    queue.publish(message('bbbbb'));
    const [a, b] = take(queue, 2);
    queue.requeue([a]);
    for (const x of ['c', 'd', 'e', 'f', 'g']) queue.publish(message(x));
    expect(queue.store.bytes).toBe(6);
    queue.requeue([b]);
    expect(dead).toEqual([
      ['a', 'maxlen'],
      ['bbbbb', 'maxlen'],
    ]);
    expect(queue.store.bytes).toBe(5);
    expect(ready(queue).map(([body]) => body)).toEqual(['c', 'd', 'e', 'f', 'g']);
  });

  it.each<Overflow>(['reject-publish', 'reject-publish-dlx'])(
    '%s: requeue drops nothing and the queue stays over its limit',
    (overflow) => {
      const { queue, dead } = makeQueue({ maxLength: 2, overflow });
      queue.publish(message('1'));
      queue.publish(message('2'));
      const held = take(queue, 2);
      queue.publish(message('3'));
      queue.publish(message('4'));
      queue.requeue(held);
      expect(queue.messageCount).toBe(4);
      expect(dead).toEqual([]);
      expect(queue.publish(message('5'))).toBe('rejected');
      expect(dead).toEqual(overflow === 'reject-publish-dlx' ? [['5', 'maxlen']] : []);
      expect(ready(queue)).toEqual([
        ['1', true],
        ['2', true],
        ['3', false],
        ['4', false],
      ]);
    },
  );

  it('drops before delivering: a consumer with room gets what is left, not the dropped requeue', () => {
    const { queue, dead } = makeQueue({ maxLength: 0 });
    const { c, got } = consumer(queue, 1);
    queue.addConsumer(c);
    expect(queue.publish(message('m'))).toBe('written'); // straight to the consumer, never ready
    const [m] = got.splice(0);
    queue.requeue([m]);
    expect(dead).toEqual([['m', 'maxlen']]);
    expect(got).toEqual([]);
    expect(queue.messageCount).toBe(0);
  });

  it('a requeue into a queue below its limit drops nothing and redelivers to a consumer with room', () => {
    const { queue, dead } = makeQueue({ maxLength: 5 });
    for (const b of ['1', '2']) queue.publish(message(b));
    const held = take(queue, 2);
    const { c, got } = consumer(queue, 1);
    queue.addConsumer(c);
    queue.requeue(held);
    expect(dead).toEqual([]);
    expect(got.map((e) => [e.message.body.toString(), e.redelivered])).toEqual([['1', true]]);
    expect(ready(queue)).toEqual([['2', true]]);
  });

  it('a deleted queue ignores requeues', () => {
    const { queue, dead } = makeQueue({ maxLength: 1 });
    queue.publish(message('1'));
    const held = take(queue, 1);
    queue.delete();
    queue.requeue(held);
    expect(dead).toEqual([]);
  });

  it('property: matches a model of requeue-to-original-position followed by drop-head', () => {
    interface Item {
      id: number;
      body: string;
      redelivered: boolean;
    }
    fc.assert(
      fc.property(
        fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined, freq: 4 }),
        fc.option(fc.integer({ min: 0, max: 20 }), { nil: undefined, freq: 2 }),
        fc.array(
          fc.oneof(
            {
              arbitrary: fc.record({ op: fc.constant('publish' as const), size: fc.integer({ min: 0, max: 4 }) }),
              weight: 3,
            },
            {
              arbitrary: fc.record({ op: fc.constant('take' as const), n: fc.integer({ min: 1, max: 3 }) }),
              weight: 2,
            },
            {
              arbitrary: fc.record({
                op: fc.constant('requeue' as const),
                pick: fc.array(fc.nat({ max: 5 }), { minLength: 1, maxLength: 4 }),
              }),
              weight: 2,
            },
          ),
          { maxLength: 40 },
        ),
        (maxLength, maxLengthBytes, ops) => {
          const { queue, dead } = makeQueue({ maxLength, maxLengthBytes });
          const model: Item[] = [];
          const modelDead: Array<[string, DeadLetterReason]> = [];
          const held: Array<{ item: Item; entry: QueuedMessage }> = [];
          const bytes = () => model.reduce((sum, i) => sum + i.body.length, 0);
          const dropHead = () => {
            while (
              model.length > 0 &&
              ((maxLength !== undefined && model.length > maxLength) ||
                (maxLengthBytes !== undefined && bytes() > maxLengthBytes))
            )
              modelDead.push([(model.shift() as Item).body, 'maxlen']);
          };
          let next = 0;
          for (const o of ops) {
            if (o.op === 'publish') {
              const item = { id: next, body: `${next++}:${'.'.repeat(o.size)}`, redelivered: false };
              model.push(item);
              dropHead();
              queue.publish(message(item.body));
            } else if (o.op === 'take') {
              const entries = take(queue, o.n);
              const items = model.splice(0, o.n);
              expect(entries.map((e) => e.message.body.toString())).toEqual(items.map((i) => i.body));
              entries.forEach((entry, k) => held.push({ item: items[k], entry }));
            } else {
              const back = [...new Set(o.pick.filter((i) => i < held.length).map((i) => held[i]))];
              for (const h of back) {
                held.splice(held.indexOf(h), 1);
                h.item.redelivered = true;
                model.push(h.item);
              }
              model.sort((x, y) => x.id - y.id);
              dropHead();
              queue.requeue(back.map((h) => h.entry));
            }
            expect(dead).toEqual(modelDead);
            expect(queue.messageCount).toBe(model.length);
            expect(queue.store.bytes).toBe(bytes());
          }
          expect(ready(queue)).toEqual(model.map((i) => [i.body, i.redelivered]));
        },
      ),
      { numRuns: 300 },
    );
  });
});
