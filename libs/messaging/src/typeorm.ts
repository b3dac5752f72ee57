// @warren/messaging/typeorm: the TypeORM inbox and the transactional outbox. A separate entry, so services
// without a database never load TypeORM.
export {
  InboxRecord,
  TypeOrmInbox,
  type TypeOrmInboxOptions,
  runInTransaction,
  sharesOneConnection,
  isUniqueViolation,
} from './inbox';
export * from './outbox';
export { bigintNumber } from './inbox/bigint-number.transformer';
