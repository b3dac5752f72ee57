import type { RetryPolicy } from './retry-policy';

/** Where log lines go; NestJS's Logger and console both fit. */
export interface MessagingLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface MessagingOptions {
  /** amqp://user:pass@host:port/vhost, e.g. process.env.AMQP_URL. */
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
}

export const DEFAULT_EVENTS_EXCHANGE = 'warren.events';
export const DEFAULT_COMMANDS_EXCHANGE = 'warren.commands';

export type ResolvedOptions = Required<Omit<MessagingOptions, 'retry' | 'reconnect'>> & {
  retry: RetryPolicy;
  reconnect: { initialDelayMs: number; maxDelayMs: number };
};
