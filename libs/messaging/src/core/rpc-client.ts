import { randomUUID } from 'node:crypto';
import type { Span } from '@opentelemetry/api';
import type { Channel, ChannelModel, ConsumeMessage, Message } from 'amqplib';
import { BrokerUnavailableError, MessagingError, RpcRemoteError, RpcTimeoutError, UnroutableError } from '../errors';
import { ChannelRecovery, ChannelWaiters, type ChannelRecoveryDeps } from './channel-recovery';
import type { AmqpConnection } from './connection';
import { Headers } from './headers';
import { channelErrorConcerns, type Publisher } from './publisher';
import { endSpan, startProducerSpan, type MessagingInstruments } from './telemetry';

/** RabbitMQ's direct reply-to pseudo queue: replies come straight back on the requesting channel. */
export const DIRECT_REPLY_TO = 'amq.rabbitmq.reply-to';

interface Pending {
  exchange: string;
  routingKey: string;
  resolve(value: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

export interface RequestOptions {
  exchange: string;
  routingKey: string;
  type?: string;
  payload: unknown;
  timeoutMs: number;
  headers?: Record<string, unknown>;
}

/**
 * Request/reply over direct reply-to: no reply queue to declare or clean up. The request is mandatory, so a
 * routing key nobody serves fails at once (UnroutableError) instead of waiting out the timeout. The AMQP
 * correlation id is the request's own (that is how replies find their caller); causation and trace context
 * still link it to the message being handled.
 */
export class RpcClient {
  private channel?: Channel;
  private readonly pending = new Map<string, Pending>();
  private readonly recovery: ChannelRecovery;
  private readonly opened = new ChannelWaiters<Channel>();

  constructor(
    private readonly connection: AmqpConnection,
    private readonly publisher: Publisher,
    recovery: ChannelRecoveryDeps,
    private readonly instruments: MessagingInstruments,
  ) {
    this.recovery = new ChannelRecovery('rpc', 'rpc', recovery, this.hook);
  }

  /**
   * Opens the channel requests go out on and replies come back to, on every connect. The broker closes it when a
   * request goes to a missing exchange (404): that request fails with the broker's words, the others waiting on
   * it fail too (their replies would come to a channel that no longer exists), and ChannelRecovery reopens it.
   */
  readonly hook = async (model: ChannelModel): Promise<void> => {
    const ch = await model.createChannel();
    let closeError: (Error & { code?: number }) | undefined;
    ch.on('error', (err: Error & { code?: number }) => (closeError = err));
    ch.on('return', (msg: Message) => {
      const id = msg.properties.correlationId as string | undefined;
      const p = id ? this.pending.get(id) : undefined;
      if (p)
        this.settle(id as string, () =>
          p.reject(
            new UnroutableError(
              msg.fields.exchange,
              msg.fields.routingKey,
              `${(msg.fields as unknown as ReturnFields).replyCode} ${(msg.fields as unknown as ReturnFields).replyText}`,
            ),
          ),
        );
    });
    ch.on('close', () => {
      if (this.channel !== ch) return;
      this.channel = undefined;
      // replies for these would arrive on a channel that no longer exists
      for (const [id, p] of this.pending) this.settle(id, () => p.reject(failedBy(closeError, p)));
      this.recovery.channelClosed(model, closeError);
    });
    await ch.consume(DIRECT_REPLY_TO, (msg) => msg && this.onReply(msg), { noAck: true });
    this.channel = ch;
    this.opened.ready(ch);
  };

  private onReply(msg: ConsumeMessage): void {
    const id = msg.properties.correlationId as string | undefined;
    const p = id ? this.pending.get(id) : undefined;
    if (!p) return; // a reply that came after its timeout
    let body: unknown;
    try {
      body = JSON.parse(msg.content.toString('utf8'));
    } catch {
      body = msg.content;
    }
    if (msg.properties.headers?.[Headers.rpcError]) {
      const e = body as { message?: string; code?: string };
      this.settle(id as string, () =>
        p.reject(new RpcRemoteError(p.routingKey, e?.message ?? 'unknown error', e?.code)),
      );
    } else this.settle(id as string, () => p.resolve(body));
  }

  private settle(id: string, fn: () => void): void {
    const p = this.pending.get(id);
    if (!p) return;
    clearTimeout(p.timer);
    this.pending.delete(id);
    fn();
  }

  /**
   * Traced as a PRODUCER span `send <exchange>` under the active context, from the request until its reply (or its
   * failure): the server's `process` span is its child, and the caller's await stays in the caller's trace. The
   * request is counted as sent once written (this channel has no confirms).
   */
  async request<T>(opts: RequestOptions): Promise<T> {
    const span = startProducerSpan('send', opts.exchange);
    try {
      const result = await this.requestOnce<T>(opts, span);
      endSpan(span);
      return result;
    } catch (err) {
      endSpan(span, err);
      throw err;
    }
  }

  private async requestOnce<T>(opts: RequestOptions, span: Span | undefined): Promise<T> {
    const started = Date.now();
    while (!this.channel) {
      const left = opts.timeoutMs - (Date.now() - started);
      if (left <= 0) throw new RpcTimeoutError(opts.routingKey, opts.timeoutMs);
      await this.connection.waitForConnection(left).catch(() => undefined);
      if (!this.channel) await this.opened.next(opts.timeoutMs - (Date.now() - started)); // being reopened
    }
    const ch = this.channel;
    const correlationId = randomUUID();
    const p = this.publisher.prepare(
      {
        exchange: opts.exchange,
        routingKey: opts.routingKey,
        type: opts.type,
        payload: opts.payload,
        headers: opts.headers,
        correlationId,
      },
      undefined,
      span,
    );
    return new Promise<T>((resolve, reject) => {
      const left = Math.max(1, opts.timeoutMs - (Date.now() - started));
      const timer = setTimeout(
        () => this.settle(correlationId, () => reject(new RpcTimeoutError(opts.routingKey, opts.timeoutMs))),
        left,
      );
      this.pending.set(correlationId, {
        exchange: p.exchange,
        routingKey: opts.routingKey,
        resolve: resolve as (v: unknown) => void,
        reject,
        timer,
      });
      try {
        ch.publish(p.exchange, p.routingKey, p.content, { ...p.options, replyTo: DIRECT_REPLY_TO, persistent: false });
        this.instruments.countSent(p.published);
      } catch (err) {
        this.instruments.countSent(p.published, err);
        this.settle(correlationId, () =>
          reject(new BrokerUnavailableError(`could not send '${opts.routingKey}': ${(err as Error).message}`)),
        );
      }
    });
  }

  close(): void {
    this.recovery.stop();
    for (const [id, p] of this.pending)
      this.settle(id, () => p.reject(new BrokerUnavailableError('the messaging connection was closed')));
  }
}

/**
 * Why a waiting request failed when its channel closed: the broker's channel error, as the request's own failure
 * when it names the request's exchange (404 no exchange) or no exchange at all, else as the loss of its channel;
 * without an error, the connection went away.
 */
function failedBy(error: (Error & { code?: number }) | undefined, p: Pending): Error {
  if (!error) return new BrokerUnavailableError(`the connection was lost before '${p.routingKey}' replied`);
  if (channelErrorConcerns(error, p.exchange))
    return new MessagingError(
      'CHANNEL_ERROR',
      `request '${p.routingKey}' to exchange '${p.exchange}' failed: ${error.message}`,
      { cause: error },
    );
  return new BrokerUnavailableError(
    `the RPC channel closed before '${p.routingKey}' replied (another request failed: ${error.message}); send it again`,
    { cause: error },
  );
}

/** basic.return's fields (amqplib's types describe only deliveries). */
interface ReturnFields {
  replyCode: number;
  replyText: string;
}
