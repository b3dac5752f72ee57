import { Message } from '../message';
import type { Queue } from '../queue/queue';
import { Binding } from './exchange';
import { TopicExchange } from './topic';

function setup(patterns: string[]) {
  const exchange = new TopicExchange('t', { durable: false, autoDelete: false, internal: false, arguments: new Map() });
  const bindings = patterns.map((pattern) => {
    const destination = { kind: 'queue', name: pattern } as unknown as Queue;
    const binding: Binding = { source: exchange, destination, routingKey: pattern, arguments: new Map(), id: pattern };
    exchange.bind(binding);
    return binding;
  });
  const route = (key: string) => {
    const found: string[] = [];
    exchange.route(new Message('t', key, Buffer.from([0, 0]), Buffer.alloc(0)), key, {
      add: (d) => found.push(d.name),
    });
    return found.sort();
  };
  return { exchange, bindings, route };
}

describe('TopicExchange', () => {
  it.each([
    ['a.b.c', 'a.b.c', true],
    ['a.*.c', 'a.b.c', true],
    ['a.*.c', 'a.c', false],
    ['a.#.c', 'a.c', true],
    ['a.#.c', 'a.x.y.c', true],
    ['a.#', 'a', true],
    ['#', '', true],
    ['*', '', false],
    ['#.#', 'a.b', true],
    ['*.*', 'a..', false],
    ['a..b', 'a..b', true],
    ['a.*.b', 'a..b', true],
    ['#.a', 'b.a.a', true],
    ['a.#.#.b', 'a.b', true],
    ['', '', true],
    ['', 'a', false],
  ])('pattern %p against key %p -> %p', (pattern, key, expected) => {
    expect(setup([pattern]).route(key)).toEqual(expected ? [pattern] : []);
  });

  it('routes each destination once even when several patterns match', () => {
    const { exchange, route } = setup(['a.*', 'a.#']);
    const q = { kind: 'queue', name: 'same' } as unknown as Queue;
    exchange.bind({ source: exchange, destination: q, routingKey: '#', arguments: new Map(), id: 'x1' });
    exchange.bind({ source: exchange, destination: q, routingKey: 'a.b', arguments: new Map(), id: 'x2' });
    expect(route('a.b')).toEqual(['a.#', 'a.*', 'same']);
  });

  it('forgets unbound patterns and prunes the trie', () => {
    const { exchange, bindings, route } = setup(['a.b.c', 'a.b']);
    expect(route('a.b.c')).toEqual(['a.b.c']); // cached now
    exchange.unbind(bindings[0].id);
    expect(route('a.b.c')).toEqual([]);
    expect(route('a.b')).toEqual(['a.b']);
  });
});
