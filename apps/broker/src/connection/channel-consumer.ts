import type { QueuedMessage } from '../message';
import type { Consumer } from '../queue/consumer';
import type { Queue } from '../queue/queue';
import type { Channel } from './channel';

/** A basic.consume subscription: the link between a queue and a channel, with its own prefetch window. */
export class ChannelConsumer implements Consumer {
  /** Unacknowledged deliveries made through this consumer (per-consumer prefetch). */
  unacked = 0;

  constructor(
    readonly tag: string,
    readonly queue: Queue,
    readonly channel: Channel,
    readonly noAck: boolean,
    readonly exclusive: boolean,
    readonly priority: number,
    readonly prefetch: number,
  ) {}

  get owner(): object {
    return this.channel.connection;
  }

  canAccept(): boolean {
    if (!this.channel.canDeliver()) return false;
    if (this.noAck) return true;
    return (this.prefetch === 0 || this.unacked < this.prefetch) && this.channel.hasGlobalCredit();
  }

  deliver(entry: QueuedMessage): void {
    this.channel.deliver(this, entry);
  }

  cancelledByServer(): void {
    this.channel.consumerCancelledByServer(this);
  }
}
