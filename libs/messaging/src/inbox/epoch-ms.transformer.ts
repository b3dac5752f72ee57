import type { ValueTransformer } from 'typeorm';

/**
 * Timestamps are stored as milliseconds since the epoch in a BIGINT: portable (SQLite, Postgres, MySQL),
 * free of time zones, and cheap to compare. Postgres' driver returns BIGINT as a string (it may exceed
 * 2^53); epoch milliseconds never do, so they come back as numbers.
 */
export const epochMs: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null || value === undefined ? value : Number(value)),
};
