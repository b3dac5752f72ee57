import type { ValueTransformer } from 'typeorm';

/** Epoch milliseconds in a BIGINT: Postgres hands BIGINT back as a string; epoch ms fit a double exactly. */
export const epochMs: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null || value === undefined ? value : Number(value)),
};
