import type { ValueTransformer } from 'typeorm';

/**
 * A BIGINT column read back as a number: the library's timestamps (milliseconds since the epoch in a BIGINT:
 * portable across SQLite, Postgres and MySQL, free of time zones, cheap to compare), and a service's own BIGINT
 * columns of the same kind (epoch milliseconds, amounts in cents). Postgres' driver returns BIGINT as a string,
 * since it may exceed 2^53; these values never do, so they come back as exact numbers.
 */
export const bigintNumber: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null || value === undefined ? value : Number(value)),
};
