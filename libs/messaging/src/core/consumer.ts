import { GOODBYE_MS, settleWithin } from './settle';
import { context, type Span } from '@opentelemetry/api';
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import type { MessageContract } from '../contracts/define-message';
import { MessageValidationError, NonRetryableError, RetryUntilError, UnroutableError } from '../errors';
import { fullJitterDelay } from './backoff';
import { ChannelRecovery, type ChannelRecoveryDeps } from './channel-recovery';
import type { AmqpConnection } from './connection';
import { DELAY_HEADERS, delayedTargetExchange, type DelayedDelivery, type DelayRoute } from './delayed-delivery';
import type { DeliveryEvent, MessagingEventMap } from './events';
import { FAILURE_HEADERS, Headers, type FailureReason } from './headers';
import type { IncomingMessage } from './message';
import type { MessagingLogger } from './options';
import type { Publisher } from './publisher';
import { deadLetterQueueOptions, queueTypeOf, retryQueueOptions, workQueueOptions, type QueueType } from './queue-type';
import {
  deadLetterQueueName,
  jitteredRetryDelayMs,
  retryDelayMs,
  retryQueueName,
  type RetryPolicy,
} from './retry-policy';
import { DeliveryTelemetry, flagsHex, type MessagingInstruments } from './telemetry';
import {
  newSpanId,
  newTraceId,
  parseTraceparent,
  runInScope,
  formatTraceparent,
  type MessageScope,
} from './trace-context';
import { topicMatches } from './topic-pattern';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- handlers declare their own payload type
export interface MessageHandler<T = any> {
  /** The message type (or routing key) this handler takes; topic wildcards allowed: `order.*`, `order.#`. */
  pattern: string;
  /** When set, the payload is validated first; an invalid message goes straight to the DLQ. */
  contract?: MessageContract;
  handle(message: IncomingMessage<T>): unknown;
}

export interface ConsumerDefinition {
  /** The work queue, `<service>.<purpose>`; declared durable with its delay queues and `<queue>.dlq`. */
  queue: string;
  /** Bindings to declare; `exchange` defaults to the events exchange. */
  bindings?: Array<{ exchange?: string; pattern: string }>;
  handlers: MessageHandler[];
  prefetch?: number;
  retry?: Partial<RetryPolicy>;
  /** Request/reply: each handler's result goes back to the request's reply-to; failures reply with an error. */
  rpc?: boolean;
  /**
   * Queue arguments for the work queue (x-max-length...). Its `x-queue-type` wins over the messaging-wide
   * `queueType` for this work queue (its retry and dead-letter queues keep the messaging-wide type).
   */
  queueArguments?: Record<string, unknown>;
}

type Emit = <K extends keyof MessagingEventMap>(event: K, ...args: MessagingEventMap[K]) => void;

/**
 * One consumer on one work queue, on a channel of its own (so its prefetch is its own). Acks only after
 * the handler finished. A failure is copied to the next delay queue (or the DLQ) with a confirm and only
 * then acked, so a crash in between at worst repeats a message, never loses it.
 *
 * A poison message (one that kills its consumer, or its channel, before the ack every time) is bounded too, by
 * the delivery limit. On a quorum work queue the broker counts and parks it in `<queue>.dlq` (queue-type.ts). A
 * classic queue only says a delivery is a redelivery, and a count kept in memory dies with the process the message
 * kills, so the count travels with the message: a redelivered message is not handled but copied back to the tail
 * of its queue with `x-unsettled-deliveries` one higher (confirmed) and then acked. The copy comes back as a fresh
 * delivery and is handled; each crash thus adds one to the count the message carries, and a redelivery past the
 * limit is parked (reason delivery_limit) instead of copied. Its handler runs limit + 1 times, as on a quorum
 * queue, give or take the rare crash that falls between a counting copy's confirm and the original's ack: then both
 * survive and the message goes on as two, each counted (at least once, never lost). The price: a redelivered
 * message goes to the back of the queue, and messages in flight beside a crashing one (or on a lost connection)
 * are counted as well, which a limit well above 1 absorbs.
 */
export class QueueConsumer {
  private channel?: Channel;
  private consumerTag?: string;
  private readonly inFlight = new Set<Promise<void>>();
  /** Copies that failed in a row (moveFailed's backoff); a copy that succeeds resets it. */
  private moveFailures = 0;
  /** Messages waiting out moveFailed's backoff before they are given back; stop() drops the timers (closing the channel gives them back). */
  private readonly requeueTimers = new Set<NodeJS.Timeout>();
  private readonly cancelled = new WeakSet<Channel>();
  /** Redeliveries being counted: handlers wait for them (see onRedelivered). */
  private readonly counting = new Set<Promise<void>>();
  private stopped = false;
  private readonly recovery: ChannelRecovery;
  readonly policy: RetryPolicy;
  /** Whether this consumer counts unsettled deliveries itself (its work queue is not a quorum queue). */
  readonly countsDeliveries: boolean;

  constructor(
    readonly definition: ConsumerDefinition,
    private readonly deps: {
      connection: AmqpConnection;
      publisher: Publisher;
      eventsExchange: string;
      prefetch: number;
      retry: RetryPolicy;
      queueType: QueueType;
      deliveryLimit: number;
      /** When its mode is 'delayed-exchange', retries go through the broker's delayed exchange, with jitter. */
      delays?: DelayedDelivery;
      logger: MessagingLogger;
      emit: Emit;
      instruments: MessagingInstruments;
      backoff: ChannelRecoveryDeps['backoff'];
      redeclare?: ChannelRecoveryDeps['redeclare'];
    },
  ) {
    this.policy = { ...deps.retry, ...definition.retry };
    this.countsDeliveries =
      queueTypeOf(
        workQueueOptions(definition.queue, deps.queueType, deps.deliveryLimit, definition.queueArguments).arguments,
      ) !== 'quorum';
    this.recovery = new ChannelRecovery(
      'consumer',
      definition.queue,
      {
        connection: deps.connection,
        backoff: deps.backoff,
        logger: deps.logger,
        emit: deps.emit,
        redeclare: deps.redeclare,
      },
      this.hook,
    );
  }

  get queue(): string {
    return this.definition.queue;
  }

  get isConsuming(): boolean {
    return this.consumerTag !== undefined && !this.stopped;
  }

  /**
   * Declares the DLQ, the queue (which dead-letters into the DLQ when it is a quorum queue), its delay queues and
   * its bindings, then consumes. Runs on every connect, and when the channel is reopened (ChannelRecovery).
   */
  readonly hook = async (model: ChannelModel): Promise<void> => {
    if (this.stopped) return;
    const { queue } = this.definition;
    const { queueType, deliveryLimit } = this.deps;
    const ch = await model.createChannel();
    let closeError: (Error & { code?: number }) | undefined;
    ch.on('error', (err: Error) => (closeError = err));
    ch.on('close', () => this.onChannelClosed(model, ch, closeError));
    try {
      await ch.assertQueue(deadLetterQueueName(queue), deadLetterQueueOptions(queueType, model));
      await ch.assertQueue(queue, workQueueOptions(queue, queueType, deliveryLimit, this.definition.queueArguments));
      if (!this.definition.rpc) {
        for (let level = 1; level < this.policy.maxAttempts; level++)
          await ch.assertQueue(
            retryQueueName(queue, level),
            retryQueueOptions(queue, queueType, retryDelayMs(this.policy, level)),
          );
      }
      for (const b of this.definition.bindings ?? [])
        await ch.bindQueue(queue, b.exchange ?? this.deps.eventsExchange, b.pattern);
      await ch.prefetch(this.definition.prefetch ?? this.deps.prefetch);
      if (this.stopped) throw new Error(`the consumer on '${queue}' stopped`);
      const { consumerTag } = await ch.consume(queue, (msg) => this.onDelivery(ch, msg));
      if (this.stopped) {
        // stop() ran while the subscription was on its way (it saw no channel to cancel): take it back here
        await settleWithin(ch.cancel(consumerTag), GOODBYE_MS);
        await settleWithin(ch.close(), GOODBYE_MS);
        return;
      }
      this.channel = ch;
      this.consumerTag = consumerTag;
    } catch (err) {
      await settleWithin(ch.close(), GOODBYE_MS);
      throw closeError ?? err;
    }
  };

  private onChannelClosed(model: ChannelModel, ch: Channel, error: (Error & { code?: number }) | undefined): void {
    if (this.channel !== ch) return;
    this.channel = undefined;
    this.consumerTag = undefined;
    if (this.stopped) return;
    // The broker closed the channel, or cancelled the consumer, with the connection still up: ChannelRecovery
    // declares and subscribes again on a new one. A lost connection is the connection's (its hooks run again).
    this.recovery.channelClosed(
      model,
      error,
      this.cancelled.has(ch) ? 'the broker cancelled the consumer (the queue was deleted?)' : undefined,
    );
  }

  private onDelivery(ch: Channel, raw: ConsumeMessage | null): void {
    if (raw === null) {
      // the broker cancelled us (queue deleted): close the channel; its recovery declares and subscribes again
      this.cancelled.add(ch);
      this.consumerTag = undefined;
      void ch.close().catch(() => undefined);
      return;
    }
    const work = this.process(ch, raw).catch((err: Error) =>
      this.deps.logger.error(`unexpected failure handling a message from '${this.queue}': ${err.stack}`),
    );
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  private async process(ch: Channel, raw: ConsumeMessage): Promise<void> {
    const message = toIncoming(raw, this.queue);
    const event: DeliveryEvent = {
      queue: this.queue,
      messageId: message.messageId,
      type: message.type,
      routingKey: message.routingKey,
      correlationId: message.correlationId,
      attempt: message.attempt,
    };
    if (this.countsDeliveries && raw.fields.redelivered) {
      const counted = this.onRedelivered(ch, raw, message, event);
      this.counting.add(counted);
      return counted.finally(() => this.counting.delete(counted));
    }
    // no handler runs while a redelivery is being counted: the copy with the count must be on the broker and the
    // original acked before something can crash the process again
    while (this.counting.size > 0) await Promise.allSettled([...this.counting]);
    // a CONSUMER span under the producer's context (when an SDK is registered) covers the handler, the reply and
    // the settling; what the handler publishes is its child
    const telemetry = new DeliveryTelemetry(this.deps.instruments, this.queue, message);
    try {
      if (telemetry.context)
        await context.with(telemetry.context, () => this.handle(ch, raw, message, event, telemetry));
      else await this.handle(ch, raw, message, event, telemetry);
    } finally {
      telemetry.end();
    }
  }

  private async handle(
    ch: Channel,
    raw: ConsumeMessage,
    message: IncomingMessage,
    event: DeliveryEvent,
    telemetry: DeliveryTelemetry,
  ): Promise<void> {
    const handler = this.definition.handlers.find((h) => topicMatches(h.pattern, message.type));
    let result: unknown;
    try {
      if (!handler) throw new NoHandlerError(message.type, this.queue);
      if (message.payload instanceof MalformedBody)
        throw new MessageValidationError(message.type, [`body is not JSON: ${message.payload.reason}`]);
      if (handler.contract) message.payload = handler.contract.parse(message.payload);
      this.deps.emit('consumed', event);
      result = await runInScope(scopeOf(message, telemetry.span), () => handler.handle(message));
    } catch (err) {
      const error = asError(err);
      telemetry.failed(error);
      return this.onFailure(ch, raw, message, event, error, telemetry);
    }
    if (this.definition.rpc && message.replyTo) await this.reply(message, { result });
    this.settle(ch, raw, 'ack');
    this.deps.emit('acked', event);
  }

  private async onFailure(
    ch: Channel,
    raw: ConsumeMessage,
    message: IncomingMessage,
    event: DeliveryEvent,
    error: Error,
    telemetry: DeliveryTelemetry,
  ): Promise<void> {
    try {
      if (this.definition.rpc) {
        if (message.replyTo)
          await this.reply(message, { error: { message: error.message, code: (error as { code?: unknown }).code } });
        this.settle(ch, raw, 'ack');
        telemetry.settledAs('rpc-error');
        return;
      }
      const reason: FailureReason | undefined =
        error instanceof NoHandlerError
          ? 'no-handler'
          : error instanceof MessageValidationError
            ? 'invalid'
            : error instanceof NonRetryableError
              ? 'non-retryable'
              : message.attempt >= this.policy.maxAttempts && !this.retriedUntilLater(error)
                ? 'retries-exhausted'
                : undefined;
      if (reason === undefined) {
        // through the broker's delayed exchange (each message its own jittered delay) when it has one, else
        // through this level's delay queue (its fixed TTL); past maxAttempts (RetryUntilError), the last level's
        const level = Math.min(message.attempt, this.policy.maxAttempts - 1);
        const delayed = this.deps.delays?.mode === 'delayed-exchange' ? this.deps.delays : undefined;
        const delayMs = delayed ? jitteredRetryDelayMs(this.policy, level) : retryDelayMs(this.policy, level);
        const extra = { [Headers.attempt]: message.attempt + 1, [Headers.lastError]: truncate(error.message, 1024) };
        if (delayed)
          await this.republish(
            raw,
            message,
            this.queue,
            extra,
            await delayed.route({ exchange: '', routingKey: this.queue }, delayMs, GOODBYE_MS),
          );
        else await this.republish(raw, message, retryQueueName(this.queue, level), extra);
        this.settle(ch, raw, 'ack');
        const until = error instanceof RetryUntilError ? `, until ${new Date(error.until).toISOString()}` : '';
        this.deps.logger.warn(
          `'${message.type}' ${message.messageId} failed on attempt ${message.attempt}/${this.policy.maxAttempts}${until} (${error.message}); retrying in ${delayMs} ms`,
        );
        this.deps.emit('retried', { ...event, delayMs, error });
        telemetry.retried(delayMs, message.attempt + 1);
        return;
      }
      await this.park(ch, raw, message, event, reason, error);
      telemetry.deadLettered(reason);
    } catch (publishError) {
      telemetry.settledAs('requeued');
      this.moveFailed(
        ch,
        raw,
        `could not move failed message ${message.messageId} from '${this.queue}'`,
        publishError as Error,
      );
    }
  }

  /** A RetryUntilError whose moment is still ahead: retried past maxAttempts (when the policy retries at all). */
  private retriedUntilLater(error: Error): boolean {
    return error instanceof RetryUntilError && this.policy.maxAttempts > 1 && Date.now() < error.until;
  }

  /**
   * A copy (to a retry queue, the DLQ, or back to the queue with its count) could not be made, so the message stays
   * where it is, to be tried again; never at once, or a message that cannot move would come straight back, over and
   * over. The queue the copy goes to is missing (deleted under a live connection: the copy came back unroutable):
   * the consumer's channel is closed, which gives back what it holds, and its recovery declares the queues again
   * before it subscribes. Anything else (a broker going away, no confirm in time): the message is given back after
   * a backoff that grows with each failure in a row.
   */
  private moveFailed(ch: Channel, raw: ConsumeMessage, what: string, error: Error): void {
    if (error instanceof UnroutableError) {
      this.deps.logger.error(
        `${what}: ${error.message}; reopening the consumer's channel, which declares its queues again (the message is redelivered)`,
      );
      void ch.close().catch(() => undefined);
      return;
    }
    const wait = Math.max(100, fullJitterDelay(++this.moveFailures, 100, 10_000));
    this.deps.logger.error(`${what}: ${error.message}; it will be redelivered (in about ${wait} ms)`);
    const timer = setTimeout(() => {
      this.requeueTimers.delete(timer);
      this.settle(ch, raw, 'requeue');
    }, wait);
    timer.unref();
    this.requeueTimers.add(timer);
  }

  /** Copies the message to `<queue>.dlq` with the failure's headers (confirmed), then acks it. */
  private async park(
    ch: Channel,
    raw: ConsumeMessage,
    message: IncomingMessage,
    event: DeliveryEvent,
    reason: FailureReason,
    error: Error,
    extra: Record<string, unknown> = {},
  ): Promise<void> {
    await this.republish(raw, message, deadLetterQueueName(this.queue), {
      [Headers.attempt]: message.attempt,
      [Headers.failureReason]: reason,
      [Headers.errorMessage]: truncate(error.message, 4096),
      [Headers.errorName]: error.name,
      [Headers.errorStack]: truncate(error.stack ?? '', 8192),
      [Headers.deadLetteredAt]: new Date().toISOString(),
      ...extra,
    });
    this.settle(ch, raw, 'ack');
    this.deps.logger.error(
      `'${message.type}' ${message.messageId} parked in ${deadLetterQueueName(this.queue)} (${reason}): ${error.message}`,
    );
    this.deps.emit('dead-lettered', { ...event, reason, error });
  }

  /**
   * A redelivery on a classic queue: the delivery before it ended without a settle. Counts it on a copy sent back
   * to the queue (or parks the message past the limit) before anything else runs, so the count is on the broker
   * before a handler that crashes the process can run again (see the class comment).
   */
  private async onRedelivered(
    ch: Channel,
    raw: ConsumeMessage,
    message: IncomingMessage,
    event: DeliveryEvent,
  ): Promise<void> {
    const previous = Number(message.headers[Headers.unsettledDeliveries]);
    const unsettled = (Number.isInteger(previous) && previous > 0 ? previous : 0) + 1;
    const limit = this.deps.deliveryLimit;
    try {
      if (unsettled > limit) {
        const error = new DeliveryLimitError(
          `'${message.type}' ${message.messageId} was delivered ${unsettled} times without being settled (its consumer crashed or lost its channel each time); the delivery limit is ${limit}`,
        );
        if (this.definition.rpc && message.replyTo)
          await this.reply(message, { error: { message: error.message, code: error.code } });
        await this.park(ch, raw, message, event, 'delivery_limit', error, { [Headers.unsettledDeliveries]: unsettled });
        this.deps.instruments.countDeadLettered(this.queue, message.type, 'delivery_limit');
        await ch.prefetch(this.definition.prefetch ?? this.deps.prefetch).catch(() => undefined); // the ack is in (above)
        return;
      }
      await this.republish(raw, message, this.queue, {
        [Headers.attempt]: message.attempt,
        [Headers.unsettledDeliveries]: unsettled,
      });
      this.settle(ch, raw, 'ack');
      // An ack has no reply; a basic.qos sent after it has (the broker takes a channel's methods in order). Until it
      // is back, the ack may still be in a buffer that a crash would discard, leaving both the original and the copy.
      await ch.prefetch(this.definition.prefetch ?? this.deps.prefetch).catch(() => undefined);
      this.deps.logger.warn(
        `'${message.type}' ${message.messageId} redelivered: ${unsettled} of ${limit} deliveries without a settle; sent back to the queue with its count`,
      );
    } catch (publishError) {
      this.moveFailed(
        ch,
        raw,
        `could not count the redelivery of ${message.messageId} on '${this.queue}'`,
        publishError as Error,
      );
    }
  }

  /**
   * Sends a copy through the default exchange to `target` (or by `via`, the delayed exchange's route to it),
   * keeping ids, type, timestamp, headers and body.
   */
  private async republish(
    raw: ConsumeMessage,
    message: IncomingMessage,
    target: string,
    extra: Record<string, unknown>,
    via?: DelayRoute,
  ): Promise<void> {
    const headers: Record<string, unknown> = { ...message.headers };
    for (const h of FAILURE_HEADERS) delete headers[h];
    for (const h of DELAY_HEADERS) delete headers[h];
    headers[Headers.originalExchange] = message.exchange;
    headers[Headers.originalRoutingKey] = message.routingKey;
    headers[Headers.originalQueue] = this.queue;
    Object.assign(headers, extra);
    await this.deps.publisher.publish(
      {
        exchange: '',
        routingKey: target,
        type: message.type,
        payload: raw.content,
        contentType: raw.properties.contentType as string | undefined,
        messageId: message.messageId,
        correlationId: message.correlationId,
        causationId: message.causationId,
        timestamp: message.timestamp,
        replyTo: message.replyTo,
        headers,
      },
      via,
      { copy: true },
    );
    this.moveFailures = 0;
  }

  private async reply(
    message: IncomingMessage,
    body: { result?: unknown; error?: { message: string; code?: unknown } },
  ): Promise<void> {
    await this.deps.publisher
      .publish({
        exchange: '',
        routingKey: message.replyTo as string,
        type: `${message.type}.reply`,
        payload: body.error ? body.error : (body.result ?? null),
        correlationId: message.correlationId,
        causationId: message.messageId,
        headers: body.error ? { [Headers.rpcError]: true } : {},
        mandatory: false, // the caller may have given up and gone; that is not our failure
      })
      .catch((err: Error) => this.deps.logger.warn(`could not reply to ${message.messageId}: ${err.message}`));
  }

  private settle(ch: Channel, raw: ConsumeMessage, how: 'ack' | 'requeue'): void {
    // After a reconnection the delivery tag belongs to a dead channel: the broker redelivers it anyway.
    if (ch !== this.channel) return;
    try {
      if (how === 'ack') ch.ack(raw);
      else ch.nack(raw, false, true);
    } catch {
      /* channel closed under us: the broker redelivers */
    }
  }

  /** Stops taking new messages, lets the ones in hand finish (up to `timeoutMs`), closes the channel. */
  async stop(timeoutMs: number): Promise<void> {
    this.stopped = true;
    this.recovery.stop();
    for (const timer of this.requeueTimers) clearTimeout(timer);
    this.requeueTimers.clear();
    this.deps.connection.removeHook(this.hook);
    const ch = this.channel;
    // every wait bounded: a broker that stopped answering never replies to the cancel or the close
    const goodbye = Math.min(timeoutMs, GOODBYE_MS);
    if (ch && this.consumerTag) await settleWithin(ch.cancel(this.consumerTag), goodbye);
    await settleWithin(Promise.allSettled([...this.inFlight]), timeoutMs);
    this.channel = undefined;
    await settleWithin(ch?.close(), goodbye);
  }
}

class DeliveryLimitError extends NonRetryableError {
  constructor(message: string) {
    super(message, { code: 'DELIVERY_LIMIT' });
  }
}

class NoHandlerError extends NonRetryableError {
  constructor(type: string, queue: string) {
    super(`no handler for message type '${type}' on queue '${queue}'`, { code: 'NO_HANDLER' });
  }
}

/** Stands in for the payload when the body is not valid JSON, so the failure path can name the reason. */
class MalformedBody {
  constructor(readonly reason: string) {}
}

function toIncoming(raw: ConsumeMessage, queue: string): IncomingMessage {
  const p = raw.properties;
  const headers = (p.headers ?? {}) as Record<string, unknown>;
  let payload: unknown;
  const isJson = !p.contentType || /json/i.test(p.contentType as string);
  if (isJson) {
    try {
      payload = JSON.parse(raw.content.toString('utf8'));
    } catch (err) {
      payload = new MalformedBody((err as Error).message);
    }
  } else payload = raw.content;
  const attempt = Number(headers[Headers.attempt] ?? 1);
  const traceparent =
    typeof headers[Headers.traceparent] === 'string'
      ? (headers[Headers.traceparent] as string)
      : formatTraceparent({ traceId: newTraceId(), spanId: newSpanId(), flags: '01' });
  return {
    payload,
    type:
      (p.type as string | undefined) ??
      (headers[Headers.originalRoutingKey] as string | undefined) ??
      raw.fields.routingKey,
    messageId: (p.messageId as string | undefined) ?? `${queue}:${raw.fields.deliveryTag}`,
    correlationId: (p.correlationId as string | undefined) ?? (p.messageId as string | undefined) ?? '',
    causationId: headers[Headers.causationId] as string | undefined,
    timestamp: typeof p.timestamp === 'number' ? p.timestamp * 1000 : undefined,
    headers,
    exchange:
      (headers[Headers.originalExchange] as string | undefined) ??
      delayedTargetExchange(headers) ??
      raw.fields.exchange,
    routingKey: (headers[Headers.originalRoutingKey] as string | undefined) ?? raw.fields.routingKey,
    queue,
    attempt: Number.isInteger(attempt) && attempt >= 1 ? attempt : 1,
    redelivered: raw.fields.redelivered,
    traceparent,
    replyTo: p.replyTo as string | undefined,
    raw,
  };
}

/**
 * What the handler runs inside: the ids its log lines and publishes use. With a span (an SDK is registered) they are
 * the span's, so logs and traces agree; without one, the traceparent's trace continues under a new span id.
 */
function scopeOf(message: IncomingMessage, span: Span | undefined): MessageScope {
  const header = message.headers[Headers.tracestate];
  const tracestate = typeof header === 'string' ? header : undefined;
  const ids = { messageId: message.messageId, correlationId: message.correlationId };
  if (span) {
    const sc = span.spanContext();
    return {
      traceId: sc.traceId,
      spanId: sc.spanId,
      flags: flagsHex(sc.traceFlags),
      tracestate: sc.traceState?.serialize() ?? tracestate,
      ...ids,
    };
  }
  const parent = parseTraceparent(message.headers[Headers.traceparent]);
  return {
    traceId: parent?.traceId ?? newTraceId(),
    spanId: newSpanId(),
    flags: parent?.flags ?? '01',
    tracestate,
    ...ids,
  };
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(typeof e === 'string' ? e : JSON.stringify(e));
}

const truncate = (s: string, max: number): string => (s.length > max ? `${s.slice(0, max - 1)}…` : s);
