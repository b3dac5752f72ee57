import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DataSource, type DataSourceOptions, type MixedList, type EntitySchema } from 'typeorm';
import type { SqliteSynchronous } from './env';

export interface DatabaseConfig {
  service: string;
  /** postgres://… ; when absent, SQLite at `<dataDir>/<service>.sqlite`. */
  databaseUrl?: string;
  dataDir: string;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- TypeORM's own entity type
  entities: MixedList<Function | string | EntitySchema>;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- TypeORM's own migration type
  migrations: MixedList<Function | string>;
  /** Postgres schema, for tests that share one database. */
  schema?: string;
  /** SQLite only: when the write-ahead log is synced to disk (env.ts, SQLITE_SYNCHRONOUS); default 'full'. */
  sqliteSynchronous?: SqliteSynchronous;
}

/**
 * Each service owns its database: SQLite by default (a file, nothing to install), Postgres when
 * DATABASE_URL is set. Migrations run at start-up (openDatabase); `synchronize` is never on.
 */
export function databaseOptions(c: DatabaseConfig): DataSourceOptions {
  const common = {
    entities: c.entities,
    migrations: c.migrations,
    migrationsRun: false,
    synchronize: false,
    logging: false,
  } as const;
  if (c.databaseUrl) {
    if (!/^postgres(ql)?:\/\//.test(c.databaseUrl))
      throw new Error(`DATABASE_URL must be a postgres:// URL, got '${c.databaseUrl.replace(/\/\/[^@]*@/, '//***@')}'`);
    return { type: 'postgres', url: c.databaseUrl, schema: c.schema, ...common };
  }
  mkdirSync(c.dataDir, { recursive: true });
  return {
    type: 'better-sqlite3',
    database: path.join(c.dataDir, `${c.service}.sqlite`),
    // WAL lets readers run beside the writer; busy_timeout makes a second process (another instance)
    // wait for the write lock instead of failing at once. synchronous: FULL syncs the log at every commit, NORMAL
    // only at checkpoints (a commit then survives a killed process, not a machine going down). Always set: the
    // better-sqlite3 build opens a file that is already in WAL mode with NORMAL, so without it a service's commits
    // were synced until its first restart and not after.
    prepareDatabase: (db: { pragma(s: string): unknown }) => {
      db.pragma('journal_mode = WAL');
      db.pragma('busy_timeout = 5000');
      db.pragma(`synchronous = ${(c.sqliteSynchronous ?? 'full').toUpperCase()}`);
    },
    ...common,
  };
}

/** The Postgres advisory lock key instances of a service take around their migrations ("warren migrations"). */
export const MIGRATION_LOCK_KEY = 0x5761_7272;

/**
 * Connects and runs the pending migrations. Instances of a scaled-out service share one Postgres database and
 * may start at the same moment; TypeORM's migration runner takes no lock, so two of them would both find the
 * migrations table missing and the second would fail on "relation already exists". On Postgres the run is
 * therefore serialised by a session-level advisory lock: the second instance waits, then finds nothing pending.
 * (A SQLite file belongs to one instance.)
 */
export async function openDatabase(options: DataSourceOptions): Promise<DataSource> {
  const dataSource = await new DataSource({ ...options, migrationsRun: false }).initialize();
  if (dataSource.options.type === 'better-sqlite3') bindIntegersOnSqlite(dataSource);
  try {
    if (dataSource.options.type !== 'postgres') {
      await dataSource.runMigrations({ transaction: 'all' });
      return dataSource;
    }
    const runner = dataSource.createQueryRunner();
    try {
      await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
      try {
        await dataSource.runMigrations({ transaction: 'all' });
      } finally {
        await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
      }
    } finally {
      await runner.release();
    }
    return dataSource;
  } catch (err) {
    await dataSource.destroy().catch(() => undefined);
    throw err;
  }
}

/**
 * TypeORM's SQLite drivers write a number parameter into the SQL text (`updated_at = 1767…`) instead of binding
 * it, so nearly every UPDATE and INSERT of the saga (timestamps, versions, totals) is a statement SQLite has never
 * seen: better-sqlite3 prepares it again, and the runner's statement cache (FIFO) churns. Measured on the orders
 * service under load, preparing was 6.5 % of its CPU. Here each safe-integer parameter is handed to the driver as
 * a BigInt, which it binds like any other value (better-sqlite3 binds BigInt as INTEGER), so the text of a query
 * depends only on its shape. Other values (strings, fractions, raw SQL functions) are left as TypeORM treats them.
 */
export function bindIntegersOnSqlite(dataSource: DataSource): void {
  const driver = dataSource.driver as unknown as {
    escapeQueryWithParameters(
      sql: string,
      parameters: Record<string, unknown>,
      native: Record<string, unknown>,
    ): [string, unknown[]];
  };
  const escape = driver.escapeQueryWithParameters.bind(driver);
  driver.escapeQueryWithParameters = (sql, parameters, native) => {
    if (!parameters) return escape(sql, parameters, native);
    let bound: Record<string, unknown> | undefined;
    for (const key of Object.keys(parameters)) {
      const value = parameters[key];
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) continue;
      bound ??= { ...parameters };
      bound[key] = BigInt(value);
    }
    return escape(sql, bound ?? parameters, native);
  };
}
