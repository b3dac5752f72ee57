// The captured messages, in memory, newest first. Bounded by count: when a message arrives at a full store
// the oldest one goes, so a long demo run cannot grow without limit (the per-message size limit is the SMTP
// server's job).
import { CapturedMessage } from './captured-message';

export const DEFAULT_MAX_MESSAGES = 1000;

export class MessageStore {
  /** Newest first. */
  private readonly messages: CapturedMessage[] = [];
  private readonly byId = new Map<string, CapturedMessage>();
  /** Messages dropped to keep within maxMessages or deleted through the API, for /api/v1/info. */
  deleted = 0;

  constructor(readonly maxMessages = DEFAULT_MAX_MESSAGES) {
    if (!Number.isInteger(maxMessages) || maxMessages < 1)
      throw new RangeError(`maxMessages must be a positive integer, got ${maxMessages}`);
  }

  add(message: CapturedMessage): void {
    this.messages.unshift(message);
    this.byId.set(message.id, message);
    while (this.messages.length > this.maxMessages) {
      const oldest = this.messages.pop()!;
      this.byId.delete(oldest.id);
      this.deleted += 1;
    }
  }

  /** By ID, or the newest message for `latest` (as Mailpit allows). */
  get(id: string): CapturedMessage | undefined {
    return id === 'latest' ? this.messages[0] : this.byId.get(id);
  }

  /** Newest first; the array is the store's own, so callers must not change it. */
  all(): readonly CapturedMessage[] {
    return this.messages;
  }

  get size(): number {
    return this.messages.length;
  }

  get unread(): number {
    return this.messages.reduce((n, m) => n + (m.read ? 0 : 1), 0);
  }

  /** Every tag in use, sorted. */
  tags(): string[] {
    return [...new Set(this.messages.flatMap((m) => m.tags))].sort();
  }

  /** Deletes these IDs (unknown ones are ignored, as Mailpit does), or every message when ids is undefined. */
  delete(ids?: readonly string[]): number {
    const doomed = ids === undefined ? undefined : new Set(ids);
    const before = this.messages.length;
    const kept = doomed ? this.messages.filter((m) => !doomed.has(m.id)) : [];
    this.messages.splice(0, this.messages.length, ...kept);
    this.byId.clear();
    for (const m of kept) this.byId.set(m.id, m);
    const removed = before - kept.length;
    this.deleted += removed;
    return removed;
  }

  /** Sets the read flag on these IDs, or on every message when ids is undefined. */
  setRead(read: boolean, ids?: readonly string[]): void {
    const targets = ids === undefined ? this.messages : ids.map((id) => this.byId.get(id));
    for (const m of targets) if (m) m.read = read;
  }
}
