// Header names the library reads and writes. Kept in one place because retries, the DLQ, replay and the
// CLI all agree on them, and because they are part of the wire contract other languages can read.
export const Headers = {
  /** W3C trace context: `00-<trace id>-<span id>-<flags>` (https://www.w3.org/TR/trace-context/). */
  traceparent: 'traceparent',
  tracestate: 'tracestate',
  /** The message id of the message being handled when this one was published. */
  causationId: 'x-causation-id',
  /** 1 on first delivery; incremented each time the message goes through a retry queue. */
  attempt: 'x-attempt',
  /** Where the message was first published: retries and replays arrive through the default exchange. */
  originalExchange: 'x-original-exchange',
  originalRoutingKey: 'x-original-routing-key',
  /** The work queue a retried or parked message belongs to (replay sends it back there). */
  originalQueue: 'x-original-queue',
  lastError: 'x-last-error',
  /** Set on messages in `<queue>.dlq`. */
  errorMessage: 'x-error-message',
  errorName: 'x-error-name',
  errorStack: 'x-error-stack',
  failureReason: 'x-failure-reason',
  deadLetteredAt: 'x-dead-lettered-at',
  /**
   * On classic queues: how many deliveries of this message ended without a settle (its consumer crashed or lost its
   * channel first), as QueueConsumer counted them; past the delivery limit it is parked with reason delivery_limit.
   * Quorum queues count on the broker (x-delivery-count).
   */
  unsettledDeliveries: 'x-unsettled-deliveries',
  /** Set by replay. */
  replayCount: 'x-replay-count',
  replayedAt: 'x-replayed-at',
  /** On RPC replies that carry an error instead of a result. */
  rpcError: 'x-rpc-error',
} as const;

/**
 * Why a message was parked in the DLQ. `delivery_limit` is RabbitMQ's own word (x-death reason) for a quorum
 * queue's parking; the consumer writes the same for a classic queue, so both read alike in the DLQ tools.
 */
export type FailureReason = 'retries-exhausted' | 'non-retryable' | 'invalid' | 'no-handler' | 'delivery_limit';

/** Headers that describe one failure; replay removes them so the message starts clean. */
export const FAILURE_HEADERS: readonly string[] = [
  Headers.lastError,
  Headers.errorMessage,
  Headers.errorName,
  Headers.errorStack,
  Headers.failureReason,
  Headers.deadLetteredAt,
  Headers.unsettledDeliveries,
  'x-delivery-count', // a quorum queue's, on the delivery a copy was made from
  'x-death',
  'x-first-death-exchange',
  'x-first-death-queue',
  'x-first-death-reason',
  'x-last-death-exchange',
  'x-last-death-queue',
  'x-last-death-reason',
];
