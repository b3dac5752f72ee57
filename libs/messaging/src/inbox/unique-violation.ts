/**
 * Driver error codes for "duplicate key", per database. TypeORM wraps driver errors in QueryFailedError
 * and copies the driver's fields onto it, so `code`/`errno` are read from the error or its driverError.
 */
const UNIQUE_VIOLATION_CODES = new Set<string | number>([
  'SQLITE_CONSTRAINT_PRIMARYKEY', // better-sqlite3, sqlite3 (extended codes)
  'SQLITE_CONSTRAINT_UNIQUE',
  '23505', // Postgres (and CockroachDB): unique_violation
  'ER_DUP_ENTRY', // MySQL / MariaDB
  1062,
  2627, // SQL Server: violation of PRIMARY KEY / UNIQUE constraint
  2601, // SQL Server: duplicate key in a unique index
]);

/** True when a write failed because a row with the same primary or unique key exists. */
export function isUniqueViolation(error: unknown): boolean {
  for (const e of [error, (error as { driverError?: unknown } | undefined)?.driverError]) {
    if (typeof e !== 'object' || e === null) continue;
    const { code, errno, number } = e as { code?: unknown; errno?: unknown; number?: unknown };
    for (const c of [code, errno, number])
      if ((typeof c === 'string' || typeof c === 'number') && UNIQUE_VIOLATION_CODES.has(c)) return true;
    // node-sqlite3 reports only SQLITE_CONSTRAINT; its message names the kind of constraint
    if (code === 'SQLITE_CONSTRAINT' && /UNIQUE constraint failed|PRIMARY KEY/i.test(String((e as Error).message)))
      return true;
  }
  return false;
}
