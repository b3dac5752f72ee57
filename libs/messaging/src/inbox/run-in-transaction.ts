import { AsyncLocalStorage } from 'node:async_hooks';
import type { DataSource, EntityManager } from 'typeorm';

/**
 * TypeORM drives every SQLite database through ONE connection and one query runner. Two transactions
 * started at the same time on it do not isolate: the second becomes a SAVEPOINT inside the first, sees its
 * uncommitted rows, and the first one's COMMIT can be undone by the second one's ROLLBACK. Message
 * handlers run concurrently (prefetch), so on such drivers the transactions of this library (and,
 * ideally, every transaction of the service) go through one queue per DataSource.
 */
const SINGLE_CONNECTION_DRIVERS = new Set([
  'sqlite',
  'better-sqlite3',
  'sqljs',
  'capacitor',
  'cordova',
  'react-native',
  'nativescript',
  'expo',
]);

const queues = new WeakMap<DataSource, Promise<unknown>>();
/** The DataSources whose queue the current async context already holds: nested calls must not wait on it. */
const holding = new AsyncLocalStorage<ReadonlySet<DataSource>>();

/** True when the DataSource runs all its transactions on one connection (SQLite and friends). */
export function sharesOneConnection(dataSource: DataSource): boolean {
  return SINGLE_CONNECTION_DRIVERS.has(dataSource.options.type);
}

/**
 * `dataSource.transaction(fn)`, except that on single-connection drivers (SQLite) transactions run one at
 * a time, so they stay isolated from each other. Reentrant: a call made inside `fn` joins the running
 * transaction (as TypeORM does, with a savepoint) instead of waiting for itself.
 *
 * On SQLite, write outbox rows and anything else that runs concurrently through this function (the
 * inbox already does): a plain `dataSource.transaction()` running beside it can still interleave.
 */
export function runInTransaction<T>(dataSource: DataSource, fn: (manager: EntityManager) => Promise<T>): Promise<T> {
  return runExclusive(dataSource, () => dataSource.transaction(fn));
}

/** Runs `fn` alone among the exclusive work on this DataSource (only on single-connection drivers). */
export function runExclusive<T>(dataSource: DataSource, fn: () => Promise<T>): Promise<T> {
  const held = holding.getStore();
  if (!sharesOneConnection(dataSource) || held?.has(dataSource)) return fn();
  const previous = queues.get(dataSource) ?? Promise.resolve();
  const mine = previous.then(() => holding.run(new Set([...(held ?? []), dataSource]), fn));
  queues.set(
    dataSource,
    mine.catch(() => undefined),
  );
  return mine;
}
