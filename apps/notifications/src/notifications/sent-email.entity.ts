import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * One email that went out. The primary key is the idempotency key `<event>/<order id>`: the guard on the send
 * itself, so a job that runs twice (a redelivered event after its job was cleaned up, a worker that died
 * after sending) finds the row and does not send again.
 */
@Entity({ name: 'sent_emails' })
export class SentEmail {
  @PrimaryColumn({ type: 'varchar', length: 200 })
  key!: string;

  @Column({ type: 'varchar', length: 320 })
  to!: string;

  @Column({ type: 'varchar', length: 300 })
  subject!: string;

  @Column({ type: 'varchar', length: 100 })
  template!: string;

  /** The SMTP server's Message-ID. */
  @Column({ type: 'varchar', length: 300, name: 'smtp_message_id', nullable: true })
  smtpMessageId!: string | null;

  @Column({ type: 'varchar', length: 30, name: 'sent_at' })
  sentAt!: string;
}
