import type { EntityManager, QueryRunner } from 'typeorm';
import type { MessageContract, PayloadInput } from '../contracts/define-message';
import type { OutgoingMessage } from '../core/message';
import { stampMessage } from '../core/stamp';
import { describeProduced, outboxWriterSpan } from '../core/telemetry';
import { OutboxRecord } from './outbox-record.entity';
import { OutboxWriteError } from './outbox-write.error';

/** A message for the outbox: what `Messaging.publish` takes, plus the aggregate that orders it. */
export type OutboxMessage<T = unknown> = OutgoingMessage<T> & {
  /** Messages with the same aggregate id are published in the order they were written; one that fails holds back the rest. */
  aggregateId?: string;
};

/** Transactions that wrote outbox rows: relays listening on the DataSource poll as soon as they commit. */
const dirty = new WeakSet<QueryRunner>();

/** Whether the transaction of `queryRunner` wrote outbox rows since the mark was last taken; takes the mark. */
export function takeOutboxWriteMark(queryRunner: QueryRunner): boolean {
  return dirty.delete(queryRunner);
}

/**
 * The writing half of the transactional outbox: instead of publishing from inside a transaction (which
 * can publish a change that then rolls back, or commit one whose message is then lost), store the message
 * in the same transaction and let an OutboxRelay publish it after the commit.
 *
 *   await runInTransaction(dataSource, async (manager) => {
 *     await manager.insert(Order, order);
 *     await Outbox.add(manager, { exchange: 'warren.events', routingKey: 'order.placed', payload, aggregateId: order.id });
 *   });
 *
 * The message is stamped now (message id, correlation and causation from the message being handled, a
 * traceparent continuing the current trace, the timestamp), and the relay publishes those values as is. With an
 * OpenTelemetry SDK registered, the row's traceparent is the active span's (the request or handler writing it), and
 * the relay's send span is its child, however long the row waits; a write outside any span gets a PRODUCER span
 * `create <exchange>` of its own, ended at once, so that its message starts a trace.
 */
export class Outbox {
  /**
   * Stores `message` through `manager`, which must belong to a running transaction. Returns the row (its
   * `messageId` is the id consumers will see). The payload and headers must be JSON values.
   */
  static async add<T>(manager: EntityManager, message: OutboxMessage<T>): Promise<OutboxRecord> {
    const runner = manager.queryRunner;
    if (!runner?.isTransactionActive) {
      throw new OutboxWriteError(
        'Outbox.add needs the EntityManager of a running transaction (dataSource.transaction(async (manager) => ...)); outside one the message would not commit or roll back with the change it reports',
      );
    }
    const unsupported: string[] = (['replyTo', 'expirationMs', 'delay'] as const).filter(
      (k) => message[k] !== undefined,
    );
    if (message.mandatory === false) unsupported.push('mandatory: false');
    if (message.contentType !== undefined && !/json/i.test(message.contentType))
      unsupported.push(`contentType '${message.contentType}'`);
    if (unsupported.length)
      throw new OutboxWriteError(`the outbox does not store ${unsupported.join(', ')}; publish such messages directly`);
    if (Buffer.isBuffer(message.payload))
      throw new OutboxWriteError('the outbox stores JSON payloads; a Buffer payload cannot go through it');
    const { aggregateId, ...outgoing } = message;
    const writer = outboxWriterSpan(outgoing.exchange);
    const stamped = stampMessage(outgoing, writer?.span);
    if (writer?.own) {
      describeProduced(writer.span, 'create', stamped);
      writer.span.end();
    }
    const row: Omit<OutboxRecord, 'id'> = {
      messageId: stamped.messageId,
      aggregateId: aggregateId ?? null,
      exchange: stamped.exchange,
      routingKey: stamped.routingKey,
      type: stamped.type,
      payload: toJson(stamped.payload ?? null, 'payload'),
      headers: toJson(stamped.headers, 'headers'),
      correlationId: stamped.correlationId,
      causationId: stamped.causationId ?? null,
      createdAt: stamped.timestamp,
      attempts: 0,
      lastError: null,
      nextAttemptAt: 0,
      publishedAt: null,
    };
    const result = await manager.insert(OutboxRecord, row);
    dirty.add(runner);
    return Object.assign(new OutboxRecord(), row, { id: Number(result.identifiers[0]?.id) });
  }

  /**
   * `add` for a message of a contract, as `Messaging.send` publishes one: the payload is validated against the
   * contract (an invalid one rejects, and nothing is stored), the type is the contract's, and so is the routing key
   * unless `extras.routingKey` says otherwise.
   */
  static async addValidated<C extends MessageContract>(
    manager: EntityManager,
    contract: C,
    payload: PayloadInput<C>,
    extras: Omit<OutboxMessage, 'routingKey' | 'type' | 'payload'> & { routingKey?: string },
  ): Promise<OutboxRecord> {
    const parsed = contract.parse(payload);
    return Outbox.add(manager, {
      ...extras,
      routingKey: extras.routingKey ?? contract.type,
      type: contract.type,
      payload: parsed,
    });
  }
}

function toJson(value: unknown, what: string): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    throw new OutboxWriteError(`the message ${what} is not JSON-serialisable: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (text === undefined) throw new OutboxWriteError(`the message ${what} is not JSON-serialisable (${typeof value})`);
  return text;
}
