import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

export class CreateSentEmails1767312000000 implements MigrationInterface {
  name = 'CreateSentEmails1767312000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'sent_emails',
        columns: [
          { name: 'key', type: 'varchar', length: '200', isPrimary: true },
          { name: 'to', type: 'varchar', length: '320' },
          { name: 'subject', type: 'varchar', length: '300' },
          { name: 'template', type: 'varchar', length: '100' },
          { name: 'smtp_message_id', type: 'varchar', length: '300', isNullable: true },
          { name: 'sent_at', type: 'varchar', length: '30' },
        ],
        indices: [new TableIndex({ name: 'IDX_sent_emails_sent_at', columnNames: ['sent_at'] })],
      }),
      true,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('sent_emails');
  }
}
