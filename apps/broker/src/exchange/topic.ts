import type { Message } from '../message';
import { Binding, Exchange, RouteCollector } from './exchange';
import type { Queue } from '../queue/queue';

/**
 * Topic routing: keys and patterns are dot-separated words; in a pattern `*` matches one word and `#` zero or
 * more. Patterns live in a trie keyed by word, so matching costs the key's length, not the number of bindings.
 * As in RabbitMQ, the empty key has zero words ("" matches "#" but not "*"), and "a..b" has an empty middle word.
 */
class TrieNode {
  readonly children = new Map<string, TrieNode>();
  readonly bindings = new Set<Binding>();

  get empty(): boolean {
    return this.children.size === 0 && this.bindings.size === 0;
  }
}

const MAX_CACHED_KEYS = 4096;

export function splitWords(key: string): string[] {
  return key === '' ? [] : key.split('.');
}

export class TopicExchange extends Exchange {
  readonly type = 'topic';
  private readonly root = new TrieNode();
  /** Destinations per routing key, valid until the bindings change. Most traffic reuses a few keys. */
  private readonly cache = new Map<string, (Queue | Exchange)[]>();

  protected added(binding: Binding): void {
    let node = this.root;
    for (const word of splitWords(binding.routingKey)) {
      let next = node.children.get(word);
      if (!next) node.children.set(word, (next = new TrieNode()));
      node = next;
    }
    node.bindings.add(binding);
    this.cache.clear();
  }

  protected removed(binding: Binding): void {
    const path: TrieNode[] = [this.root];
    const words = splitWords(binding.routingKey);
    for (const word of words) {
      const next = path[path.length - 1].children.get(word);
      if (!next) return;
      path.push(next);
    }
    path[path.length - 1].bindings.delete(binding);
    for (let i = words.length; i > 0 && path[i].empty; i--) path[i - 1].children.delete(words[i - 1]);
    this.cache.clear();
  }

  route(_message: Message, routingKey: string, out: RouteCollector): void {
    let destinations = this.cache.get(routingKey);
    if (!destinations) {
      const found = new Set<Queue | Exchange>();
      this.match(this.root, splitWords(routingKey), 0, found);
      destinations = [...found];
      if (this.cache.size >= MAX_CACHED_KEYS) this.cache.clear();
      this.cache.set(routingKey, destinations);
    }
    for (let i = 0; i < destinations.length; i++) out.add(destinations[i]);
  }

  private match(node: TrieNode, words: string[], i: number, found: Set<Queue | Exchange>): void {
    const hash = node.children.get('#');
    if (hash) for (let j = i; j <= words.length; j++) this.match(hash, words, j, found);
    if (i === words.length) {
      for (const binding of node.bindings) found.add(binding.destination);
      return;
    }
    const exact = node.children.get(words[i]);
    if (exact) this.match(exact, words, i + 1, found);
    if (words[i] !== '*') {
      const star = node.children.get('*');
      if (star) this.match(star, words, i + 1, found);
    }
  }
}
