import type { QueuedMessage } from '../message';
import type { Queue } from './queue';

/** What a queue needs from a subscription: whether it can take a message now, and how to hand one over. */
export interface Consumer {
  readonly tag: string;
  readonly queue: Queue;
  readonly noAck: boolean;
  readonly exclusive: boolean;
  /** x-priority argument of basic.consume: higher-priority consumers are served first while they have room. */
  readonly priority: number;
  /** The connection that owns the consumer (exclusive-queue and direct reply-to bookkeeping). */
  readonly owner: object;
  canAccept(): boolean;
  deliver(entry: QueuedMessage): void;
  /** The queue went away: tell the client (basic.cancel) and forget the consumer. */
  cancelledByServer(): void;
}
