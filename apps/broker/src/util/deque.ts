/**
 * A growable ring buffer: O(1) push/shift at both ends without the O(n) cost of Array#shift, and without
 * allocating per element. Queues hold their ready messages in these.
 */
export class Deque<T> {
  private items: (T | undefined)[];
  private head = 0;
  private size = 0;

  constructor(capacity = 16) {
    this.items = new Array(capacity);
  }

  get length(): number {
    return this.size;
  }

  push(item: T): void {
    if (this.size === this.items.length) this.grow();
    this.items[(this.head + this.size) % this.items.length] = item;
    this.size++;
  }

  unshift(item: T): void {
    if (this.size === this.items.length) this.grow();
    this.head = (this.head - 1 + this.items.length) % this.items.length;
    this.items[this.head] = item;
    this.size++;
  }

  shift(): T | undefined {
    if (this.size === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) % this.items.length;
    this.size--;
    return item;
  }

  pop(): T | undefined {
    if (this.size === 0) return undefined;
    const index = (this.head + this.size - 1) % this.items.length;
    const item = this.items[index];
    this.items[index] = undefined;
    this.size--;
    return item;
  }

  peek(): T | undefined {
    return this.size === 0 ? undefined : this.items[this.head];
  }

  at(i: number): T | undefined {
    return i < 0 || i >= this.size ? undefined : this.items[(this.head + i) % this.items.length];
  }

  /**
   * Inserts at position i (0 = front), moving whichever side of i is shorter: requeued messages go back near
   * the front of queues that may hold millions, and must not cost a pass over all of them.
   */
  insertAt(i: number, item: T): void {
    if (i <= 0) return this.unshift(item);
    if (i >= this.size) return this.push(item);
    if (this.size === this.items.length) this.grow();
    const capacity = this.items.length;
    if (i < this.size - i) {
      this.head = (this.head - 1 + capacity) % capacity;
      for (let j = 0; j < i; j++) this.items[(this.head + j) % capacity] = this.items[(this.head + j + 1) % capacity];
    } else {
      for (let j = this.size; j > i; j--)
        this.items[(this.head + j) % capacity] = this.items[(this.head + j - 1) % capacity];
    }
    this.items[(this.head + i) % capacity] = item;
    this.size++;
  }

  clear(): T[] {
    const all = this.toArray();
    this.items = new Array(16);
    this.head = 0;
    this.size = 0;
    return all;
  }

  toArray(): T[] {
    const out: T[] = new Array(this.size);
    for (let i = 0; i < this.size; i++) out[i] = this.items[(this.head + i) % this.items.length] as T;
    return out;
  }

  private grow(): void {
    const next: (T | undefined)[] = new Array(this.items.length * 2);
    for (let i = 0; i < this.size; i++) next[i] = this.items[(this.head + i) % this.items.length];
    this.items = next;
    this.head = 0;
  }
}
