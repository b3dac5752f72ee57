import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { DataSourceOptions, MixedList, EntitySchema } from 'typeorm';

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
}

/**
 * Each service owns its database: SQLite by default (a file, nothing to install), Postgres when
 * DATABASE_URL is set. Migrations run at start-up; `synchronize` is never on.
 */
export function databaseOptions(c: DatabaseConfig): DataSourceOptions {
  const common = { entities: c.entities, migrations: c.migrations, migrationsRun: true, synchronize: false, logging: false } as const;
  if (c.databaseUrl) {
    if (!/^postgres(ql)?:\/\//.test(c.databaseUrl)) throw new Error(`DATABASE_URL must be a postgres:// URL, got '${c.databaseUrl.replace(/\/\/[^@]*@/, '//***@')}'`);
    return { type: 'postgres', url: c.databaseUrl, schema: c.schema, ...common };
  }
  mkdirSync(c.dataDir, { recursive: true });
  return {
    type: 'better-sqlite3',
    database: path.join(c.dataDir, `${c.service}.sqlite`),
    // WAL lets readers run beside the writer; busy_timeout makes a second process (another instance)
    // wait for the write lock instead of failing at once.
    prepareDatabase: (db: { pragma(s: string): unknown }) => {
      db.pragma('journal_mode = WAL');
      db.pragma('busy_timeout = 5000');
    },
    ...common,
  };
}
