import type { QueueType } from './queue-type';
import type { RetryPolicy } from './retry-policy';

/** Where log lines go; NestJS's Logger and console both fit. */
export interface MessagingLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface MessagingOptions {
  /**
   * amqp://user:pass@host:port/vhost, e.g. process.env.AMQP_URL; or several brokers separated by commas (the
   * nodes of a cluster), tried in turn on every (re)connection: the first URL first, after a lost connection the
   * one after the broker that was in use (connection.ts). Passwords are masked in every log line.
   */
  url: string;
  /** The service: the app-id of what it publishes, and the connection's name unless connectionName is given. */
  serviceName: string;
  /**
   * Names the connection in the broker's management views (client property connection_name). Default: the
   * service name. Several instances of one service set it apart per instance (`payments`, `payments-2`).
   */
  connectionName?: string;
  /** Exchange names (docs/architecture.md: Messaging topology): domain events on a topic exchange, commands on a direct one. */
  eventsExchange?: string;
  commandsExchange?: string;
  /** Reconnection backoff (full jitter between attempts): first delay and the cap. */
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number };
  /** How long a publish may wait for a connection and its confirm before it fails. Default 10 s. */
  publishTimeoutMs?: number;
  /** Default retry policy for consumers that do not set their own. */
  retry?: Partial<RetryPolicy>;
  /** Default prefetch per consumer. Default 10. */
  prefetch?: number;
  /** Default RPC timeout. Default 5 s. */
  rpcTimeoutMs?: number;
  /** Heartbeat in seconds, asked of the broker. Default 10. */
  heartbeatSeconds?: number;
  /** How long close() lets in-flight handlers finish. Default 10 s. */
  shutdownTimeoutMs?: number;
  logger?: MessagingLogger;
  /**
   * How delayed messages (`publish({ delay })`) and retries wait: 'auto' (default) uses the broker's
   * x-delayed-message exchange when it has one (checked on every connection) and TTL delay queues otherwise;
   * 'ttl-queues' never asks and always uses the delay queues.
   */
  delayedMessages?: 'auto' | 'ttl-queues';
  /** The x-delayed-message exchange (headers-typed) the library declares and uses. Default `warren.delayed`. */
  delayedExchange?: string;
  /**
   * The type of every durable queue the library declares (work queues, `<queue>.retry.<n>`, `<queue>.dlq`, the
   * TTL delay queues): 'classic' (default) or 'quorum' (queue-type.ts). A consumer's own
   * `queueArguments['x-queue-type']` wins for its work queue. A broker refuses to change the type of an existing
   * queue (406): switching means new queues (drain and delete the old ones first).
   */
  queueType?: QueueType;
  /**
   * How many deliveries that ended without a settle (the consumer crashed or lost its channel before its ack) a
   * message may have; past that it is parked in `<queue>.dlq` with reason `delivery_limit`. On quorum work
   * queues the broker counts (`x-delivery-limit`), on classic ones the consumer (see QueueConsumer). Default 10.
   */
  deliveryLimit?: number;
}

export const DEFAULT_EVENTS_EXCHANGE = 'warren.events';
export const DEFAULT_COMMANDS_EXCHANGE = 'warren.commands';

export type ResolvedOptions = Required<Omit<MessagingOptions, 'retry' | 'reconnect'>> & {
  retry: RetryPolicy;
  reconnect: { initialDelayMs: number; maxDelayMs: number };
};
