import { tableFromPlain } from '@warren/amqp-protocol';
import { Message, QueuedMessage } from '../message';
import { DEAD_LETTER_RETRY_MS } from './dead-letter-hold';
import { DeadLetterReason, Queue, QueueHost } from './queue';
import { queueSettings } from './queue-arguments';

// A quorum queue's own rules (rabbit_fifo's), on the queue alone: returns, delivery counts, the reject-publish
// soft limit and at-least-once dead-lettering. The side-by-side checks against RabbitMQ are compat/quorum-*.

const EMPTY_PROPS = Buffer.from([0, 0]);
const message = (body: string) => new Message('', 'q', EMPTY_PROPS, Buffer.from(body));

/**
 * A quorum queue on a host that records dead-lettering; `routes` says whether an at-least-once copy reaches a
 * queue, and `settle` holds the callbacks of copies that did, to call when the test decides they are on disk.
 */
function quorumQueue(args: Record<string, unknown> = {}) {
  const dead: Array<[string, DeadLetterReason]> = [];
  const settle: Array<() => void> = [];
  const state = { routes: true };
  const host: QueueHost = {
    deadLetter: (_q, m, reason) => dead.push([m.body.toString(), reason]),
    deadLetterReliably: (_q, m, reason, settled) => {
      if (!state.routes) return false;
      dead.push([m.body.toString(), reason]);
      settle.push(settled);
      return true;
    },
    expireQueue: () => undefined,
  };
  const table = tableFromPlain({ 'x-queue-type': 'quorum', ...args });
  const options = { durable: true, exclusive: false, autoDelete: false, arguments: table };
  return { queue: new Queue('q', options, queueSettings(table), host, null), dead, settle, state };
}

const take = (queue: Queue, n: number) => Array.from({ length: n }, () => queue.get(false) as QueuedMessage);
const ready = (queue: Queue) => {
  const out: string[] = [];
  for (let e = queue.get(true); e; e = queue.get(true))
    out.push(`${e.message.body.toString()}${e.deliveryCount ? `#${e.deliveryCount}` : ''}`);
  return out;
};
const count = (queue: Queue, entry: QueuedMessage, get: boolean) =>
  queue.outgoing(entry, get).properties.headers?.get('x-delivery-count')?.value;

describe('quorum queue returns', () => {
  it("without a delivery limit a client's requeue goes to the back, a closed channel's to the head", () => {
    const { queue } = quorumQueue();
    for (const b of ['1', '2', '3']) queue.publish(message(b));
    queue.requeue(take(queue, 1), true);
    expect(ready(queue)).toEqual(['2', '3', '1#1']);
    for (const b of ['1', '2', '3']) queue.publish(message(b));
    queue.requeue(take(queue, 2), false);
    expect(ready(queue)).toEqual(['1#1', '2#1', '3']);
  });

  it('with a delivery limit every return goes to the head, in the order of return, and past the limit is dead-lettered', () => {
    const { queue, dead } = quorumQueue({ 'x-delivery-limit': 1 });
    for (const b of ['1', '2', '3']) queue.publish(message(b));
    const [one, two] = take(queue, 2);
    queue.requeue([two], true);
    queue.requeue([one], true);
    const [again] = take(queue, 1);
    expect(again.message.body.toString()).toBe('2');
    queue.requeue([again], true);
    expect(dead).toEqual([['2', 'delivery_limit']]);
    expect(ready(queue)).toEqual(['1#1', '3']);
  });

  it('hands out x-delivery-count: on basic.get always, to consumers once the message came back', () => {
    const { queue } = quorumQueue();
    queue.publish(message('a'));
    const [a] = take(queue, 1);
    expect(count(queue, a, true)).toBe(0);
    expect(count(queue, a, false)).toBeUndefined();
    expect(queue.outgoing(a, false)).toBe(a.message);
    queue.requeue([a], false);
    expect(count(queue, a, false)).toBe(1);
    expect(a.redelivered).toBe(true);
    // the stored message is never changed
    expect(a.message.properties.headers).toBeUndefined();
  });

  it('counts unsettled basic.gets as consumers until they are acked, rejected or returned', () => {
    const { queue } = quorumQueue();
    for (const b of ['1', '2', '3']) queue.publish(message(b));
    const [one, two, three] = take(queue, 3);
    expect(queue.consumerCount).toBe(3);
    queue.ack(one);
    queue.discard(two);
    expect(queue.consumerCount).toBe(1);
    queue.requeue([three], true);
    expect(queue.consumerCount).toBe(0);
  });
});

describe('quorum reject-publish', () => {
  it('takes the publish that goes over the limit, then refuses until the queue is at 80% of it', () => {
    const { queue } = quorumQueue({ 'x-max-length': 5, 'x-overflow': 'reject-publish' });
    const outcomes = ['1', '2', '3', '4', '5', '6', '7'].map((b) => queue.publish(message(b)));
    expect(outcomes).toEqual(['written', 'written', 'written', 'written', 'written', 'written', 'rejected']);
    queue.get(true);
    expect(queue.publish(message('8'))).toBe('rejected');
    queue.get(true);
    expect(queue.publish(message('9'))).toBe('written');
  });

  it('purge lets publishes in again', () => {
    const { queue } = quorumQueue({ 'x-max-length': 1, 'x-overflow': 'reject-publish' });
    queue.publish(message('1'));
    queue.publish(message('2'));
    expect(queue.publish(message('3'))).toBe('rejected');
    expect(queue.purge()).toBe(2);
    expect(queue.publish(message('4'))).toBe('written');
  });

  it('reject-publish-dlx drops from the head as drop-head does', () => {
    const { queue, dead } = quorumQueue({ 'x-max-length': 1, 'x-overflow': 'reject-publish-dlx' });
    queue.publish(message('1'));
    expect(queue.publish(message('2'))).toBe('written');
    expect(dead).toEqual([['1', 'maxlen']]);
  });
});

describe('quorum at-least-once dead-lettering', () => {
  const ALO = {
    'x-dead-letter-exchange': 'dlx',
    'x-dead-letter-strategy': 'at-least-once',
    'x-overflow': 'reject-publish',
    'x-max-length': 1,
  };

  afterEach(() => jest.useRealTimers());

  it('holds a dead message until its copy is on disk; it counts towards the limit meanwhile', () => {
    const { queue, dead, settle } = quorumQueue(ALO);
    queue.publish(message('a'));
    queue.discard(take(queue, 1)[0]);
    expect(dead).toEqual([['a', 'rejected']]);
    expect(queue.deadLetterPending).toEqual({ count: 1, bytes: 1 });
    queue.publish(message('b')); // 1 ready + 1 held: over
    expect(queue.publish(message('c'))).toBe('rejected');
    settle.splice(0).forEach((s) => s());
    expect(queue.deadLetterPending).toEqual({ count: 0, bytes: 0 });
    // 1 ready is not at 80% of 1: still refused until the queue is empty
    expect(queue.publish(message('d'))).toBe('rejected');
    queue.get(true);
    expect(queue.publish(message('e'))).toBe('written');
  });

  it('tries again after RabbitMQ worker timeout when the copy reached no queue', () => {
    jest.useFakeTimers();
    const { queue, dead, state } = quorumQueue(ALO);
    state.routes = false;
    queue.publish(message('a'));
    queue.discard(take(queue, 1)[0]);
    expect(dead).toEqual([]);
    state.routes = true;
    jest.advanceTimersByTime(DEAD_LETTER_RETRY_MS - 1);
    expect(dead).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(dead).toEqual([['a', 'rejected']]);
  });

  it('a policy that takes reject-publish away lets the waiting messages go at most once', () => {
    const { queue, dead, state } = quorumQueue(ALO);
    state.routes = false;
    queue.publish(message('a'));
    queue.discard(take(queue, 1)[0]);
    queue.applyPolicy('p', { ...queue.declared, overflow: 'drop-head' }, { overflow: 'drop-head' });
    expect(dead).toEqual([['a', 'rejected']]);
    expect(queue.deadLetterPending).toEqual({ count: 0, bytes: 0 });
  });
});
