import { Controller, Inject, Module, type INestApplication, type INestMicroservice, type Type } from '@nestjs/common';
import {
  Ctx,
  EventPattern,
  MessagePattern,
  Payload,
  RpcException,
  type AsyncMicroserviceOptions,
} from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { connect, type GetMessage } from 'amqplib';
import { lastValueFrom, map, timer } from 'rxjs';
import { z } from 'zod';
import {
  defineMessage,
  Headers,
  Messaging,
  NonRetryableError,
  RpcRemoteError,
  UnroutableError,
  type PublishedMessage,
} from '../src';
import { MessagingHarness } from '../src/testing';
import {
  MessagingClient,
  MessagingContext,
  MessagingHealthIndicator,
  MessagingModule,
  MessagingServer,
  type MessagingModuleOptions,
} from '../src/nest';
import { cleanup, eventually, testBrokers, uniqueName } from './support/brokers';
import { TcpProxy } from '../../../tools/testing/tcp-proxy';

const ParcelShipped = defineMessage(
  'parcel.shipped',
  z.object({ parcelId: z.string().min(1), weightKg: z.coerce.number().positive() }),
);
const FAST_RETRY = { maxAttempts: 3, initialDelayMs: 50, multiplier: 1, maxDelayMs: 50 };

/** What the handlers saw; the controllers get it injected. */
class Probe {
  readonly calls: Array<{ handler: string; payload: unknown; pattern: string; attempt: number; messageId: string }> =
    [];

  record(handler: string, payload: unknown, ctx: MessagingContext): void {
    this.calls.push({
      handler,
      payload,
      pattern: ctx.getPattern(),
      attempt: ctx.getAttempt(),
      messageId: ctx.getMessage().messageId,
    });
  }

  of(messageId: string) {
    return this.calls.filter((c) => c.messageId === messageId);
  }
}

@Controller()
class ShopController {
  constructor(@Inject(Probe) private readonly probe: Probe) {}

  /** Returns an Observable that records only when it completes: the ack must wait for it. */
  @EventPattern('order.*')
  onOrder(@Payload() payload: unknown, @Ctx() ctx: MessagingContext) {
    return timer(30).pipe(map(() => this.probe.record('order.*', payload, ctx)));
  }

  @EventPattern('order.cancelled')
  onCancelled(@Payload() payload: unknown, @Ctx() ctx: MessagingContext) {
    this.probe.record('order.cancelled', payload, ctx);
  }

  @EventPattern('payment.captured')
  async onPayment(@Payload() payload: unknown, @Ctx() ctx: MessagingContext) {
    this.probe.record('payment.captured', payload, ctx);
    if (ctx.getAttempt() < 3) throw new Error(`gateway timeout on attempt ${ctx.getAttempt()}`);
  }

  @EventPattern('audit.#')
  onAudit() {
    throw new Error('audit store unreachable');
  }

  @EventPattern('refund.requested')
  onRefund() {
    throw new NonRetryableError('refunds are closed for this order');
  }

  @EventPattern(ParcelShipped.type, { contract: ParcelShipped })
  onParcel(@Payload() payload: z.output<typeof ParcelShipped.schema>, @Ctx() ctx: MessagingContext) {
    this.probe.record('parcel.shipped', payload, ctx);
  }

  @EventPattern('shop.restock', { command: true })
  onRestock(@Payload() payload: unknown, @Ctx() ctx: MessagingContext) {
    this.probe.record('shop.restock', payload, ctx);
  }

  @MessagePattern('stock.reserve')
  async reserve(@Payload() { sku, quantity }: { sku: string; quantity: number }) {
    return { sku, reserved: quantity };
  }

  @MessagePattern('stock.count')
  count() {
    throw new Error('stock database down');
  }

  @MessagePattern('stock.release')
  release() {
    throw new RpcException({ message: 'nothing reserved', code: 'NOT_RESERVED' });
  }
}

describe.each(testBrokers())('NestJS integration ($name)', ({ name, url }) => {
  const eventsExchange = uniqueName('events');
  const commandsExchange = uniqueName('commands');
  const base = { serviceName: 'nest-test', eventsExchange, commandsExchange, retry: FAST_RETRY };
  const queues: string[] = [];
  const apps: Array<INestApplication | INestMicroservice> = [];

  /** A hybrid app as services run it: HTTP app + MessagingServer, started the way main.ts does. */
  async function startApp(options: {
    controllers: Type[];
    server?: MessagingModuleOptions['server'];
    url?: string;
    imports?: Type[];
    extra?: Partial<MessagingModuleOptions>;
  }) {
    const probe = new Probe();
    const moduleRef = await Test.createTestingModule({
      imports: [
        ...(options.imports ?? []),
        MessagingModule.forRoot({ ...base, url: options.url ?? url, server: options.server, ...options.extra }),
      ],
      controllers: options.controllers,
      providers: [{ provide: Probe, useValue: probe }],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    apps.push(app);
    app.connectMicroservice({ strategy: app.get(MessagingServer) }, { inheritAppConfig: true });
    const harness = new MessagingHarness(app.get(Messaging));
    await app.startAllMicroservices();
    await app.init();
    return { app, probe, harness, client: app.get(MessagingClient), messaging: app.get(Messaging) };
  }

  afterAll(async () => {
    for (const app of apps) await app.close();
    await cleanup(url, { queues, exchanges: [eventsExchange, commandsExchange] });
  });

  describe('one app with event and request/reply handlers', () => {
    const queue = uniqueName('shop');
    const rpcQueue = uniqueName('shop-rpc');
    queues.push(queue, rpcQueue);
    let shop: Awaited<ReturnType<typeof startApp>>;

    beforeAll(async () => {
      shop = await startApp({ controllers: [ShopController], server: { queue, rpcQueue } });
    });

    const emit = (pattern: string, data: unknown): Promise<PublishedMessage> =>
      lastValueFrom(shop.client.emit<PublishedMessage>(pattern, data));

    it('delivers what MessagingClient emits to a wildcard @EventPattern (and to every other pattern that matches), acking after the Observable completed', async () => {
      const placed = await emit('order.placed', { orderId: 'o-1' });
      const cancelled = await emit('order.cancelled', { orderId: 'o-2' });
      await shop.harness.acked({ messageId: placed.messageId });
      expect(shop.probe.of(placed.messageId)).toEqual([
        {
          handler: 'order.*',
          payload: { orderId: 'o-1' },
          pattern: 'order.placed',
          attempt: 1,
          messageId: placed.messageId,
        },
      ]);
      await shop.harness.acked({ messageId: cancelled.messageId });
      expect(
        shop.probe
          .of(cancelled.messageId)
          .map((c) => `${c.handler} <- ${c.pattern}`)
          .sort(),
      ).toEqual(['order.* <- order.cancelled', 'order.cancelled <- order.cancelled']);
      expect(placed).toMatchObject({ exchange: eventsExchange, routingKey: 'order.placed', type: 'order.placed' });
    });

    it('takes fire-and-forget commands ({ command: true }) from the commands exchange, not the events exchange', async () => {
      const command = await shop.messaging.publish({
        exchange: commandsExchange,
        routingKey: 'shop.restock',
        payload: { sku: 'SKU-1' },
      });
      await shop.harness.acked({ messageId: command.messageId });
      expect(shop.probe.of(command.messageId)).toMatchObject([{ handler: 'shop.restock', payload: { sku: 'SKU-1' } }]);
      await expect(emit('shop.restock', {})).rejects.toBeInstanceOf(UnroutableError);
    });

    it('fails emit with UnroutableError when no queue is bound for the pattern', async () => {
      await expect(emit('nobody.listens', {})).rejects.toBeInstanceOf(UnroutableError);
    });

    it('answers client.send from a @MessagePattern handler', async () => {
      await expect(lastValueFrom(shop.client.send('stock.reserve', { sku: 'SKU-1', quantity: 2 }))).resolves.toEqual({
        sku: 'SKU-1',
        reserved: 2,
      });
    });

    it('surfaces a throwing @MessagePattern handler as RpcRemoteError, and an unserved key as UnroutableError', async () => {
      const failed = lastValueFrom(shop.client.send('stock.count', {}));
      await expect(failed).rejects.toBeInstanceOf(RpcRemoteError);
      await expect(failed).rejects.toThrow(/stock database down/);
      await expect(lastValueFrom(shop.client.send('stock.release', {}))).rejects.toMatchObject({
        remoteCode: 'NOT_RESERVED',
        message: expect.stringMatching(/nothing reserved/),
      });
      await expect(lastValueFrom(shop.client.send('stock.unknown', {}))).rejects.toBeInstanceOf(UnroutableError);
    });

    it('retries a failing event handler until it succeeds', async () => {
      const sent = await emit('payment.captured', { paymentId: 'p-1' });
      await shop.harness.acked({ messageId: sent.messageId });
      expect(shop.harness.all('retried', { messageId: sent.messageId }).map((r) => r.attempt)).toEqual([1, 2]);
      expect(shop.probe.of(sent.messageId).map((c) => c.attempt)).toEqual([1, 2, 3]);
    });

    it("parks a handler that always fails in '<queue>.dlq', with the handler's own error", async () => {
      const sent = await emit('audit.logged', { entry: 1 });
      const parked = await shop.harness.deadLettered({ messageId: sent.messageId });
      expect(parked).toMatchObject({ reason: 'retries-exhausted', attempt: FAST_RETRY.maxAttempts });
      const msg = await takeParked(url, queue, sent.messageId);
      expect(msg.properties.headers).toMatchObject({
        [Headers.failureReason]: 'retries-exhausted',
        [Headers.errorMessage]: 'audit store unreachable',
      });
    });

    it('parks a NonRetryableError at once: the original error gets past Nest’s exception filter', async () => {
      const sent = await emit('refund.requested', { orderId: 'o-3' });
      await expect(shop.harness.deadLettered({ messageId: sent.messageId })).resolves.toMatchObject({
        reason: 'non-retryable',
        attempt: 1,
      });
      expect(shop.harness.all('retried', { messageId: sent.messageId })).toHaveLength(0);
    });

    it('sends a payload that breaks the pattern’s contract straight to the DLQ; a valid one arrives transformed', async () => {
      const invalid = await emit(ParcelShipped.type, { parcelId: '', weightKg: 'heavy' });
      await expect(shop.harness.deadLettered({ messageId: invalid.messageId })).resolves.toMatchObject({
        reason: 'invalid',
        attempt: 1,
      });
      expect(shop.probe.of(invalid.messageId)).toEqual([]);
      expect((await takeParked(url, queue, invalid.messageId)).properties.headers?.[Headers.errorMessage]).toMatch(
        /invalid parcel.shipped: parcelId/,
      );
      const valid = await emit(ParcelShipped.type, { parcelId: 'P-1', weightKg: '2.5' });
      await shop.harness.acked({ messageId: valid.messageId });
      expect(shop.probe.of(valid.messageId)).toMatchObject([{ payload: { parcelId: 'P-1', weightKg: 2.5 } }]);
    });

    it('parks a message of a type no handler takes, and keeps handling the queue', async () => {
      // routed into the queue by the 'order.*' binding, but its type matches no handler pattern
      const stray = await shop.messaging.publish({
        exchange: eventsExchange,
        routingKey: 'order.placed',
        type: 'order.placed.v2',
        payload: {},
      });
      await expect(shop.harness.deadLettered({ messageId: stray.messageId })).resolves.toMatchObject({
        reason: 'no-handler',
      });
      const next = await emit('order.placed', { orderId: 'o-4' });
      await shop.harness.acked({ messageId: next.messageId });
      expect(shop.probe.of(next.messageId)).toHaveLength(1);
    });
  });

  it('refuses at listen time a wildcard @MessagePattern, and @EventPattern handlers without a queue', async () => {
    @Controller()
    class WildcardCommands {
      @MessagePattern('stock.*')
      any() {
        return 1;
      }
    }
    @Controller()
    class EventsWithoutQueue {
      @EventPattern('order.placed')
      placed() {}
    }
    @Controller()
    class WildcardFireAndForget {
      @EventPattern('shop.*', { command: true })
      any() {}
    }
    await expect(startApp({ controllers: [WildcardCommands] })).rejects.toThrow(
      /'stock\.\*'.*direct exchange.*wildcards/,
    );
    await expect(
      startApp({ controllers: [WildcardFireAndForget], server: { queue: uniqueName('wild') } }),
    ).rejects.toThrow(/'shop\.\*'.*commands are bound to the commands exchange/);
    await expect(startApp({ controllers: [EventsWithoutQueue] })).rejects.toThrow(
      /@EventPattern handlers \('order.placed'\) but no queue/,
    );
  });

  it('takes its options from forRootAsync with a ConfigService-like factory (as a plain microservice)', async () => {
    const queue = uniqueName('async');
    queues.push(queue);
    class ConfigService {
      constructor(private readonly values: Record<string, string>) {}
      get(key: string): string {
        return this.values[key];
      }
    }
    @Module({
      providers: [
        {
          provide: ConfigService,
          useValue: new ConfigService({ AMQP_URL: url, SERVICE_NAME: 'configured', QUEUE: queue }),
        },
      ],
      exports: [ConfigService],
    })
    class ConfigModule {}
    @Controller()
    class ConfiguredController {
      constructor(@Inject(Probe) private readonly probe: Probe) {}
      @EventPattern('invoice.issued')
      issued(@Payload() payload: unknown, @Ctx() ctx: MessagingContext) {
        this.probe.record('invoice.issued', payload, ctx);
      }
      @EventPattern('invoice.voided')
      voided() {
        throw new NonRetryableError('already paid');
      }
    }
    const probe = new Probe();
    const moduleRef = await Test.createTestingModule({
      imports: [
        MessagingModule.forRootAsync({
          imports: [ConfigModule],
          inject: [ConfigService],
          useFactory: async (config: ConfigService) => ({
            ...base,
            url: config.get('AMQP_URL'),
            serviceName: config.get('SERVICE_NAME'),
            server: { queue: config.get('QUEUE') },
          }),
        }),
      ],
      controllers: [ConfiguredController],
      providers: [{ provide: Probe, useValue: probe }],
    }).compile();
    const microservice = moduleRef.createNestMicroservice<AsyncMicroserviceOptions>({
      inject: [MessagingServer],
      useFactory: (strategy: MessagingServer) => ({ strategy }),
      logger: false,
    });
    apps.push(microservice);
    const messaging = microservice.get(Messaging);
    const harness = new MessagingHarness(messaging);
    await microservice.listen();
    expect(messaging.options.serviceName).toBe('configured');
    const client = microservice.get(MessagingClient);
    const issued = await lastValueFrom(client.emit<PublishedMessage>('invoice.issued', { invoiceId: 'i-1' }));
    await harness.acked({ messageId: issued.messageId });
    expect(probe.of(issued.messageId)).toMatchObject([{ payload: { invoiceId: 'i-1' } }]);
    // no hybrid app here: the global interceptor applies without inheritAppConfig
    const voided = await lastValueFrom(client.emit<PublishedMessage>('invoice.voided', { invoiceId: 'i-1' }));
    await expect(harness.deadLettered({ messageId: voided.messageId })).resolves.toMatchObject({
      reason: 'non-retryable',
    });
    await microservice.close();
  });

  it('reports health up, down while the broker is cut off, and up again', async () => {
    const queue = uniqueName('health');
    queues.push(queue);
    @Controller()
    class Listener {
      @EventPattern('health.checked')
      checked() {}
    }
    const proxy = await TcpProxy.start(url);
    try {
      const { app } = await startApp({
        url: proxy.url,
        controllers: [Listener],
        server: { queue },
        imports: [TerminusModule],
        extra: { reconnect: { initialDelayMs: 20, maxDelayMs: 200 } },
      });
      const indicator = app.get(MessagingHealthIndicator);
      const health = app.get(HealthCheckService);
      const check = () => health.check([() => indicator.isHealthy()]);
      expect(indicator.isHealthy()).toMatchObject({
        messaging: {
          status: 'up',
          connected: true,
          consumers: { [queue]: 'consuming' },
          counters: { reconnections: 0 },
        },
      });
      // how delays go: the bundled broker's delayed exchange, RabbitMQ's (no plugin) TTL queues
      expect(indicator.isHealthy().messaging.delayedMessages).toBe(
        name === 'bundled' ? 'delayed-exchange' : 'ttl-queues',
      );
      expect(indicator.isHealthy().messaging).toMatchObject({
        queueType: 'classic',
        broker: expect.stringMatching(/^amqp:\/\/guest:\*\*\*@127\.0\.0\.1:\d+/),
      });
      await expect(check()).resolves.toMatchObject({ status: 'ok' });

      await proxy.cut();
      const down = await eventually('the indicator to report down', () => {
        const r = indicator.isHealthy();
        return r.messaging.status === 'down' ? r : undefined;
      });
      expect(down.messaging).toMatchObject({ connected: false, counters: { reconnections: 1 } });
      await expect(check()).rejects.toMatchObject({
        response: { status: 'error', error: { messaging: { status: 'down' } } },
      });

      await proxy.restore();
      await eventually('the indicator to report up again', () =>
        indicator.isHealthy().messaging.status === 'up' ? true : undefined,
      );
      expect(indicator.isHealthy().messaging).toMatchObject({ connected: true, consumers: { [queue]: 'consuming' } });
      await expect(check()).resolves.toMatchObject({ status: 'ok' });
    } finally {
      await proxy.close();
    }
  });

  it('on app.close() lets the handler in flight finish and ack; the message is not delivered again', async () => {
    const queue = uniqueName('shutdown');
    queues.push(queue);
    const started = deferred();
    const release = deferred();
    const finished: string[] = [];
    @Controller()
    class SlowController {
      @EventPattern('report.requested')
      async build(@Ctx() ctx: MessagingContext) {
        started.resolve();
        await release.promise;
        finished.push(ctx.getMessage().messageId);
      }
    }
    const { app, harness, client } = await startApp({ controllers: [SlowController], server: { queue } });
    const server = app.get(MessagingServer);
    const sent = await lastValueFrom(client.emit<PublishedMessage>('report.requested', { reportId: 'r-1' }));
    await started.promise;

    const closing = app.close();
    await eventually('the consumer to stop taking messages', () =>
      server.consumers.every((c) => !c.isConsuming) ? true : undefined,
    );
    expect(finished).toEqual([]);
    release.resolve();
    await closing;

    expect(finished).toEqual([sent.messageId]);
    await expect(harness.acked({ messageId: sent.messageId }, 0)).resolves.toBeDefined();
    const conn = await connect(url);
    try {
      const ch = await conn.createChannel();
      await expect(ch.checkQueue(queue)).resolves.toMatchObject({ messageCount: 0, consumerCount: 0 });
      await expect(ch.checkQueue(`${queue}.dlq`)).resolves.toMatchObject({ messageCount: 0 });
    } finally {
      await conn.close();
    }
  });
});

/** Takes the parked message with this id from `<queue>.dlq` (the 'dead-lettered' event means it is there). */
async function takeParked(url: string, queue: string, messageId: string): Promise<GetMessage> {
  const conn = await connect(url);
  try {
    const ch = await conn.createChannel();
    for (;;) {
      const msg = await ch.get(`${queue}.dlq`, { noAck: true });
      if (!msg) throw new Error(`message ${messageId} is not in ${queue}.dlq`);
      if (msg.properties.messageId === messageId) return msg;
    }
  } finally {
    await conn.close();
  }
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
