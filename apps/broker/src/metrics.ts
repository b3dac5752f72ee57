/**
 * Counters the broker keeps for Prometheus, named after rabbitmq_prometheus's rabbitmq_global_* metrics. Plain
 * numbers bumped on the hot path (one increment per message and event); gauges (connections, queue depths,
 * memory) are read when scraped, never kept.
 */
export class Metrics {
  /** basic.publish messages received. */
  received = 0;
  /** … that reached at least one queue. */
  routed = 0;
  unroutableReturned = 0;
  unroutableDropped = 0;
  /** Publisher confirms (acks) sent, counted per message. */
  confirmed = 0;
  /** Deliveries to consumers and basic.get-ok. */
  delivered = 0;
  redelivered = 0;
  acknowledged = 0;
  connectionsOpened = 0;
  connectionsClosed = 0;
}
