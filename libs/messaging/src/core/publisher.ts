import type { Context, Link, Span } from '@opentelemetry/api';
import type { ChannelModel, ConfirmChannel, Message, Options } from 'amqplib';
import { BrokerUnavailableError, MessagingError, PublishNackedError, UnroutableError } from '../errors';
import { ChannelRecovery, ChannelWaiters, type ChannelRecoveryDeps } from './channel-recovery';
import type { AmqpConnection } from './connection';
import { Headers } from './headers';
import type { DelayRoute } from './delayed-delivery';
import type { OutgoingMessage, PublishedMessage } from './message';
import { stampMessage } from './stamp';
import { describeProduced, endSpan, startProducerSpan, type MessagingInstruments } from './telemetry';

/** How a publish is traced (see telemetry.ts). */
export interface PublishTracing {
  /** The parent of its `send` span; default: the active context. */
  parent?: Context;
  /** Links of its `send` span (the outbox relay links the span that wrote the row). */
  links?: Link[];
  /** A copy the consumer makes of a delivery (retry, DLQ, redelivery count): no span, and not counted as sent. */
  copy?: boolean;
  /**
   * The message's own traceparent (and tracestate) give way to its `send` span's, when there is one: the outbox
   * relay's publish becomes the parent of the consumers, as a direct publish is. Without a span the message keeps them.
   */
  reparent?: boolean;
}

interface Prepared {
  exchange: string;
  routingKey: string;
  content: Buffer;
  options: Options.Publish;
  published: PublishedMessage;
}

/** Server reply codes that no retry can fix: the publish fails with the broker's own words. */
const PERMANENT_CHANNEL_ERRORS = new Set([403, 404, 406]);

/**
 * Whether the broker's channel error is about this publish: a 404 or 403 names the exchange ("no exchange 'x' in
 * vhost '/'", "access to exchange 'x' in vhost '/' refused"). The other publishes in flight on that channel were
 * dropped with it, through no fault of theirs: they go again on the reopened channel. An error that names no
 * exchange is taken as everyone's.
 */
export function channelErrorConcerns(error: Error, exchange: string): boolean {
  const named = /exchange '((?:[^']|'(?! in vhost))*)' in vhost/.exec(error.message);
  return !named || named[1] === exchange;
}

/**
 * Publishes with confirms, always. The promise resolves only when the broker has taken responsibility for
 * the message (basic.ack, after the fsync for persistent messages); it rejects on basic.nack, on
 * basic.return (mandatory: nobody would receive it), and when no connection and confirm arrive in time.
 * A publish whose connection drops before its confirm is sent again on the next connection, under the
 * same message id: at-least-once, which idempotent consumers turn into exactly-once effects.
 */
export class Publisher {
  private channel?: ConfirmChannel;
  private drained?: Promise<void>;
  /**
   * basic.return's reply ("312 NO_ROUTE") of each returned publish still awaiting its confirm (the broker sends the
   * return first), keyed by message id, exchange and routing key: a message id alone is not one publish. A
   * consumer's retry copy carries its message's id, and is published while the original may still await its
   * confirm (a broker delivers a persistent message before it confirms it); only the route tells them apart.
   * Several returns under one key (the same message sent the same way twice at once) are taken in turn.
   */
  private readonly returned = new Map<string, string[]>();
  /** Why each channel closed, when the server closed it (404 no exchange, 403 access refused...). */
  private readonly closeErrors = new WeakMap<ConfirmChannel, Error & { code?: number }>();
  private readonly recovery: ChannelRecovery;
  private readonly opened = new ChannelWaiters<ConfirmChannel>();

  constructor(
    private readonly connection: AmqpConnection,
    private readonly appId: string,
    private readonly timeoutMs: number,
    private readonly onPublished: (m: PublishedMessage) => void,
    private readonly onBackpressure: () => void,
    recovery: ChannelRecoveryDeps,
    private readonly instruments: MessagingInstruments,
  ) {
    this.recovery = new ChannelRecovery('publisher', 'publisher', recovery, this.hook);
  }

  /**
   * Opens the confirm channel, on every connect; when the broker closes it under a live connection (a publish to
   * a missing exchange: 404), ChannelRecovery reopens it with backoff and publishes wait for it.
   */
  readonly hook = async (model: ChannelModel): Promise<void> => {
    const ch = await model.createConfirmChannel();
    ch.on('return', (msg: Message) => {
      const id = msg.properties.messageId as string | undefined;
      if (!id) return;
      const fields = msg.fields as unknown as ReturnFields;
      const key = returnKey(id, fields.exchange, fields.routingKey);
      const replies = this.returned.get(key) ?? [];
      replies.push(`${fields.replyCode ?? 312} ${fields.replyText ?? 'NO_ROUTE'}`);
      this.returned.set(key, replies);
    });
    ch.on('error', (err: Error & { code?: number }) => {
      this.closeErrors.set(ch, err);
    });
    ch.on('close', () => {
      if (this.channel !== ch) return;
      this.channel = undefined;
      this.recovery.channelClosed(model, this.closeErrors.get(ch));
    });
    this.channel = ch;
    this.opened.ready(ch);
  };

  /**
   * `via`: the wire route of a delayed publish (the message's own exchange and routing key are what it reports).
   * `span`: the producer span whose context the message carries (describeProduced fills in its attributes).
   */
  prepare(message: OutgoingMessage, via?: DelayRoute, span?: Span): Prepared {
    const msg = stampMessage(message, span);
    describeProduced(span, 'send', msg);
    const content = Buffer.isBuffer(msg.payload) ? msg.payload : Buffer.from(JSON.stringify(msg.payload ?? null));
    const published: PublishedMessage = {
      exchange: msg.exchange,
      routingKey: msg.routingKey,
      type: msg.type,
      messageId: msg.messageId,
      correlationId: msg.correlationId,
      causationId: msg.causationId,
      traceparent: msg.headers[Headers.traceparent] as string,
      timestamp: msg.timestamp,
      ...(via && msg.delay !== undefined ? { delay: msg.delay } : {}),
    };
    return {
      exchange: via?.exchange ?? msg.exchange,
      routingKey: via?.routingKey ?? msg.routingKey,
      content,
      options: {
        persistent: true,
        mandatory: via?.mandatory ?? msg.mandatory ?? true,
        contentType:
          msg.contentType ?? (Buffer.isBuffer(msg.payload) ? 'application/octet-stream' : 'application/json'),
        contentEncoding: 'utf-8',
        messageId: msg.messageId,
        correlationId: msg.correlationId,
        type: msg.type,
        timestamp: Math.floor(msg.timestamp / 1000),
        appId: this.appId,
        headers: via ? { ...msg.headers, ...via.headers } : msg.headers,
        replyTo: msg.replyTo,
        expiration: via?.expiration ?? (msg.expirationMs === undefined ? undefined : String(msg.expirationMs)),
      },
      published,
    };
  }

  /**
   * Publishes under a PRODUCER span `send <exchange>` (when an SDK is registered) that ends with the broker's
   * confirm, or with the failure. `via` may be a delayed publish's route still to be found (declaring what it needs
   * on the broker): the span and the counts include that step and its failure.
   */
  async publish(
    msg: OutgoingMessage,
    via?: DelayRoute | (() => Promise<DelayRoute>),
    tracing: PublishTracing = {},
  ): Promise<PublishedMessage> {
    const span = tracing.copy ? undefined : startProducerSpan('send', msg.exchange, tracing);
    try {
      const route = typeof via === 'function' ? await via() : via;
      const published = await this.publishPrepared(
        this.prepare(span && tracing.reparent ? withoutTraceContext(msg) : msg, route, span),
      );
      endSpan(span);
      if (!tracing.copy) this.instruments.countSent(published);
      return published;
    } catch (err) {
      endSpan(span, err);
      if (!tracing.copy)
        this.instruments.countSent({ exchange: msg.exchange, routingKey: msg.routingKey, type: msg.type }, err);
      throw err;
    }
  }

  private async publishPrepared(prepared: Prepared): Promise<PublishedMessage> {
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      const ch = await this.waitForChannel(deadline);
      try {
        await this.sendOnce(ch, prepared, deadline);
        this.onPublished(prepared.published);
        return prepared.published;
      } catch (err) {
        if (!(err instanceof ChannelLost) || Date.now() >= deadline) throw unwrap(err);
        const closeError = this.closeErrors.get(ch);
        if (
          closeError?.code !== undefined &&
          PERMANENT_CHANNEL_ERRORS.has(closeError.code) &&
          channelErrorConcerns(closeError, prepared.exchange)
        ) {
          throw new MessagingError('CHANNEL_ERROR', `publish to '${prepared.exchange}' failed: ${closeError.message}`, {
            cause: closeError,
          });
        }
        // otherwise the connection went away, or another publish closed the channel: send it again on the next one
      }
    }
  }

  private async waitForChannel(deadline: number): Promise<ConfirmChannel> {
    for (;;) {
      if (this.channel && this.connection.isConnected) return this.channel;
      const left = deadline - Date.now();
      if (left <= 0) throw new BrokerUnavailableError(`no connection to the broker within ${this.timeoutMs} ms`);
      await this.connection.waitForConnection(left);
      if (!this.channel) await this.opened.next(deadline - Date.now()); // the channel is being reopened
    }
  }

  /** Stops reopening the channel (the connection is closing). */
  stop(): void {
    this.recovery.stop();
  }

  /** The reply of a return under `key`, if one came: the first, which then is gone. */
  private takeReturn(key: string): string | undefined {
    const replies = this.returned.get(key);
    if (!replies) return undefined;
    const reply = replies.shift();
    if (replies.length === 0) this.returned.delete(key);
    return reply;
  }

  private async sendOnce(ch: ConfirmChannel, p: Prepared, deadline: number): Promise<void> {
    // Backpressure: once the socket buffer is full, wait for 'drain' before writing more.
    while (this.drained) await this.drained;
    const id = p.options.messageId as string;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new BrokerUnavailableError(`no confirm from the broker within ${this.timeoutMs} ms`)),
        Math.max(1, deadline - Date.now()),
      );
      let ok: boolean;
      try {
        ok = ch.publish(p.exchange, p.routingKey, p.content, p.options, (err) => {
          clearTimeout(timer);
          const returned = this.takeReturn(returnKey(id, p.exchange, p.routingKey));
          if (err)
            return reject(
              err.message === 'message nacked'
                ? new PublishNackedError(p.exchange, p.routingKey)
                : new ChannelLost(err),
            );
          if (returned) return reject(new UnroutableError(p.exchange, p.routingKey, returned));
          resolve();
        });
      } catch (err) {
        clearTimeout(timer);
        return reject(new ChannelLost(err as Error)); // closed between our check and the write
      }
      if (!ok && !this.drained) {
        this.onBackpressure();
        this.drained = new Promise<void>((r) => {
          const done = () => {
            ch.off('drain', done);
            ch.off('close', done);
            this.drained = undefined;
            r();
          };
          ch.on('drain', done);
          ch.on('close', done);
        });
      }
    });
  }
}

class ChannelLost extends Error {
  constructor(readonly original: Error) {
    super(original.message);
  }
}

const unwrap = (err: unknown): unknown =>
  err instanceof ChannelLost
    ? new BrokerUnavailableError(`the connection was lost before the broker confirmed: ${err.message}`, {
        cause: err.original,
      })
    : err;

/** basic.return's fields (amqplib's types describe only deliveries). */
interface ReturnFields {
  replyCode: number;
  replyText: string;
  exchange: string;
  routingKey: string;
}

const returnKey = (messageId: string, exchange: string, routingKey: string) =>
  `${messageId}\u0000${exchange}\u0000${routingKey}`;

function withoutTraceContext(msg: OutgoingMessage): OutgoingMessage {
  if (!msg.headers) return msg;
  const { [Headers.traceparent]: _parent, [Headers.tracestate]: _state, ...headers } = msg.headers;
  return { ...msg, headers };
}
