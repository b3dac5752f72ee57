import type { RetryPolicy } from '../../core/retry-policy';

export interface MessagingServerOptions {
  /**
   * The work queue every @EventPattern handler of the app consumes from, `<service>.<purpose>` (e.g.
   * `payments.order-placed`); bound to the events exchange with each event pattern. Needed only when the app
   * has event handlers.
   */
  queue?: string;
  /** The queue @MessagePattern (request/reply) handlers consume from. Default `<serviceName>.rpc`. */
  rpcQueue?: string;
  /** Unacked messages each of the two consumers may hold. Default: the Messaging instance's prefetch. */
  prefetch?: number;
  /** Retry policy of the event queue. Default: the Messaging instance's. Request/reply is never retried. */
  retry?: Partial<RetryPolicy>;
}
