import type { Channel } from 'amqplib';
import { openFirstAnswering } from '../dlq/broker-link';
import { deadLetterQueueName, retryQueueName } from '../core/retry-policy';

/**
 * Deletes what a test declared: each work queue with the companions a consumer declares beside it (its dead-letter
 * queue, and its delay queues for retry levels 1 … maxAttempts − 1), and the exchanges. The retry levels come from
 * the policy of whoever consumed the queue, which the caller may not know (a service's own, in another process), so
 * they are found on the broker: level after level until one is not there. `url` may list brokers as the `url` option
 * does (separated by commas): the first that answers is used.
 */
export async function deleteTopology(url: string, what: { queues?: string[]; exchanges?: string[] }): Promise<void> {
  const conn = await openFirstAnswering(url, 10_000, 'warren test clean-up');
  // one channel per operation: the broker closes the channel over a name that does not exist
  const attempt = async (op: (ch: Channel) => Promise<unknown>): Promise<boolean> => {
    const ch = await conn.createChannel();
    ch.on('error', () => undefined);
    const done = await op(ch).then(
      () => true,
      () => false,
    );
    await ch.close().catch(() => undefined);
    return done;
  };
  try {
    for (const queue of what.queues ?? []) {
      await attempt((ch) => ch.deleteQueue(queue));
      await attempt((ch) => ch.deleteQueue(deadLetterQueueName(queue)));
      for (let level = 1; await attempt((ch) => ch.checkQueue(retryQueueName(queue, level))); level++)
        await attempt((ch) => ch.deleteQueue(retryQueueName(queue, level)));
    }
    for (const exchange of what.exchanges ?? []) await attempt((ch) => ch.deleteExchange(exchange));
  } finally {
    await conn.close();
  }
}
