import type { DataSource, QueryRunner } from 'typeorm';
import { runExclusive, sharesOneConnection } from '../inbox/run-in-transaction';
import { isUniqueViolation } from '../inbox/unique-violation';
import { OutboxLease } from './outbox-lease.entity';
import { OutboxRecord } from './outbox-record.entity';

/** The longest `IN (...)` list sent at once (SQLite allows 32766 parameters; stay far below). */
const CHUNK = 500;

/**
 * The relay's SQL, kept portable (TypeORM's query builder: SQLite, Postgres, MySQL). Every statement is
 * a single autocommit statement, so none holds locks across a publish.
 */
export class OutboxStore {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Up to `limit` rows the relay may publish now, in id order: unpublished, due (unless `ignoreBackoff`),
   * and with no earlier unpublished row of the same aggregate that is still waiting for its next attempt.
   * Rows of one aggregate therefore come out as a prefix of that aggregate's backlog, in order; a row
   * that is backing off holds back the rest of its aggregate and nothing else.
   */
  fetchDue(now: number, limit: number, ignoreBackoff: boolean): Promise<OutboxRecord[]> {
    return this.exclusive(() => {
      const qb = this.dataSource.getRepository(OutboxRecord).createQueryBuilder('o').where('o.published_at IS NULL');
      if (!ignoreBackoff) {
        qb.andWhere('o.next_attempt_at <= :now', { now }).andWhere(
          `(o.aggregate_id IS NULL OR NOT EXISTS (SELECT 1 FROM ${this.table(OutboxRecord)} p
             WHERE p.aggregate_id = o.aggregate_id AND p.published_at IS NULL AND p.id < o.id AND p.next_attempt_at > :now))`,
        );
      }
      return qb.orderBy('o.id', 'ASC').limit(limit).getMany();
    });
  }

  /** Marks rows published, or deletes them at once when nothing is to be kept (`keep` false). */
  async markPublished(ids: number[], now: number, keep: boolean): Promise<void> {
    for (let i = 0; i < ids.length; i += CHUNK) {
      const chunk = ids.slice(i, i + CHUNK);
      await this.exclusive(() => {
        const qb = this.dataSource.createQueryBuilder();
        return (keep ? qb.update(OutboxRecord).set({ publishedAt: now }) : qb.delete().from(OutboxRecord))
          .where('id IN (:...chunk)', { chunk })
          .execute();
      });
    }
  }

  async markFailed(id: number, attempts: number, error: string, nextAttemptAt: number): Promise<void> {
    await this.exclusive(() =>
      this.dataSource
        .createQueryBuilder()
        .update(OutboxRecord)
        .set({ attempts, lastError: error, nextAttemptAt })
        .where('id = :id', { id })
        .execute(),
    );
  }

  /** Deletes published rows older than `before`; returns how many. */
  async deletePublished(before: number): Promise<number> {
    const r = await this.exclusive(() =>
      this.dataSource
        .createQueryBuilder()
        .delete()
        .from(OutboxRecord)
        .where('published_at IS NOT NULL AND published_at < :before', { before })
        .execute(),
    );
    return r.affected ?? 0;
  }

  countPending(): Promise<number> {
    return this.exclusive(() =>
      this.dataSource.getRepository(OutboxRecord).createQueryBuilder('o').where('o.published_at IS NULL').getCount(),
    );
  }

  /**
   * How many rows wait, and when the first of them was written (null when none wait): what the relay's gauges
   * report. Both statements walk the (published_at, id) index; the first pending row by id stands for the oldest
   * (ids and timestamps are taken in the same transaction, so they disagree by a commit race at most).
   */
  async backlog(): Promise<{ count: number; oldestCreatedAt: number | null }> {
    const count = await this.countPending();
    if (count === 0) return { count, oldestCreatedAt: null };
    const first = await this.exclusive(() =>
      this.dataSource
        .getRepository(OutboxRecord)
        .createQueryBuilder('o')
        .select(['o.id', 'o.createdAt'])
        .where('o.published_at IS NULL')
        .orderBy('o.id', 'ASC')
        .limit(1)
        .getOne(),
    );
    return { count, oldestCreatedAt: first?.createdAt ?? null };
  }

  /**
   * Takes or renews the lease `name` for `owner` until `expiresAt`: one conditional UPDATE that succeeds
   * only if the lease is ours or has expired, so two relays can never both win it. The row is created on
   * first use (a concurrent creator makes the INSERT fail with a unique violation: then it is theirs).
   */
  async acquireLease(name: string, owner: string, now: number, expiresAt: number): Promise<boolean> {
    const updated = await this.exclusive(() =>
      this.dataSource
        .createQueryBuilder()
        .update(OutboxLease)
        .set({ owner, expiresAt })
        .where('name = :name AND (owner = :owner OR expires_at <= :now)', { name, owner, now })
        .execute(),
    );
    if (updated.affected) return true;
    const exists = await this.exclusive(() => this.dataSource.getRepository(OutboxLease).existsBy({ name }));
    if (exists) return false;
    try {
      await this.exclusive(() => this.dataSource.getRepository(OutboxLease).insert({ name, owner, expiresAt }));
      return true;
    } catch (err) {
      if (isUniqueViolation(err)) return false;
      throw err;
    }
  }

  /** Renews only a lease we still hold; false when another relay took it (ours had expired). */
  async renewLease(name: string, owner: string, expiresAt: number): Promise<boolean> {
    const r = await this.exclusive(() =>
      this.dataSource
        .createQueryBuilder()
        .update(OutboxLease)
        .set({ expiresAt })
        .where('name = :name AND owner = :owner', { name, owner })
        .execute(),
    );
    return (r.affected ?? 0) > 0;
  }

  /** Lets go of the lease (if ours), so a standby relay takes over at its next poll instead of after expiry. */
  async releaseLease(name: string, owner: string): Promise<void> {
    await this.exclusive(() =>
      this.dataSource
        .createQueryBuilder()
        .update(OutboxLease)
        .set({ expiresAt: 0 })
        .where('name = :name AND owner = :owner', { name, owner })
        .execute(),
    );
  }

  async leaseHolder(name: string): Promise<OutboxLease | null> {
    return this.exclusive(() => this.dataSource.getRepository(OutboxLease).findOneBy({ name }));
  }

  private table(entity: typeof OutboxRecord): string {
    const { driver } = this.dataSource;
    return this.dataSource
      .getMetadata(entity)
      .tablePath.split('.')
      .map((part) => driver.escape(part))
      .join('.');
  }

  /**
   * On SQLite every statement shares the application's one connection. A statement issued while one of
   * the application's transactions is open would become part of it: the relay could read rows that are
   * then rolled back (and publish a message for a change that never happened). So wait for the
   * connection to be outside any transaction, then run alone (runExclusive queues the library's own
   * transactions, and the application's when it uses runInTransaction).
   */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (!sharesOneConnection(this.dataSource)) return fn();
    return runExclusive(this.dataSource, async () => {
      for (let waited = 0; this.sharedRunnerInTransaction(); waited++) {
        if (waited > 2_000)
          throw new Error(
            'the SQLite connection stayed inside a transaction for over 10 s; the outbox relay will try again',
          );
        await new Promise((r) => setTimeout(r, 5));
      }
      return fn();
    });
  }

  private sharedRunnerInTransaction(): boolean {
    const runner = (this.dataSource.driver as { queryRunner?: QueryRunner }).queryRunner;
    return runner?.isTransactionActive === true;
  }
}
