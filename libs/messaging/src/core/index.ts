export * from './message';
export * from './options';
export * from './events';
export * from './headers';
export * from './retry-policy';
export * from './topic-pattern';
export * from './trace-context';
export { AmqpConnection } from './connection';
export { parseBrokerUrls, redactUrl } from './broker-urls';
export { exponentialDelay } from './backoff';
export type { ChannelRole } from './channel-recovery';
export {
  DEFAULT_DELIVERY_LIMIT,
  QUEUE_TYPES,
  validateQueueType,
  validateDeliveryLimit,
  type QueueType,
} from './queue-type';
export { stampMessage, type StampedMessage } from './stamp';
export { QueueConsumer, type ConsumerDefinition, type MessageHandler } from './consumer';
export { Messaging, type PublishExtras } from './messaging';
export { DIRECT_REPLY_TO } from './rpc-client';
export type { MessagingCounters } from './metrics';
export type { PublishTracing } from './publisher';
export { INSTRUMENTATION_NAME, type MessagingInstruments, type DeliveryOutcome } from './telemetry';
export { Topology } from './topology';
export {
  DelayedDelivery,
  probeDelayedExchange,
  validateDelay,
  delayBucket,
  ttlDelayExchangeName,
  ttlDelayQueueName,
  MAX_DELAY_MS,
  DEFAULT_DELAYED_EXCHANGE,
  DELAY_HEADER,
  DELAY_TARGET_HEADER,
  type DelayMode,
} from './delayed-delivery';
