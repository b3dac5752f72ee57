import { DeadLetterQueue, deadLetterQueueName, type ParkedMessage } from '@warren/messaging';
import { z } from 'zod';
import type {
  DeadLetterQueueList,
  ParkedList,
  ParkedMessageJson,
  PurgeResponse,
  ReplayResponse,
} from '../contracts/dead-letters';
import type { ConsoleConfig } from './config';
import { ManagementQueue } from './topology';
import { sendJson } from './upstream';

/** The library's dead-letter suffix: a queue named `<work queue>.dlq` is a DLQ. */
const SUFFIX = deadLetterQueueName('');

/** The work queue and its DLQ from either name, as the library reads them. */
export function deadLetterNames(queue: string): { work: string; dlq: string } {
  return queue.endsWith(SUFFIX) && queue.length > SUFFIX.length
    ? { work: queue.slice(0, -SUFFIX.length), dlq: queue }
    : { work: queue, dlq: `${queue}${SUFFIX}` };
}

/** The vhost an AMQP URL names (`amqp://host` and `amqp://host/` are '/'); of a list, the first node's (a cluster's nodes share their vhosts). */
function vhostOf(amqpUrl: string): string {
  const path = new URL(amqpUrl.split(',')[0]).pathname;
  return path === '' || path === '/' ? '/' : decodeURIComponent(path.slice(1));
}

/** Header values as JSON can carry them: byte arrays (AMQP byte strings) as base64 rather than Node's { type, data }. */
function jsonSafe(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (Array.isArray(value)) return value.map(jsonSafe);
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonSafe(v)]));
  return value;
}

function toJson(m: ParkedMessage): ParkedMessageJson {
  return { ...m, headers: jsonSafe(m.headers) as Record<string, unknown> };
}

/**
 * What the console does with dead letters, through the same library code as `npm run dlq`: one AMQP connection
 * of the console's own (opened on first use, opened again after the broker went away), the DLQ list from the
 * management API.
 *
 * The library reads a DLQ by taking its messages unacked and giving them back; two readers of one DLQ at the same
 * time would each see only part of it. So the console runs the operations on one DLQ one after another, and
 * browsers that ask for the same listing while it waits share one (every open browser refreshes when a count moves).
 */
export class DeadLetterOperations {
  private readonly dlq: DeadLetterQueue;
  private readonly vhost: string;
  private readonly tails = new Map<string, Promise<unknown>>();
  private readonly waitingLists = new Map<string, Promise<ParkedList>>();

  constructor(private readonly config: ConsoleConfig) {
    this.dlq = new DeadLetterQueue(config.amqpUrl, { connectionName: 'warren-console', timeoutMs: 5000 });
    this.vhost = vhostOf(config.amqpUrl);
  }

  /** Every `….dlq` queue of the console's vhost, with its work queue and depth. */
  async queues(): Promise<DeadLetterQueueList> {
    const all = z
      .array(ManagementQueue)
      .parse(await sendJson('GET', `${this.config.managementUrl}/api/queues`, { timeoutMs: 5000 }))
      .filter((q) => q.vhost === this.vhost);
    const names = new Set(all.map((q) => q.name));
    const queues = all
      .filter((q) => q.name.endsWith(SUFFIX) && q.name.length > SUFFIX.length)
      .map((q) => {
        const { work } = deadLetterNames(q.name);
        return {
          queue: q.name,
          workQueue: work,
          workQueueExists: names.has(work),
          ready: q.messages_ready ?? 0,
          unacked: q.messages_unacknowledged ?? 0,
        };
      })
      .sort((a, b) => a.queue.localeCompare(b.queue));
    return { vhost: this.vhost, queues };
  }

  /** Up to `limit` parked messages, oldest first; they stay where they are. */
  list(queue: string, limit: number): Promise<ParkedList> {
    const { work, dlq } = deadLetterNames(queue);
    const key = `${dlq}\n${limit}`;
    const waiting = this.waitingLists.get(key);
    if (waiting) return waiting;
    const listing = this.serial(dlq, async () => {
      this.waitingLists.delete(key); // started: a later request must see what changes from now on
      const messages = await this.dlq.list(dlq, { limit });
      // counted after the listing, when the listed messages are back
      const count = Math.max(await this.dlq.count(dlq), messages.length);
      return { queue: dlq, workQueue: work, count, messages: messages.map(toJson) };
    });
    this.waitingLists.set(key, listing);
    return listing;
  }

  /** Sends the given parked messages (all, without ids) back to their work queue. */
  replay(queue: string, ids?: string[]): Promise<ReplayResponse> {
    const { dlq } = deadLetterNames(queue);
    return this.serial(dlq, () => this.dlq.replay(dlq, { ids }));
  }

  /** Deletes the given parked messages, or all of them. */
  purge(queue: string, what: { ids: string[] } | { all: true }): Promise<PurgeResponse> {
    const { dlq } = deadLetterNames(queue);
    return this.serial(dlq, async () => ({
      purged: await this.dlq.purge(dlq, 'ids' in what ? { ids: what.ids } : {}),
    }));
  }

  close(): Promise<void> {
    return this.dlq.close();
  }

  /** Runs `op` after every earlier operation on the same DLQ has settled. */
  private serial<T>(dlq: string, op: () => Promise<T>): Promise<T> {
    const run = (this.tails.get(dlq) ?? Promise.resolve()).then(op, op);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(dlq, tail);
    void tail.then(() => {
      if (this.tails.get(dlq) === tail) this.tails.delete(dlq);
    });
    return run;
  }
}
