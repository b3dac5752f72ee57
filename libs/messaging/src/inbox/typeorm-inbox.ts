import type { DataSource, EntityManager } from 'typeorm';
import type { IncomingMessage } from '../core/message';
import type { MessagingLogger } from '../core/options';
import { InboxDuplicates } from '../core/telemetry';
import { InboxRecord } from './inbox-record.entity';
import type { InboxResult } from './inbox-result';
import { runExclusive, runInTransaction } from './run-in-transaction';
import { isUniqueViolation } from './unique-violation';

export interface TypeOrmInboxOptions {
  /** Duplicates are logged here (at `log` level). Default: silent. */
  logger?: MessagingLogger;
}

/** Thrown inside the transaction to roll it back when the inbox row already exists. */
class AlreadyHandled extends Error {}

/**
 * The idempotent consumer on a relational database. A message is handled in one transaction that first
 * inserts `(consumer, message id)` into `messaging_inbox` and then runs the handler's own writes, so the
 * "handled" mark and the effects commit together or not at all:
 *
 *   - a redelivery (the broker redelivers after a lost ack, the publisher resends after a lost confirm,
 *     the outbox relays twice) finds the row and is skipped;
 *   - a handler that throws rolls the mark back too, so the retry runs it again;
 *   - two instances handling the same message at once: the second INSERT waits on the first one's
 *     uncommitted key (Postgres, MySQL), then fails with a unique violation (the first committed: a
 *     duplicate) or goes ahead (the first rolled back). On SQLite it waits for the write lock up to the
 *     busy timeout, then either sees the committed row or fails with SQLITE_BUSY, which is retryable:
 *     the message comes back through the retry queue. Either way the effect applies once. Within one
 *     process on SQLite, the transactions of a DataSource run one at a time (see runInTransaction).
 *
 *   const inbox = new TypeOrmInbox(dataSource);
 *   handlers: [{ pattern: 'order.placed', handle: inbox.idempotent('payments.order-placed', async (msg, manager) => {
 *     await manager.insert(Payment, { orderId: msg.payload.orderId, ... });
 *   }) }]
 *
 * The inbox grows by one row per message; prune() deletes rows older than any redelivery can be.
 */
export class TypeOrmInbox {
  /** Taken at construction: the service's MeterProvider is registered by then (see telemetry.ts). */
  private readonly duplicates = new InboxDuplicates();
  constructor(
    private readonly dataSource: DataSource,
    private readonly options: TypeOrmInboxOptions = {},
  ) {}

  /**
   * Runs `fn` once per (consumer, message id). The handler's writes must go through `manager`: they are
   * part of the inbox transaction. Resolves `{ duplicate: true }` without running `fn` when the message
   * was handled before; rejects with fn's error (nothing committed) when fn fails.
   */
  async handle<T>(
    message: Pick<IncomingMessage, 'messageId'>,
    consumer: string,
    fn: (manager: EntityManager) => Promise<T>,
  ): Promise<InboxResult<T>> {
    if (!message.messageId)
      throw new TypeError('the inbox needs a message id: publish with a message id (the library always sets one)');
    try {
      return await runInTransaction(this.dataSource, async (manager) => {
        try {
          await manager.insert(InboxRecord, { consumer, messageId: message.messageId, processedAt: Date.now() });
        } catch (err) {
          // Only the inbox row's own key counts: a unique violation raised by fn's writes is fn's failure.
          if (isUniqueViolation(err)) throw new AlreadyHandled();
          throw err;
        }
        return { duplicate: false as const, result: await fn(manager) };
      });
    } catch (err) {
      if (!(err instanceof AlreadyHandled)) throw err;
      this.options.logger?.log(`'${consumer}' already handled message ${message.messageId}; skipping the duplicate`);
      this.duplicates.count(message, consumer);
      return { duplicate: true };
    }
  }

  /**
   * Wraps a handler for a `MessageHandler.handle`: the message is handled at most once (in effect) by
   * `consumer`; a duplicate resolves undefined without calling `fn`.
   */
  idempotent<P = unknown, R = unknown>(
    consumer: string,
    fn: (message: IncomingMessage<P>, manager: EntityManager) => Promise<R>,
  ): (message: IncomingMessage<P>) => Promise<R | undefined> {
    return async (message) => {
      const outcome = await this.handle(message, consumer, (manager) => fn(message, manager));
      return outcome.duplicate ? undefined : outcome.result;
    };
  }

  /** Whether `consumer` has handled `messageId` (committed). */
  async has(consumer: string, messageId: string): Promise<boolean> {
    return runExclusive(
      this.dataSource,
      async () => (await this.dataSource.getRepository(InboxRecord).countBy({ consumer, messageId })) > 0,
    );
  }

  /**
   * Deletes inbox rows handled more than `olderThanMs` ago; returns how many. Keep them longer than a
   * message can come back: the longest retry delay, DLQ replays, outbox retention.
   */
  async prune(olderThanMs: number): Promise<number> {
    const before = Date.now() - olderThanMs;
    const result = await runExclusive(this.dataSource, () =>
      this.dataSource
        .createQueryBuilder()
        .delete()
        .from(InboxRecord)
        .where('processed_at < :before', { before })
        .execute(),
    );
    return result.affected ?? 0;
  }
}
