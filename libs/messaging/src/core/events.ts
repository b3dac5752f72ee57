import type { ChannelRole } from './channel-recovery';
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

/** A channel that closed, or an attempt to reopen it that failed. */
export interface ChannelEvent {
  role: ChannelRole;
  /** The consumer's work queue; 'publisher' or 'rpc' for the others. */
  name: string;
  /** The broker's words (e.g. "Channel closed by server: 404 (NOT-FOUND) with message ...") or what happened. */
  reason: string;
  /** The broker's reply code when it closed the channel (404, 406, 403...). */
  code?: number;
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
  /** A channel closed while its connection stayed up; it is being reopened (channel-recovery.ts). */
  'channel-closed': [ChannelEvent];
  /** An attempt to reopen it failed (e.g. the broker refused a declaration again); the next one follows a backoff. */
  'channel-recovery-failed': [ChannelEvent & { attempt: number }];
  /** It is open again, with its declarations and subscription. */
  'channel-recovered': [{ role: ChannelRole; name: string; attempts: number; downtimeMs: number }];
}
