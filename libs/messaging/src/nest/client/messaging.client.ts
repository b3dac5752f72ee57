import { Inject, Injectable } from '@nestjs/common';
import { ClientProxy, type ReadPacket, type WritePacket } from '@nestjs/microservices';
import type { MessageContract } from '../../contracts/define-message';
import type { MessagingEventMap } from '../../core/events';
import type { PublishedMessage } from '../../core/message';
import { Messaging } from '../../core/messaging';
import { isWildcardPattern } from '../../core/topic-pattern';
import { MessagingError } from '../../errors';

type MessagingClientEvents = { [K in keyof MessagingEventMap]: (...args: MessagingEventMap[K]) => void };

/**
 * Nest's ClientProxy on the Messaging core, for code written against ClientProxy:
 *
 *   await lastValueFrom(client.emit('order.placed', order));           // confirmed by the broker; emits what was published
 *   const r = await lastValueFrom(client.send('inventory.reserve', q)); // request/reply on the commands exchange
 *
 * The pattern is the routing key (and message type), or a contract made with defineMessage(), which validates
 * the payload first. emit() errors with UnroutableError when no queue is bound for the key, BrokerUnavailableError
 * when no confirm comes in time; send() with RpcTimeoutError, RpcRemoteError or UnroutableError.
 *
 * connect() and close() do nothing: the Messaging instance, and its connection, belong to MessagingModule.
 */
@Injectable()
export class MessagingClient extends ClientProxy<MessagingClientEvents, 'connected' | 'disconnected'> {
  constructor(@Inject(Messaging) private readonly messaging: Messaging) {
    super();
    messaging.events.on('connected', () => this._status$.next('connected'));
    messaging.events.on('disconnected', () => this._status$.next('disconnected'));
  }

  connect(): Promise<Messaging> {
    return Promise.resolve(this.messaging);
  }

  close(): void {
    // the Messaging instance is shared; MessagingModule closes it on shutdown
  }

  override on<
    K extends keyof MessagingClientEvents = keyof MessagingClientEvents,
    C extends MessagingClientEvents[K] = MessagingClientEvents[K],
  >(event: K, callback: C): void {
    this.messaging.events.on(event, callback as never);
  }

  unwrap<T>(): T {
    return this.messaging as T;
  }

  protected publish(packet: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    let subscribed = true;
    const target = toTarget(packet.pattern);
    this.messaging.request(target.contract ?? target.key, packet.data).then(
      (response) => subscribed && callback({ response, isDisposed: true }),
      (err: unknown) => subscribed && callback({ err }),
    );
    // a request on the wire cannot be taken back; unsubscribing only drops the reply
    return () => {
      subscribed = false;
    };
  }

  protected dispatchEvent<T = PublishedMessage>(packet: ReadPacket): Promise<T> {
    const target = toTarget(packet.pattern);
    const published = target.contract
      ? this.messaging.emit(target.contract, packet.data)
      : this.messaging.publish({
          exchange: this.messaging.options.eventsExchange,
          routingKey: target.key,
          type: target.key,
          payload: packet.data,
        });
    return published as Promise<T>;
  }
}

/** A pattern as routing: a routing key without wildcards, or a contract (whose type is the key). */
function toTarget(pattern: unknown): { key: string; contract?: MessageContract } {
  if (isContract(pattern)) return { key: pattern.type, contract: pattern };
  if (typeof pattern !== 'string' || pattern === '')
    throw new MessagingError(
      'INVALID_PATTERN',
      `MessagingClient: the pattern must be a routing key such as 'order.placed' or a contract, not ${JSON.stringify(pattern)}`,
    );
  if (isWildcardPattern(pattern))
    throw new MessagingError(
      'INVALID_PATTERN',
      `MessagingClient: '${pattern}' has wildcards; a message is sent with one concrete routing key`,
    );
  return { key: pattern };
}

const isContract = (p: unknown): p is MessageContract =>
  typeof p === 'object' &&
  p !== null &&
  typeof (p as MessageContract).type === 'string' &&
  typeof (p as MessageContract).parse === 'function';
