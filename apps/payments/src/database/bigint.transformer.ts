import type { ValueTransformer } from 'typeorm';

/**
 * BIGINT columns (epoch milliseconds, amounts in cents) read back as numbers: Postgres' driver hands BIGINT
 * back as a string; these values stay far below 2^53.
 */
export const bigintNumber: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null || value === undefined ? value : Number(value)),
};
