import { randomBytes } from 'node:crypto';
import { connect } from 'amqplib';

/** A name no other test (or earlier run) uses: `<prefix>.<8 hex digits>`. */
export function uniqueName(prefix: string): string {
  return `${prefix}.${randomBytes(4).toString('hex')}`;
}

/** Deletes what a test declared: queues with their retry and DLQ companions, and exchanges. */
export async function deleteTopology(
  url: string,
  what: { queues?: string[]; exchanges?: string[]; retryLevels?: number },
): Promise<void> {
  const conn = await connect(url);
  const attempt = async (op: (ch: import('amqplib').Channel) => Promise<unknown>) => {
    const ch = await conn.createChannel();
    ch.on('error', () => undefined); // deleting what is not there closes the channel: fine
    await op(ch).catch(() => undefined);
    await ch.close().catch(() => undefined);
  };
  try {
    for (const q of what.queues ?? []) {
      for (const name of [
        q,
        `${q}.dlq`,
        ...Array.from({ length: what.retryLevels ?? 10 }, (_, i) => `${q}.retry.${i + 1}`),
      ])
        await attempt((ch) => ch.deleteQueue(name));
    }
    for (const e of what.exchanges ?? []) await attempt((ch) => ch.deleteExchange(e));
  } finally {
    await conn.close();
  }
}
