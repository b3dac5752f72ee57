import { randomBytes } from 'node:crypto';
import type { Message } from '../message';
import type { Channel } from './channel';

/** The pseudo-queue name clients consume from (no-ack) and put in reply-to for RabbitMQ's direct reply-to. */
export const DIRECT_REPLY_TO = 'amq.rabbitmq.reply-to';

export interface DirectReplyTo {
  readonly tag: string;
  /** What the requester's reply-to property is rewritten to; responders publish to it on the default exchange. */
  readonly address: string;
  readonly channel: Channel;
}

/**
 * Direct reply-to: replies skip queues entirely and go straight to the requesting channel's reply consumer.
 * The address names the consumer with an unguessable token, so only someone who saw the request can reply.
 */
export class DirectReplyRegistry {
  private readonly byAddress = new Map<string, DirectReplyTo>();

  register(channel: Channel, tag: string): DirectReplyTo {
    const address = `${DIRECT_REPLY_TO}.${randomBytes(18).toString('base64url')}`;
    const entry = { tag, address, channel };
    this.byAddress.set(address, entry);
    return entry;
  }

  unregister(entry: DirectReplyTo): void {
    this.byAddress.delete(entry.address);
  }

  /** Returns false when nobody waits at that address any more (the reply is then unroutable). */
  deliver(message: Message): boolean {
    const entry = this.byAddress.get(message.routingKey);
    if (!entry || entry.channel.closing) return false;
    entry.channel.deliverReply(entry.tag, message);
    return true;
  }
}
