import { randomBytes } from 'node:crypto';

/** A name no other test (or earlier run) uses: `<prefix>.<8 hex digits>`. */
export function uniqueName(prefix: string): string {
  return `${prefix}.${randomBytes(4).toString('hex')}`;
}
