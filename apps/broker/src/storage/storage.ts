import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { Definitions, loadDefinitions, saveDefinitions } from './definitions';
import { DurableStore } from './durable-store';
import { SegmentLog } from './segment-log';
import type { QueueSettings } from '../queue/queue-arguments';

/**
 * A virtual host's data directory (the default vhost '/' uses the data directory itself; any other vhost
 * <data-dir>/vhosts/<id>/, <id> a hash of its name):
 *
 *   definitions.json        durable exchanges, queues and bindings (definitions.ts)
 *   queues/<id>/            one message log per durable queue (segment-log.ts); <id> is a hash of the queue
 *                           name, so any name maps to a safe directory name
 *   delayed/<id>/           the held messages of one x-delayed-message exchange (a segment log whose records'
 *                           expiry field is the due time; delay-scheduler.ts); <id> a hash of the exchange name
 */
export class Storage {
  static vhostDir(dataDir: string, vhost: string): string {
    return vhost === '/'
      ? dataDir
      : join(dataDir, 'vhosts', createHash('sha256').update(vhost).digest('hex').slice(0, 32));
  }

  constructor(
    readonly dataDir: string,
    private readonly log: (message: string) => void,
  ) {
    fs.mkdirSync(join(dataDir, 'queues'), { recursive: true });
  }

  private get definitionsPath(): string {
    return join(this.dataDir, 'definitions.json');
  }

  loadDefinitions(): Definitions | undefined {
    return loadDefinitions(this.definitionsPath);
  }

  saveDefinitions(definitions: Definitions): void {
    saveDefinitions(this.definitionsPath, definitions);
  }

  queueDir(name: string): string {
    return join(this.dataDir, 'queues', createHash('sha256').update(name).digest('hex').slice(0, 32));
  }

  /**
   * Opens the message log of a durable queue: recovering what it holds (restart), or starting empty for a
   * queue declared now (`fresh`), wiping whatever a queue of the same name left behind. A quorum queue's store
   * keeps every message and its delivery count (durable-store.ts).
   */
  openQueue(name: string, settings: Pick<QueueSettings, 'maxPriority' | 'type'>, fresh: boolean): DurableStore {
    if (fresh) fs.rmSync(this.queueDir(name), { recursive: true, force: true });
    const store = new DurableStore(
      new SegmentLog(this.queueDir(name), this.log),
      settings.maxPriority ?? 0,
      settings.type === 'quorum',
    );
    store.recover();
    return store;
  }

  delayDir(exchange: string): string {
    return join(this.dataDir, 'delayed', createHash('sha256').update(exchange).digest('hex').slice(0, 32));
  }

  /** The (unopened) log of an x-delayed-message exchange's held messages; `fresh` wipes what was there. */
  delayLog(exchange: string, fresh: boolean): SegmentLog {
    if (fresh) fs.rmSync(this.delayDir(exchange), { recursive: true, force: true });
    return new SegmentLog(this.delayDir(exchange), this.log);
  }

  /** Deletes the logs of delayed exchanges that no longer exist. */
  removeDelayOrphans(exchangeNames: Iterable<string>): void {
    const root = join(this.dataDir, 'delayed');
    if (!fs.existsSync(root)) return;
    const keep = new Set([...exchangeNames].map((name) => this.delayDir(name)));
    for (const entry of fs.readdirSync(root)) {
      const dir = join(root, entry);
      if (!keep.has(dir)) fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  /** Deletes logs of queues that no longer exist (deleted while the broker was down, or transient leftovers). */
  removeOrphans(queueNames: Iterable<string>): void {
    const keep = new Set([...queueNames].map((name) => this.queueDir(name)));
    for (const entry of fs.readdirSync(join(this.dataDir, 'queues'))) {
      const dir = join(this.dataDir, 'queues', entry);
      if (!keep.has(dir)) fs.rmSync(dir, { recursive: true, force: true });
    }
  }
}
