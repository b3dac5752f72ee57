import type { QueuedMessage } from '../message';
import { LongTimeout } from '../util/long-timeout';
import type { ReturningStore } from './message-store';
import type { DeadLetterReason, Queue, QueueHost } from './queue';

/**
 * RabbitMQ 3.10's dead_letter_worker_publisher_confirm_timeout: how long its dead-letter worker waits before it
 * tries again to dead-letter messages that reached no queue.
 */
export const DEAD_LETTER_RETRY_MS = 180_000;

/** The reasons as the store's dying marks code them (segment-log.ts). */
export const REASON_CODES: readonly DeadLetterReason[] = ['rejected', 'expired', 'maxlen', 'delivery_limit'];

interface Held {
  readonly entry: QueuedMessage;
  readonly reason: DeadLetterReason;
}

/**
 * At-least-once dead-lettering of a quorum queue (rabbit_fifo_dlx): a message that dies stays in its queue's
 * store until every queue its dead-letter exchange routed the copy to has it (fsynced, for a durable queue), and
 * counts towards the queue's length limits meanwhile. A copy that reached no queue (no such exchange, no
 * binding) is kept and routed again after DEAD_LETTER_RETRY_MS, as RabbitMQ's worker does.
 */
export class DeadLetterHold {
  count = 0;
  bytes = 0;
  /** Messages that reached no queue, waiting for the next try. */
  private waiting: Held[] = [];
  private retry: LongTimeout | undefined;
  private cleared = false;

  constructor(
    private readonly queue: Queue,
    private readonly host: QueueHost,
    /** Called when a message is finally done with (the queue's limits may let publishes in again). */
    private readonly onSettled: () => void,
  ) {}

  /** A message died; `recovered`: it had, before a restart, and its store has it marked already. */
  add(entry: QueuedMessage, reason: DeadLetterReason, recovered = false): void {
    if (!recovered) (this.queue.store as ReturningStore).markDying(entry, REASON_CODES.indexOf(reason));
    this.count++;
    this.bytes += entry.message.size;
    this.send({ entry, reason });
  }

  private send(held: Held): void {
    const settled = () => {
      if (this.cleared) return;
      this.count--;
      this.bytes -= held.entry.message.size;
      this.queue.store.done(held.entry);
      this.onSettled();
    };
    if (this.host.deadLetterReliably(this.queue, held.entry.message, held.reason, settled)) return;
    this.waiting.push(held);
    this.retry ??= new LongTimeout(() => {
      this.retry = undefined;
      const again = this.waiting;
      this.waiting = [];
      for (const h of again) this.send(h);
    }, DEAD_LETTER_RETRY_MS);
  }

  /**
   * The queue no longer dead-letters at least once (a policy changed its overflow or dead-letter exchange): the
   * messages still waiting go the at-most-once way, through `dropNow`; those already routed finish as they were.
   */
  release(dropNow: (entry: QueuedMessage, reason: DeadLetterReason) => void): void {
    const waiting = this.waiting;
    this.waiting = [];
    this.retry?.clear();
    this.retry = undefined;
    for (const h of waiting) dropNow(h.entry, h.reason);
  }

  /** The queue is deleted or the broker stops: no more tries (a restart finds the messages marked dying). */
  clear(): void {
    this.cleared = true;
    this.retry?.clear();
    this.retry = undefined;
    this.waiting = [];
  }
}
