import type { ValueTransformer } from 'typeorm';

/**
 * Timestamps are epoch milliseconds in a BIGINT (portable, no time zones). Postgres' driver hands BIGINT
 * back as a string; epoch milliseconds fit a double exactly, so they are read back as numbers.
 */
export const bigintNumber: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null || value === undefined ? value : Number(value)),
};
