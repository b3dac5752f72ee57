import type { ChannelModel, Options } from 'amqplib';
import { withQueueType, type QueueType } from './queue-type';

export interface ExchangeDeclaration {
  name: string;
  type: 'topic' | 'direct' | 'fanout' | 'headers';
  options?: Options.AssertExchange;
}

export interface QueueDeclaration {
  name: string;
  options?: Options.AssertQueue;
}

export interface BindingDeclaration {
  queue: string;
  exchange: string;
  pattern: string;
}

/**
 * Everything this process declares. Declarations are idempotent, so the whole set is replayed after every
 * reconnection (the broker may have restarted without its transient state, or be a different node).
 */
export class Topology {
  private readonly exchanges = new Map<string, ExchangeDeclaration>();
  private readonly queues = new Map<string, QueueDeclaration>();
  private readonly bindings = new Map<string, BindingDeclaration>();

  exchange(d: ExchangeDeclaration): this {
    this.exchanges.set(d.name, d);
    return this;
  }

  queue(d: QueueDeclaration): this {
    this.queues.set(d.name, d);
    return this;
  }

  bind(d: BindingDeclaration): this {
    this.bindings.set(`${d.queue}\u0000${d.exchange}\u0000${d.pattern}`, d);
    return this;
  }

  /**
   * Declares everything on a channel of its own: a refused declaration (406) closes only that channel. Durable,
   * shared, kept queues without an `x-queue-type` of their own get `queueType` (default classic).
   */
  async apply(model: ChannelModel, queueType: QueueType = 'classic'): Promise<void> {
    const ch = await model.createChannel();
    ch.on('error', () => undefined); // the rejected promise below carries the reason
    try {
      for (const e of this.exchanges.values()) await ch.assertExchange(e.name, e.type, { durable: true, ...e.options });
      for (const q of this.queues.values())
        await ch.assertQueue(q.name, withQueueType(queueType, { durable: true, ...q.options }));
      for (const b of this.bindings.values()) await ch.bindQueue(b.queue, b.exchange, b.pattern);
    } finally {
      await ch.close().catch(() => undefined);
    }
  }
}
