import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  Column,
  DataSource,
  Entity,
  PrimaryGeneratedColumn,
  Table,
  type DataSourceOptions,
  type MigrationInterface,
  type QueryRunner,
} from 'typeorm';
import { messagingEntities, messagingMigrations } from '../../src/outbox';
import { createTestDatabase } from '../../../../tools/testing/service-env';

export interface TestDatabaseKind {
  name: 'sqlite' | 'postgres';
  /** The server connection (postgres): each suite creates and drops its own database through it. */
  url?: string;
}

/** The databases every pattern is proven on: SQLite (a file) always, Postgres when DATABASE_URL is set. */
export function testDatabases(): TestDatabaseKind[] {
  const list: TestDatabaseKind[] = [{ name: 'sqlite' }];
  if (process.env.DATABASE_URL) list.push({ name: 'postgres', url: process.env.DATABASE_URL });
  return list;
}

/** A business row for tests to count: a handler or a transaction writes one per effect. */
@Entity({ name: 'test_side_effect' })
export class SideEffect {
  @PrimaryGeneratedColumn('increment', { name: 'id', type: 'integer' })
  id!: number;

  @Column({ name: 'message_id', type: 'varchar', length: 255 })
  messageId!: string;

  @Column({ name: 'note', type: 'varchar', length: 255, default: '' })
  note!: string;
}

/** The test table, created the way a service creates its own: a portable migration. */
export class CreateTestTables1767225600001 implements MigrationInterface {
  name = 'CreateTestTables1767225600001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'test_side_effect',
        columns: [
          { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          { name: 'message_id', type: 'varchar', length: '255' },
          { name: 'note', type: 'varchar', length: '255', default: "''" },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('test_side_effect');
  }
}

/**
 * A database of its own for one suite: a SQLite file in a temporary directory, or a Postgres database
 * created through DATABASE_URL's server and dropped afterwards. open() gives DataSources on it (the first
 * one runs the migrations: the library's and the test table's); drop() closes them and removes it all.
 */
export class TestDatabase {
  private readonly opened: DataSource[] = [];

  private constructor(
    readonly kind: TestDatabaseKind,
    /** TypeORM connection options (no entities): what a child process needs to reach the same database. */
    readonly connection: DataSourceOptions,
    private readonly dispose: () => Promise<void>,
  ) {}

  static async create(kind: TestDatabaseKind): Promise<TestDatabase> {
    if (kind.name === 'sqlite') {
      const dir = mkdtempSync(path.join(tmpdir(), 'warren-messaging-db-'));
      return new TestDatabase(kind, { type: 'better-sqlite3', database: path.join(dir, 'test.sqlite') }, async () =>
        rmSync(dir, { recursive: true, force: true }),
      );
    }
    const database = await createTestDatabase(kind.url!, 'test');
    return new TestDatabase(kind, { type: 'postgres', url: database.url }, database.drop);
  }

  /**
   * A new DataSource (a connection of its own: a second "instance" of a service). SQLite's busy timeout
   * is short on purpose: two connections in one process wait on each other synchronously, so a lock
   * conflict should fail fast (and be retried) rather than freeze the event loop.
   */
  async open(opts: { sqliteBusyTimeoutMs?: number } = {}): Promise<DataSource> {
    const base =
      this.kind.name === 'sqlite'
        ? { ...this.connection, timeout: opts.sqliteBusyTimeoutMs ?? 1000 }
        : { ...this.connection, extra: { max: 10 } };
    const ds = new DataSource({
      ...base,
      entities: [...messagingEntities, SideEffect],
      migrations: [...messagingMigrations, CreateTestTables1767225600001],
    } as DataSourceOptions);
    await ds.initialize();
    this.opened.push(ds);
    if (this.opened.length === 1) await ds.runMigrations();
    return ds;
  }

  async drop(): Promise<void> {
    for (const ds of this.opened.splice(0)) if (ds.isInitialized) await ds.destroy();
    await this.dispose();
  }
}
