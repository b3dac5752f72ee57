import {
  BasicProperties,
  decodeBasicProperties,
  encodeBasicProperties,
  FLAG_CONTENT_ENCODING,
  FLAG_CONTENT_TYPE,
  FLAG_DELIVERY_MODE,
  FLAG_HEADERS,
  FLAG_PRIORITY,
} from '@warren/amqp-protocol';

// Checking a property flag is far cheaper than decoding the property list, and most messages carry neither
// expiration, priority nor headers: the broker reads the flag word first.

/**
 * A published message. Properties stay in their wire encoding (the bytes after body-size in the content header)
 * and are forwarded to consumers as they came; they are decoded only when routing or queue rules need a field.
 */
export class Message {
  private decoded: BasicProperties | undefined;
  /** BCC routing keys, taken out of the headers at publish. */
  bcc: string[] | undefined;

  constructor(
    public exchange: string,
    public routingKey: string,
    public rawProperties: Buffer,
    public readonly body: Buffer,
  ) {}

  get size(): number {
    return this.body.length;
  }

  get flags(): number {
    return this.rawProperties.length >= 2 ? this.rawProperties.readUInt16BE(0) : 0;
  }

  get properties(): BasicProperties {
    return (this.decoded ??= decodeBasicProperties(this.rawProperties));
  }

  /** Replaces the properties, re-encoding them (used when dead-lettering rewrites headers and expiration). */
  set properties(props: BasicProperties) {
    this.decoded = props;
    this.rawProperties = encodeBasicProperties(props);
  }

  get persistent(): boolean {
    return (this.flags & FLAG_DELIVERY_MODE) !== 0 && this.readOctet('deliveryMode') === 2;
  }

  get priority(): number {
    return (this.flags & FLAG_PRIORITY) !== 0 ? this.readOctet('priority') : 0;
  }

  /**
   * Reads delivery-mode or priority straight from the property bytes: they follow content-type,
   * content-encoding and headers, so only those need skipping, which is far cheaper than decoding everything
   * (these two are read for every message routed to a durable or priority queue). The flag is set.
   */
  private readOctet(field: 'deliveryMode' | 'priority'): number {
    if (this.decoded) return this.decoded[field] ?? 0;
    const raw = this.rawProperties;
    const flags = this.flags;
    let p = 2;
    if (flags & FLAG_CONTENT_TYPE) p += 1 + raw[p];
    if (flags & FLAG_CONTENT_ENCODING) p += 1 + raw[p];
    if (flags & FLAG_HEADERS) p += 4 + raw.readUInt32BE(p);
    if (field === 'priority' && flags & FLAG_DELIVERY_MODE) p++;
    return raw[p] ?? 0;
  }

  /** A copy that can be routed again under a new exchange and routing key (dead-lettering). */
  clone(exchange: string, routingKey: string): Message {
    const copy = new Message(exchange, routingKey, this.rawProperties, this.body);
    copy.decoded = this.decoded;
    return copy;
  }
}

/**
 * RabbitMQ's sender-selected distribution: the CC and BCC headers (arrays of strings) add routing keys.
 * Returns the keys of one header, or none.
 */
export function headerKeys(message: Message, header: 'CC' | 'BCC'): string[] {
  if ((message.flags & FLAG_HEADERS) === 0) return [];
  const value = message.properties.headers?.get(header);
  if (value?.type !== 'A') return [];
  return value.value.filter((v) => v.type === 'S').map((v) => v.value as string);
}

export const ccKeys = (message: Message): string[] => headerKeys(message, 'CC');

/** A message's place in one queue. */
export interface QueuedMessage {
  readonly message: Message;
  /** Position in the queue's arrival order; requeued messages go back to their original place by it. */
  seq: number;
  /** Epoch ms after which the message is dead at the head of the queue; 0 = never. */
  expiresAt: number;
  redelivered: boolean;
  /** Quorum queues: how many times the message came back to the queue (x-delivery-count); unset is 0. */
  deliveryCount?: number;
  /** Where a durable queue's log holds the message (segment number and byte position), if it does. */
  segment?: number;
  position?: number;
}
