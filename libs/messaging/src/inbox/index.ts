export { InboxRecord } from './inbox-record.entity';
export type { InboxResult } from './inbox-result';
export { TypeOrmInbox, type TypeOrmInboxOptions } from './typeorm-inbox';
export { RedisInbox, type RedisInboxOptions } from './redis-inbox';
export { InboxBusyError } from './inbox-busy.error';
export { runInTransaction, sharesOneConnection } from './run-in-transaction';
export { isUniqueViolation } from './unique-violation';
