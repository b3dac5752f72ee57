export { Outbox, type OutboxMessage } from './outbox';
export { OutboxRecord } from './outbox-record.entity';
export { OutboxLease } from './outbox-lease.entity';
export { OutboxRelay, type OutboxRelayEventMap } from './outbox-relay';
export type { OutboxRelayOptions } from './outbox-relay-options';
export { OutboxWriteError } from './outbox-write.error';
export { CreateMessagingTables1767225600000 } from './create-messaging-tables.migration';
export { messagingEntities, messagingMigrations } from './messaging-entities';
