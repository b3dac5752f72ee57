// Instances of a scaled-out service start together against one Postgres database: their migrations must not
// race (TypeORM's runner takes no lock; without one the second instance fails on "relation already exists").
// On SQLite, integer parameters are bound rather than written into the SQL (database.ts, bindIntegersOnSqlite).
import { messagingEntities, messagingMigrations } from '@warren/messaging/typeorm';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EntitySchema, type DataSource } from 'typeorm';
import { databaseOptions, openDatabase } from '../src/database';
import { createTestDatabase } from '../../../tools/testing/service-env';

const server = process.env.DATABASE_URL;
if (!server)
  throw new Error(
    'DATABASE_URL is not set: these tests need a Postgres server to create databases on (.ci/run starts one)',
  );

describe('openDatabase on Postgres', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  const opened: DataSource[] = [];
  beforeEach(async () => {
    database = await createTestDatabase(server, 'migration_lock');
  });
  afterEach(async () => {
    for (const ds of opened.splice(0)) await ds.destroy();
    await database.drop();
  });

  const options = () =>
    databaseOptions({
      service: 'lock-test',
      databaseUrl: database.url,
      dataDir: '/tmp',
      entities: [...messagingEntities],
      migrations: [...messagingMigrations],
    });

  it('runs each migration once when four instances start at the same moment', async () => {
    const results = await Promise.allSettled(Array.from({ length: 4 }, () => openDatabase(options())));
    for (const r of results) if (r.status === 'fulfilled') opened.push(r.value);
    expect(results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok'))).toEqual(['ok', 'ok', 'ok', 'ok']);
    const executed = (await opened[0].query('SELECT name FROM migrations ORDER BY id')) as Array<{ name: string }>;
    expect(executed.map((m) => m.name)).toEqual(messagingMigrations.map((m) => (m as { name: string }).name));
    // every instance ended with nothing pending, and the lock was given back
    for (const ds of opened) expect(await ds.showMigrations()).toBe(false);
    const held = (await opened[0].query(
      "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'",
    )) as Array<{ n: number }>;
    expect(held[0].n).toBe(0);
  });

  it('gives the lock back when a migration fails, and closes its connection', async () => {
    class Failing1700000000000 {
      async up(): Promise<void> {
        throw new Error('boom: a migration that fails');
      }
      async down(): Promise<void> {}
    }
    const bad = { ...options(), migrations: [...messagingMigrations, Failing1700000000000] } as Parameters<
      typeof openDatabase
    >[0];
    await expect(openDatabase(bad)).rejects.toThrow('boom: a migration that fails');
    // the next instance (without the faulty migration) gets the lock at once and migrates
    const ds = await openDatabase(options());
    opened.push(ds);
    expect(await ds.showMigrations()).toBe(false);
  });
});

describe('openDatabase on SQLite', () => {
  let dir: string;
  let ds: DataSource;
  const Counter = new EntitySchema<{ id: number; n: number; at: number; ratio: number; label: string; on: boolean }>({
    name: 'counter',
    columns: {
      id: { type: Number, primary: true },
      n: { type: 'integer' },
      at: { type: 'bigint' },
      ratio: { type: 'real' },
      label: { type: 'text' },
      on: { type: 'boolean' },
    },
  });
  const statements: string[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'warren-sqlite-binding-'));
    const options = databaseOptions({
      service: 'binding-test',
      dataDir: dir,
      entities: [...messagingEntities, Counter],
      migrations: [...messagingMigrations],
    });
    ds = await openDatabase({
      ...options,
      logging: ['query'],
      logger: {
        logQuery: (q: string) => void statements.push(q),
        logQueryError: () => undefined,
        logQuerySlow: () => undefined,
        logSchemaBuild: () => undefined,
        logMigration: () => undefined,
        log: () => undefined,
      },
    } as typeof options);
    await ds.query(
      'CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL, at BIGINT NOT NULL, ratio REAL NOT NULL, label TEXT NOT NULL, "on" BOOLEAN NOT NULL)',
    );
    statements.length = 0;
  });
  afterEach(async () => {
    await ds.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('binds integer parameters instead of writing them into the SQL, so one query shape is one statement, and values round-trip', async () => {
    const repo = ds.getRepository(Counter);
    const rows = [
      { id: 1, n: 0, at: 1_796_263_998_334, ratio: 0.25, label: "it's", on: true },
      { id: 2, n: -7, at: Number.MAX_SAFE_INTEGER, ratio: 0.25, label: ':n', on: false },
    ];
    for (const row of rows) await ds.createQueryBuilder().insert().into(Counter).values(row).execute();
    for (const [n, at] of [
      [5, 1_000],
      [6, 2_000],
    ]) {
      await ds
        .createQueryBuilder()
        .update(Counter)
        .set({ n: () => 'n + :step', at })
        .where('id = :id AND n >= :min', { id: 1, step: n, min: -1 })
        .execute();
    }
    const inserts = statements.filter((s) => s.startsWith('INSERT'));
    const updates = statements.filter((s) => s.startsWith('UPDATE'));
    expect(new Set(inserts).size).toBe(1);
    expect(new Set(updates).size).toBe(1);
    for (const s of [...inserts, ...updates])
      expect(s).not.toMatch(/\b(1796263998334|9007199254740991|1000|2000|-7)\b/);
    expect(await repo.find({ order: { id: 'ASC' } })).toEqual([{ ...rows[0], n: 11, at: 2_000 }, rows[1]]);
    // a fraction is still written as TypeORM writes it, and compares right
    expect(await ds.createQueryBuilder(Counter, 'c').where('c.ratio < :r', { r: 0.5 }).getCount()).toBe(2);
    expect(
      await ds
        .createQueryBuilder(Counter, 'c')
        .where('c.ratio > :r', { r: 0.2 })
        .andWhere('c.n < :n', { n: 0 })
        .getCount(),
    ).toBe(1);
  });
});

describe('SQLite durability (SQLITE_SYNCHRONOUS)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'warren-sqlite-sync-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  // PRAGMA synchronous answers 1 for NORMAL, 2 for FULL. Checked on the first open (a new file) and on the next (a
  // file already in WAL mode, which better-sqlite3's build opens with NORMAL unless told otherwise: a service
  // restarted)
  it.each([
    [undefined, 2],
    ['full', 2],
    ['normal', 1],
  ] as const)(
    'with %s, the write-ahead log is synced as asked (PRAGMA synchronous = %i), after a restart too',
    async (sqliteSynchronous, expected) => {
      for (const open of ['new file', 'reopened']) {
        const ds = await openDatabase(
          databaseOptions({
            service: 'sync-test',
            dataDir: dir,
            entities: [...messagingEntities],
            migrations: [...messagingMigrations],
            sqliteSynchronous,
          }),
        );
        try {
          expect([open, await ds.query('PRAGMA journal_mode')]).toEqual([open, [{ journal_mode: 'wal' }]]);
          expect([open, await ds.query('PRAGMA synchronous')]).toEqual([open, [{ synchronous: expected }]]);
        } finally {
          await ds.destroy();
        }
      }
    },
  );
});
