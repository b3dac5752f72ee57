import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { Click, PageView } from '@warren/contracts';
import { InboxBusyError, Messaging, type IncomingMessage, type QueueConsumer } from '@warren/messaging';
import { topologyNames } from '@warren/service-kit';
import { AggregatorService, INBOX_CONSUMER, MAX_BATCH, type ClickstreamEvent } from './aggregator.service';

/** The clickstream's work queue (namespaced like every queue: `<WARREN_NAMESPACE>.analytics.clickstream`). */
export const CLICKSTREAM_QUEUE = 'analytics.clickstream';
/**
 * Messages held at once: enough for a few full batches to be on their way to Redis while the next one fills,
 * so the consumer never waits on a round trip with nothing to do.
 */
export const CLICKSTREAM_PREFETCH = 4 * MAX_BATCH;

/**
 * Consumes the clickstream (`clickstream.page_view`, `clickstream.click` on warren.events) from the
 * `analytics.clickstream` queue. Each message is acked once its event is counted in Redis; redelivered events are
 * counted once, because the aggregator checks and marks the inbox in the same Redis script that counts the
 * event, many events per round trip.
 *
 * The consumer is the messaging core's own (`Messaging.consume`), not a Nest @EventPattern controller: at tens
 * of thousands of events a second, the Nest microservice layer around each message (its interceptors and
 * observables) cost more CPU than the aggregation. The core gives the same guarantees: the payload is checked
 * against its contract (an invalid one goes to the DLQ), the ack comes after the handler, and a failure goes
 * round the retry queues.
 */
@Injectable()
export class ClickstreamConsumer implements OnModuleInit {
  consumer?: QueueConsumer;

  constructor(
    @Inject(Messaging) private readonly messaging: Messaging,
    @Inject(AggregatorService) private readonly aggregator: AggregatorService,
  ) {}

  /** Registers the consumer; it starts consuming when the messaging connection does (or now, if it is up). */
  async onModuleInit(): Promise<void> {
    const handle = (message: IncomingMessage<ClickstreamEvent>) => this.aggregate(message);
    this.consumer = await this.messaging.consume({
      queue: topologyNames().queue(CLICKSTREAM_QUEUE),
      bindings: [{ pattern: PageView.type }, { pattern: Click.type }],
      prefetch: CLICKSTREAM_PREFETCH,
      handlers: [
        { pattern: PageView.type, contract: PageView, handle },
        { pattern: Click.type, contract: Click, handle },
      ],
    });
  }

  private async aggregate(message: IncomingMessage<ClickstreamEvent>): Promise<void> {
    if (!message.messageId)
      throw new TypeError('the inbox needs a message id: publish with a message id (the library always sets one)');
    const outcome = await this.aggregator.add(message.messageId, message.payload, message.queue);
    // an older instance (RedisInbox's claim) is counting it right now: retried, as RedisInbox would
    if (outcome === 'busy') throw new InboxBusyError(INBOX_CONSUMER, message.messageId);
  }
}
