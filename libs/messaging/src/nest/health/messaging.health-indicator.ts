import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { redactUrl } from '../../core/broker-urls';
import { Messaging } from '../../core/messaging';

/**
 * A terminus health indicator: up while connected to the broker with every consumer (MessagingServer's
 * and any started with messaging.consume()) consuming; the details carry the connection state (and which broker
 * of the url list, password masked), the queue type, each consumer and the counters.
 *
 *   @Get('health') @HealthCheck()
 *   check() { return this.health.check([() => this.messaging.isHealthy()]); }
 */
@Injectable()
export class MessagingHealthIndicator {
  constructor(
    @Inject(Messaging) private readonly messaging: Messaging,
    @Inject(HealthIndicatorService) private readonly indicators: HealthIndicatorService,
  ) {}

  isHealthy<const Key extends string = 'messaging'>(key: Key = 'messaging' as Key): HealthIndicatorResult<Key> {
    const indicator = this.indicators.check(key);
    const connected = this.messaging.isConnected;
    const consumers = Object.fromEntries(
      this.messaging.consumers.map((c) => [c.queue, c.isConsuming ? 'consuming' : 'stopped']),
    );
    const details = {
      connected,
      ...(connected ? { broker: redactUrl(this.messaging.connection.url) } : {}),
      queueType: this.messaging.options.queueType,
      blocked: this.messaging.connection.blocked,
      consumers,
      delayedMessages: this.messaging.delayMode ?? 'unknown',
      counters: { ...this.messaging.counters },
    };
    const up = connected && Object.values(consumers).every((state) => state === 'consuming');
    return up ? indicator.up(details) : indicator.down(details);
  }
}
