import { Server, type CustomTransportStrategy } from '@nestjs/microservices';
import { isObservable, lastValueFrom } from 'rxjs';
import type { ConsumerDefinition, QueueConsumer } from '../../core/consumer';
import type { MessagingEventMap } from '../../core/events';
import type { IncomingMessage } from '../../core/message';
import type { Messaging } from '../../core/messaging';
import { topicMatches } from '../../core/topic-pattern';
import { MessagingError } from '../../errors';
import { MessagingContext } from '../ctx-host/messaging.context';
import type { MessagingServerOptions } from '../interfaces/messaging-server-options.interface';
import { MESSAGING_TRANSPORT } from '../messaging.constants';
import { failureOf } from './handler-failure';
import { collectRoutes, type HandlerRoute } from './handler-routes';

export type MessagingServerEvents = { [K in keyof MessagingEventMap]: (...args: MessagingEventMap[K]) => void };
export type MessagingStatus = 'connected' | 'disconnected';

/**
 * A Nest microservice transport on the Messaging core. On listen, the app's @EventPattern handlers become one
 * consumer on `options.queue`, bound to the events exchange with each pattern (wildcards allowed), and its
 * @MessagePattern handlers one request/reply consumer on `options.rpcQueue`, bound to the commands exchange.
 *
 * Unlike Nest's RMQ transport, a message is acked only once its handler has finished (a returned Observable
 * included), and a failure goes through the core's retry queues to `<queue>.dlq`. A message of a type no
 * handler takes goes to the DLQ too ('no-handler'), so it never blocks the queue.
 *
 *   app.connectMicroservice({ strategy: app.get(MessagingServer) }, { inheritAppConfig: true });
 */
export class MessagingServer extends Server<MessagingServerEvents, MessagingStatus> implements CustomTransportStrategy {
  private readonly started: QueueConsumer[] = [];
  private listening?: Promise<void>;
  private warnedAboutHiddenErrors = false;

  constructor(
    readonly messaging: Messaging,
    private readonly options: MessagingServerOptions = {},
  ) {
    super();
    this.transportId = MESSAGING_TRANSPORT;
    messaging.events.on('connected', () => this._status$.next('connected'));
    messaging.events.on('disconnected', () => this._status$.next('disconnected'));
  }

  /** The consumers listen() started (empty before). */
  get consumers(): readonly QueueConsumer[] {
    return this.started;
  }

  /** Declares and starts the consumers, then calls back (with the error when the handlers cannot be served). */
  listen(callback: (err?: unknown) => void): void {
    this.listening ??= this.start();
    this.listening.then(
      () => callback(),
      (err: unknown) => callback(err),
    );
  }

  /** Stops taking messages and lets those in hand finish; the connection belongs to whoever made the Messaging. */
  async close(): Promise<void> {
    await Promise.all(this.started.map((c) => c.stop(this.messaging.options.shutdownTimeoutMs)));
  }

  on<
    K extends keyof MessagingServerEvents = keyof MessagingServerEvents,
    C extends MessagingServerEvents[K] = MessagingServerEvents[K],
  >(event: K, callback: C): this {
    this.messaging.events.on(event, callback as never);
    return this;
  }

  unwrap<T>(): T {
    return this.messaging as T;
  }

  private async start(): Promise<void> {
    const { serviceName, eventsExchange, commandsExchange } = this.messaging.options;
    const { prefetch, retry } = this.options;
    const { events, messages } = collectRoutes(this.getHandlers(), commandsExchange);
    const definitions: ConsumerDefinition[] = [];
    if (events.length > 0) {
      if (!this.options.queue) {
        const patterns = events.map((r) => `'${r.pattern}'`).join(', ');
        throw new MessagingError(
          'INVALID_HANDLER',
          `MessagingServer: the app has @EventPattern handlers (${patterns}) but no queue to consume them from; set server.queue ('<service>.<purpose>') in MessagingModule's options`,
        );
      }
      // One core handler per pattern, so that the core parks a message no pattern matches ('no-handler');
      // each runs every matching route, as Nest runs every handler of an event.
      const deliver = (message: IncomingMessage) => this.deliverEvent(message, events);
      definitions.push({
        queue: this.options.queue,
        bindings: events.map((r) => ({ exchange: r.command ? commandsExchange : eventsExchange, pattern: r.pattern })),
        handlers: events.map((r) => ({ pattern: r.pattern, handle: deliver })),
        prefetch,
        retry,
      });
    }
    if (messages.length > 0) {
      definitions.push({
        queue: this.options.rpcQueue ?? `${serviceName}.rpc`,
        bindings: messages.map((r) => ({ exchange: commandsExchange, pattern: r.pattern })),
        handlers: messages.map((r) => ({
          pattern: r.pattern,
          handle: (message: IncomingMessage) => this.invoke(r, message, payloadFor(r, message)),
        })),
        prefetch,
        rpc: true,
      });
    }
    for (const definition of definitions) this.started.push(await this.messaging.consume(definition));
    await this.messaging.start();
    this._status$.next(this.messaging.isConnected ? 'connected' : 'disconnected');
  }

  /**
   * Runs the handlers of every event pattern the message's type matches. All contracts are checked before any
   * handler runs, so an invalid message is never half-processed; the message fails if any handler failed,
   * once all of them have finished.
   */
  private async deliverEvent(message: IncomingMessage, routes: HandlerRoute[]): Promise<void> {
    const calls = routes
      .filter((r) => topicMatches(r.pattern, message.type))
      .map((r) => ({ route: r, payload: payloadFor(r, message) }));
    const outcomes = await Promise.allSettled(calls.map(({ route, payload }) => this.invoke(route, message, payload)));
    const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failure) throw failure.reason;
  }

  /** Calls the Nest handler and waits for its result, whatever its form: value, Promise or Observable. */
  private async invoke(route: HandlerRoute, message: IncomingMessage, payload: unknown): Promise<unknown> {
    const ctx = new MessagingContext([message, message.type]);
    try {
      const result: unknown = await route.handler(payload, ctx);
      return isObservable(result) ? await lastValueFrom(result, { defaultValue: undefined }) : result;
    } catch (reported) {
      const { error, intercepted } = failureOf(ctx, reported);
      if (!intercepted) this.warnAboutHiddenErrors();
      throw error;
    }
  }

  private warnAboutHiddenErrors(): void {
    if (this.warnedAboutHiddenErrors) return;
    this.warnedAboutHiddenErrors = true;
    this.logger.warn(
      "a handler failed and Nest's exception filter replaced its error, so the DLQ and RPC replies carry that instead and NonRetryableError is retried. " +
        "MessagingModule's HandlerFailureInterceptor keeps the original: in a hybrid app connect with app.connectMicroservice({ strategy }, { inheritAppConfig: true }), " +
        'or put @UseInterceptors(HandlerFailureInterceptor) on the controllers',
    );
  }
}

/** The payload for a route: validated (and transformed) by its contract when it has one. */
const payloadFor = (route: HandlerRoute, message: IncomingMessage): unknown =>
  route.contract ? route.contract.parse(message.payload) : message.payload;
