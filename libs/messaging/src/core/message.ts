import type { ConsumeMessage } from 'amqplib';

/** A message to publish. Everything but the routing is optional and filled in by the publisher. */
export interface OutgoingMessage<T = unknown> {
  exchange: string;
  routingKey: string;
  /** The message type (AMQP `type` property); consumers dispatch on it. Defaults to the routing key. */
  type?: string;
  payload: T;
  messageId?: string;
  correlationId?: string;
  causationId?: string;
  /** Milliseconds since the epoch (AMQP carries whole seconds). Default: now. */
  timestamp?: number;
  headers?: Record<string, unknown>;
  replyTo?: string;
  /** Per-message TTL in milliseconds. */
  expirationMs?: number;
  /** Default: application/json, or application/octet-stream for a Buffer payload. */
  contentType?: string;
  /** Default true: a message no queue receives is an error (UnroutableError), not a silent drop. */
  mandatory?: boolean;
  /**
   * Hold the message this many milliseconds (an integer, 0 … 2^32 − 1) before it is routed, through the
   * broker's x-delayed-message exchange or TTL delay queues (see delayed-delivery.ts). It then reaches the
   * queues an undelayed publish would reach at that moment; routability is not checked (no UnroutableError),
   * and `expirationMs` cannot be combined with it. 0 publishes at once.
   */
  delay?: number;
}

/** What was actually sent: every id the publisher chose. */
export interface PublishedMessage {
  exchange: string;
  routingKey: string;
  type: string;
  messageId: string;
  correlationId: string;
  causationId?: string;
  traceparent: string;
  timestamp: number;
  /** The delay it was published with, if any (ms). */
  delay?: number;
}

/** A delivered message as handlers see it. */
export interface IncomingMessage<T = unknown> {
  payload: T;
  type: string;
  messageId: string;
  correlationId: string;
  causationId?: string;
  timestamp?: number;
  headers: Record<string, unknown>;
  /** The routing the publisher used (retries and replays preserve it). */
  exchange: string;
  routingKey: string;
  /** The queue it was consumed from. */
  queue: string;
  /** 1 on first delivery, n on the n-th attempt through the retry queues. */
  attempt: number;
  redelivered: boolean;
  traceparent: string;
  replyTo?: string;
  /** The amqplib message, for what the abstraction does not cover. */
  raw: ConsumeMessage;
}
