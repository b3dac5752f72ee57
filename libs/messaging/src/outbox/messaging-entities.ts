import { InboxRecord } from '../inbox/inbox-record.entity';
import { CreateMessagingTables1767225600000 } from './create-messaging-tables.migration';
import { OutboxLease } from './outbox-lease.entity';
import { OutboxRecord } from './outbox-record.entity';

/** The library's entities, for a DataSource's `entities` (the inbox, the outbox and its lease). */
export const messagingEntities = [InboxRecord, OutboxRecord, OutboxLease];

/** The library's migrations, in order, for a DataSource's `migrations`. */
export const messagingMigrations = [CreateMessagingTables1767225600000];
