import { createHash } from 'node:crypto';

/**
 * The Message-ID of the email with this key (`order.confirmed/<order id>`), the same on every attempt.
 *
 * Sending is at least once: a process killed after the SMTP server took an email and before its sent record was
 * written sends it again when the job runs again, and SMTP has no way to ask whether it already has it. Both
 * copies carry one Message-ID, which says they are one email: mail stores and readers that drop a Message-ID they
 * already hold (Gmail, Sieve's `duplicate` test, RFC 7352; Mailpit's `--ignore-duplicate-ids`) show it once.
 * The domain is the sender's, as RFC 5322 advises for a Message-ID's right-hand side.
 */
export function emailMessageId(key: string, from: string): string {
  const domain = /@([^>\s]+)>?\s*$/.exec(from)?.[1] ?? 'warren.local';
  return `<${createHash('sha256').update(key).digest('hex').slice(0, 32)}@${domain}>`;
}
