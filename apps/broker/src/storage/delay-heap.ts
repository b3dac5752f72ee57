/**
 * The pending delayed messages of a virtual host, ordered by due time (ties: arrival order), as a binary
 * min-heap in typed arrays: 28 bytes a message (due, sequence, exchange id, log segment, log position), outside
 * the JS heap. The messages themselves stay in their exchange's log (delay-scheduler.ts), so millions of
 * pending delayed messages cost tens of megabytes of memory.
 */
const INITIAL = 1024;

export interface DelayEntry {
  due: number;
  seq: number;
  exchange: number;
  segment: number;
  position: number;
}

export class DelayHeap {
  private due = new Float64Array(INITIAL);
  private seq = new Float64Array(INITIAL);
  /** exchange id, segment, position per entry */
  private ref = new Uint32Array(INITIAL * 3);
  private size = 0;

  get length(): number {
    return this.size;
  }

  /** The earliest due time; Infinity when empty. */
  peekDue(): number {
    return this.size === 0 ? Infinity : this.due[0];
  }

  push(due: number, seq: number, exchange: number, segment: number, position: number): void {
    if (this.size === this.due.length) this.resize(this.due.length * 2);
    this.set(this.size, due, seq, exchange, segment, position);
    this.up(this.size++);
  }

  /** Removes the earliest entry into `out`; false when empty. */
  pop(out: DelayEntry): boolean {
    if (this.size === 0) return false;
    this.read(0, out);
    const last = --this.size;
    if (last > 0) {
      this.move(last, 0);
      this.down(0);
    }
    if (this.due.length > INITIAL && this.size < this.due.length / 4) this.resize(this.due.length / 2);
    return true;
  }

  /** Rewrites log locations in place (the log moved records while compacting); order is unaffected. */
  relocate(
    move: (exchange: number, segment: number, position: number) => { segment: number; position: number } | undefined,
  ): void {
    const ref = this.ref;
    for (let i = 0; i < this.size; i++) {
      const moved = move(ref[i * 3], ref[i * 3 + 1], ref[i * 3 + 2]);
      if (!moved) continue;
      ref[i * 3 + 1] = moved.segment;
      ref[i * 3 + 2] = moved.position;
    }
  }

  /** Drops every entry of an exchange (deleted); returns how many. */
  removeExchange(exchange: number): number {
    let kept = 0;
    for (let i = 0; i < this.size; i++) if (this.ref[i * 3] !== exchange) this.move(i, kept++);
    const removed = this.size - kept;
    this.size = kept;
    for (let i = (kept >>> 1) - 1; i >= 0; i--) this.down(i);
    return removed;
  }

  clear(): void {
    this.size = 0;
    this.resize(INITIAL);
  }

  private read(i: number, out: DelayEntry): void {
    out.due = this.due[i];
    out.seq = this.seq[i];
    out.exchange = this.ref[i * 3];
    out.segment = this.ref[i * 3 + 1];
    out.position = this.ref[i * 3 + 2];
  }

  private set(i: number, due: number, seq: number, exchange: number, segment: number, position: number): void {
    this.due[i] = due;
    this.seq[i] = seq;
    this.ref[i * 3] = exchange;
    this.ref[i * 3 + 1] = segment;
    this.ref[i * 3 + 2] = position;
  }

  private move(from: number, to: number): void {
    if (from === to) return;
    this.due[to] = this.due[from];
    this.seq[to] = this.seq[from];
    this.ref.copyWithin(to * 3, from * 3, from * 3 + 3);
  }

  private less(a: number, b: number): boolean {
    return this.due[a] < this.due[b] || (this.due[a] === this.due[b] && this.seq[a] < this.seq[b]);
  }

  private swap(a: number, b: number): void {
    const d = this.due[a];
    this.due[a] = this.due[b];
    this.due[b] = d;
    const s = this.seq[a];
    this.seq[a] = this.seq[b];
    this.seq[b] = s;
    const r = this.ref;
    for (let k = 0; k < 3; k++) {
      const t = r[a * 3 + k];
      r[a * 3 + k] = r[b * 3 + k];
      r[b * 3 + k] = t;
    }
  }

  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >>> 1;
      if (!this.less(i, parent)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    for (;;) {
      const l = 2 * i + 1;
      if (l >= this.size) return;
      const r = l + 1;
      const child = r < this.size && this.less(r, l) ? r : l;
      if (!this.less(child, i)) return;
      this.swap(i, child);
      i = child;
    }
  }

  private resize(capacity: number): void {
    const due = new Float64Array(capacity);
    const seq = new Float64Array(capacity);
    const ref = new Uint32Array(capacity * 3);
    due.set(this.due.subarray(0, this.size));
    seq.set(this.seq.subarray(0, this.size));
    ref.set(this.ref.subarray(0, this.size * 3));
    this.due = due;
    this.seq = seq;
    this.ref = ref;
  }
}
