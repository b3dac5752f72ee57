import type { FailureReason } from './headers';
import type { PublishedMessage } from './message';

/** One delivery, as the events describe it. */
export interface DeliveryEvent {
  queue: string;
  messageId: string;
  type: string;
  routingKey: string;
  correlationId: string;
  attempt: number;
}

/**
 * What the library reports as it works: the test harness awaits these, metrics count them, a service can
 * log them. Listeners must not throw.
 */
export interface MessagingEventMap {
  published: [PublishedMessage];
  /** A handler started on a message. */
  consumed: [DeliveryEvent];
  /** The handler finished and the message was acknowledged. */
  acked: [DeliveryEvent];
  /**
   * The handler failed; the message waits `delayMs` for its next attempt: in `<queue>.retry.<attempt>`, or
   * held by the broker's delayed exchange (then with the policy's jitter).
   */
  retried: [DeliveryEvent & { delayMs: number; error: Error }];
  /** The message was parked in `<queue>.dlq`. */
  'dead-lettered': [DeliveryEvent & { reason: FailureReason; error: Error }];
  /** The socket's write buffer filled up: publishes wait for it to drain before writing more. */
  backpressure: [];
  connected: [];
  disconnected: [Error];
}
