/**
 * A FIFO of message locations (segment number, byte position, redelivered bit) packed into typed-array
 * chunks: 8 bytes per message instead of a JS object, so a queue can hold tens of millions of messages on disk
 * while its memory stays in the tens of megabytes.
 */
const CHUNK = 8192;

export interface Ref {
  segment: number;
  position: number;
  redelivered: boolean;
}

const REDELIVERED = 0x80000000;

export class RefDeque {
  private chunks: Uint32Array[] = [];
  /** Index of the first live element inside chunks[0]. */
  private head = 0;
  private size = 0;

  get length(): number {
    return this.size;
  }

  push(segment: number, position: number, redelivered = false): void {
    const index = this.head + this.size;
    const chunk = index >>> 13; // / CHUNK
    if (chunk === this.chunks.length) this.chunks.push(new Uint32Array(CHUNK * 2));
    const slot = (index & (CHUNK - 1)) * 2;
    const c = this.chunks[chunk];
    c[slot] = segment;
    c[slot + 1] = redelivered ? (position | REDELIVERED) >>> 0 : position;
    this.size++;
  }

  /** The first location, read into `out` (no allocation); false when empty. */
  peek(out: Ref): boolean {
    if (this.size === 0) return false;
    const c = this.chunks[0];
    const slot = this.head * 2;
    out.segment = c[slot];
    out.position = c[slot + 1] & ~REDELIVERED;
    out.redelivered = (c[slot + 1] & REDELIVERED) !== 0;
    return true;
  }

  shift(): void {
    if (this.size === 0) return;
    this.size--;
    if (++this.head === CHUNK) {
      this.chunks.shift();
      this.head = 0;
    }
    if (this.size === 0) {
      this.chunks = [];
      this.head = 0;
    }
  }

  /** Visits every location in order (used to acknowledge everything on purge). */
  forEach(visit: (segment: number, position: number) => void): void {
    for (let i = 0; i < this.size; i++) {
      const index = this.head + i;
      const c = this.chunks[index >>> 13];
      const slot = (index & (CHUNK - 1)) * 2;
      visit(c[slot], c[slot + 1] & ~REDELIVERED);
    }
  }

  /** Rewrites locations in place (compaction moved records); `move` returns the new location or undefined. */
  relocate(
    move: (
      segment: number,
      position: number,
      redelivered: boolean,
    ) => { segment: number; position: number } | undefined,
  ): void {
    for (let i = 0; i < this.size; i++) {
      const index = this.head + i;
      const c = this.chunks[index >>> 13];
      const slot = (index & (CHUNK - 1)) * 2;
      const redelivered = (c[slot + 1] & REDELIVERED) !== 0;
      const moved = move(c[slot], c[slot + 1] & ~REDELIVERED, redelivered);
      if (!moved) continue;
      c[slot] = moved.segment;
      c[slot + 1] = redelivered ? (moved.position | REDELIVERED) >>> 0 : moved.position;
    }
  }

  clear(): void {
    this.chunks = [];
    this.head = 0;
    this.size = 0;
  }
}
