import { GOODBYE_MS } from './settle';
import { EventEmitter } from 'node:events';
import type { ChannelModel } from 'amqplib';
import type { MessageContract, PayloadInput } from '../contracts/define-message';
import { AmqpConnection } from './connection';
import { QueueConsumer, type ConsumerDefinition } from './consumer';
import type { MessagingEventMap } from './events';
import type { OutgoingMessage, PublishedMessage } from './message';
import { DEFAULT_DELAYED_EXCHANGE, DelayedDelivery, validateDelay, type DelayMode } from './delayed-delivery';
import { countEvents, type MessagingCounters } from './metrics';
import {
  DEFAULT_COMMANDS_EXCHANGE,
  DEFAULT_EVENTS_EXCHANGE,
  type MessagingOptions,
  type ResolvedOptions,
} from './options';
import { Publisher, type PublishTracing } from './publisher';
import { DEFAULT_DELIVERY_LIMIT, validateDeliveryLimit, validateQueueType } from './queue-type';
import { DEFAULT_RETRY_POLICY, validateRetryPolicy } from './retry-policy';
import { RpcClient } from './rpc-client';
import { MessagingInstruments } from './telemetry';
import { Topology } from './topology';

export type PublishExtras = Omit<OutgoingMessage, 'exchange' | 'routingKey' | 'payload' | 'type'> & {
  routingKey?: string;
};

const silentLogger = { log: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * The framework-free API: one connection, one confirm channel for publishing, one channel per consumer.
 *
 *   const messaging = new Messaging({ url: process.env.AMQP_URL!, serviceName: 'payments' });
 *   await messaging.start();
 *   await messaging.emit(OrderPlaced, { orderId, items });
 *   messaging.consume({ queue: 'payments.order-placed', bindings: [{ pattern: 'order.placed' }],
 *                       handlers: [{ pattern: 'order.placed', contract: OrderPlaced, handle: async (m) => ... }] });
 */
export class Messaging {
  /** What the library reports as it works (see MessagingEventMap): the test harness and metrics listen here. */
  readonly events = new EventEmitter<MessagingEventMap>();
  readonly options: ResolvedOptions;
  readonly connection: AmqpConnection;
  readonly topology = new Topology();
  readonly counters: MessagingCounters;
  /** The OpenTelemetry instruments, taken from the global MeterProvider when this instance is made. */
  readonly instruments: MessagingInstruments;
  /** Delayed messages and retries with jitter: which way they go (`delays.mode`) and how. */
  readonly delays: DelayedDelivery;
  private readonly publisher: Publisher;
  private readonly rpc: RpcClient;
  private readonly registered: QueueConsumer[] = [];
  private closing?: Promise<void>;
  private started = false;
  /** The messaging-wide topology on `model`: on every connect, and before a closed channel is reopened. */
  private readonly redeclare = (model: ChannelModel): Promise<void> =>
    this.topology.apply(model, this.options.queueType);
  private readonly emitter = <K extends keyof MessagingEventMap>(event: K, ...args: MessagingEventMap[K]): void =>
    void this.events.emit(event, ...(args as never));

  constructor(options: MessagingOptions) {
    this.options = {
      eventsExchange: DEFAULT_EVENTS_EXCHANGE,
      commandsExchange: DEFAULT_COMMANDS_EXCHANGE,
      publishTimeoutMs: 10_000,
      prefetch: 10,
      rpcTimeoutMs: 5_000,
      heartbeatSeconds: 10,
      shutdownTimeoutMs: 10_000,
      logger: silentLogger,
      delayedMessages: 'auto',
      delayedExchange: DEFAULT_DELAYED_EXCHANGE,
      ...options,
      queueType: validateQueueType(options.queueType ?? 'classic'),
      deliveryLimit: validateDeliveryLimit(options.deliveryLimit ?? DEFAULT_DELIVERY_LIMIT),
      reconnect: { initialDelayMs: 100, maxDelayMs: 10_000, ...options.reconnect },
      retry: validateRetryPolicy({ ...DEFAULT_RETRY_POLICY, ...options.retry }),
      connectionName: options.connectionName || options.serviceName,
    };
    this.counters = countEvents(this.events);
    this.instruments = new MessagingInstruments();
    const { url, serviceName, connectionName, heartbeatSeconds, reconnect, logger } = this.options;
    // parses the broker list: a malformed URL fails here, at construction
    this.connection = new AmqpConnection({ url, connectionName, heartbeatSeconds, reconnect, logger });
    this.connection.on('connected', () => this.events.emit('connected'));
    this.connection.on('disconnected', (err: Error) => this.events.emit('disconnected', err));
    const recovery = {
      connection: this.connection,
      backoff: reconnect,
      logger,
      emit: this.emitter,
      redeclare: this.redeclare,
    };
    this.publisher = new Publisher(
      this.connection,
      serviceName,
      this.options.publishTimeoutMs,
      (m) => this.events.emit('published', m),
      () => this.events.emit('backpressure'),
      recovery,
      this.instruments,
    );
    this.rpc = new RpcClient(this.connection, this.publisher, recovery, this.instruments);
    this.delays = new DelayedDelivery(this.connection, {
      connectionName,
      queueType: this.options.queueType,
      exchange: this.options.delayedExchange,
      use: this.options.delayedMessages,
      timeoutMs: this.options.publishTimeoutMs,
      logger,
    });
    this.topology
      .exchange({ name: this.options.eventsExchange, type: 'topic' })
      .exchange({ name: this.options.commandsExchange, type: 'direct' });
  }

  /**
   * Connects, declares the topology and starts the consumers registered so far; resolves once all that
   * is done. If the broker is not there yet it keeps trying (with backoff) and resolves when it is.
   */
  async start(): Promise<void> {
    if (this.started) return this.connection.start();
    this.started = true;
    // order matters on every (re)connect: exchanges first, then the publisher, then consumers that bind
    await this.connection.addHook(this.redeclare);
    await this.connection.addHook(this.delays.hook);
    await this.connection.addHook(this.publisher.hook);
    await this.connection.addHook(this.rpc.hook);
    for (const c of this.registered) await this.connection.addHook(c.hook);
    await this.connection.start();
  }

  /** Every consumer registered with consume(), for health checks. */
  get consumers(): readonly QueueConsumer[] {
    return this.registered;
  }

  get isConnected(): boolean {
    return this.connection.isConnected;
  }

  /** Which way delayed messages go on the current connection (undefined before the first one). */
  get delayMode(): DelayMode | undefined {
    return this.delays.mode;
  }

  /**
   * Publishes with confirms, persistent and mandatory; resolves when the broker has the message. With
   * `delay` (ms), the broker holds it that long first (see OutgoingMessage.delay). Traced as a `send` span under
   * the active context, or under `tracing.parent` (README: Tracing and metrics).
   */
  publish(message: OutgoingMessage, tracing?: PublishTracing): Promise<PublishedMessage> {
    if (message.delay === undefined) return this.publisher.publish(message, undefined, tracing);
    return this.publishDelayed(message, tracing);
  }

  private async publishDelayed(message: OutgoingMessage, tracing?: PublishTracing): Promise<PublishedMessage> {
    const delay = validateDelay(message.delay);
    if (message.expirationMs !== undefined)
      throw new RangeError(
        'delay cannot be combined with expirationMs: a delayed message is held by a delay of its own',
      );
    if (message.mandatory === true)
      throw new RangeError(
        'delay cannot be combined with mandatory: true: the broker cannot tell at publish time whether a delayed message will be routable',
      );
    if (delay === 0) return this.publisher.publish({ ...message, delay: undefined }, undefined, tracing);
    return this.publisher.publish(
      message,
      () => this.delays.route(message, delay, this.options.publishTimeoutMs),
      tracing,
    );
  }

  /** Validates against the contract and publishes to the events exchange with the type as routing key. */
  emit<C extends MessageContract>(
    contract: C,
    payload: PayloadInput<C>,
    extras?: PublishExtras,
  ): Promise<PublishedMessage> {
    return this.send(contract, payload, { exchange: this.options.eventsExchange, ...extras });
  }

  /** Validates and publishes a command to the commands exchange (routing key = the contract's type). */
  send<C extends MessageContract>(
    contract: C,
    payload: PayloadInput<C>,
    extras?: PublishExtras & { exchange?: string },
  ): Promise<PublishedMessage> {
    let parsed: unknown;
    try {
      parsed = contract.parse(payload);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.publish({
      exchange: this.options.commandsExchange,
      ...extras,
      routingKey: extras?.routingKey ?? contract.type,
      type: contract.type,
      payload: parsed,
    });
  }

  /** Request/reply: resolves with the handler's result, or rejects with RpcTimeoutError / RpcRemoteError / UnroutableError. */
  request<T = unknown>(
    routingKey: string | MessageContract,
    payload: unknown,
    opts: { timeoutMs?: number; exchange?: string; headers?: Record<string, unknown> } = {},
  ): Promise<T> {
    let type: string;
    if (typeof routingKey === 'string') type = routingKey;
    else {
      try {
        payload = routingKey.parse(payload);
      } catch (err) {
        return Promise.reject(err);
      }
      type = routingKey.type;
    }
    return this.rpc.request<T>({
      exchange: opts.exchange ?? this.options.commandsExchange,
      routingKey: type,
      type,
      payload,
      headers: opts.headers,
      timeoutMs: opts.timeoutMs ?? this.options.rpcTimeoutMs,
    });
  }

  /** Registers a consumer; it starts now if connected, else with start(), and again after reconnects. */
  async consume(definition: ConsumerDefinition): Promise<QueueConsumer> {
    const consumer = new QueueConsumer(definition, {
      connection: this.connection,
      publisher: this.publisher,
      eventsExchange: this.options.eventsExchange,
      prefetch: this.options.prefetch,
      retry: this.options.retry,
      queueType: this.options.queueType,
      deliveryLimit: this.options.deliveryLimit,
      delays: this.delays,
      logger: this.options.logger,
      emit: this.emitter,
      instruments: this.instruments,
      backoff: this.options.reconnect,
      redeclare: this.redeclare,
    });
    validateRetryPolicy(consumer.policy);
    this.registered.push(consumer);
    if (this.started) await this.connection.addHook(consumer.hook);
    return consumer;
  }

  /**
   * Graceful shutdown: stop consuming, let in-flight handlers finish (up to shutdownTimeoutMs), then close the
   * connection. A broker that stopped answering costs at most min(shutdownTimeoutMs, 2 s) more per round
   * trip (the cancel, the channel close, the connection close): close() always returns.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.all(this.registered.map((c) => c.stop(this.options.shutdownTimeoutMs)));
      this.rpc.close();
      this.publisher.stop();
      await this.connection.close(Math.min(this.options.shutdownTimeoutMs, GOODBYE_MS));
    })();
    return this.closing;
  }
}
