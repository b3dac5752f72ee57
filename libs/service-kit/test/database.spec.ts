// Instances of a scaled-out service start together against one Postgres database: their migrations must not
// race (TypeORM's runner takes no lock; without one the second instance fails on "relation already exists").
import { messagingEntities, messagingMigrations } from '@warren/messaging/typeorm';
import type { DataSource } from 'typeorm';
import { databaseOptions, openDatabase } from '../src/database';
import { createTestDatabase } from '../../../tools/testing/service-env';

const server = process.env.DATABASE_URL;
if (!server) throw new Error('DATABASE_URL is not set: these tests need a Postgres server to create databases on (.ci/run starts one)');

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

  const options = () => databaseOptions({ service: 'lock-test', databaseUrl: database.url, dataDir: '/tmp', entities: [...messagingEntities], migrations: [...messagingMigrations] });

  it('runs each migration once when four instances start at the same moment', async () => {
    const results = await Promise.allSettled(Array.from({ length: 4 }, () => openDatabase(options())));
    for (const r of results) if (r.status === 'fulfilled') opened.push(r.value);
    expect(results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok'))).toEqual(['ok', 'ok', 'ok', 'ok']);
    const executed = (await opened[0].query('SELECT name FROM migrations ORDER BY id')) as Array<{ name: string }>;
    expect(executed.map((m) => m.name)).toEqual(messagingMigrations.map((m) => (m as { name: string }).name));
    // every instance ended with nothing pending, and the lock was given back
    for (const ds of opened) expect(await ds.showMigrations()).toBe(false);
    const held = (await opened[0].query("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'")) as Array<{ n: number }>;
    expect(held[0].n).toBe(0);
  });

  it('gives the lock back when a migration fails, and closes its connection', async () => {
    class Failing1700000000000 {
      async up(): Promise<void> {
        throw new Error('boom: a migration that fails');
      }
      async down(): Promise<void> {}
    }
    const bad = { ...options(), migrations: [...messagingMigrations, Failing1700000000000] } as Parameters<typeof openDatabase>[0];
    await expect(openDatabase(bad)).rejects.toThrow('boom: a migration that fails');
    // the next instance (without the faulty migration) gets the lock at once and migrates
    const ds = await openDatabase(options());
    opened.push(ds);
    expect(await ds.showMigrations()).toBe(false);
  });
});
