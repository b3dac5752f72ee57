import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { QueuedMessage } from '../message';
import { Storage } from './storage';
import { msgsName, persistent, tempDirs } from './testing/fixtures';

// A virtual host's data directory (storage.ts): where each queue's and delayed exchange's log lives, opening a
// queue fresh or recovering it, and removing the logs of queues and exchanges that no longer exist.

const entry = (body: string): QueuedMessage => ({
  message: persistent(body),
  seq: 0,
  expiresAt: 0,
  redelivered: false,
});

const CLASSIC = { type: 'classic', maxPriority: undefined } as const;

describe('Storage', () => {
  const dir = tempDirs('storage');

  it('puts the default vhost in the data directory and any other under vhosts/<32 hex digits of its hash>', () => {
    expect(Storage.vhostDir('/data', '/')).toBe('/data');
    const other = Storage.vhostDir('/data', 'shop');
    expect(other).toMatch(/^\/data\/vhosts\/[0-9a-f]{32}$/);
    expect(Storage.vhostDir('/data', 'shop')).toBe(other);
    expect(Storage.vhostDir('/data', 'Shop')).not.toBe(other);
  });

  it('maps any queue name to its own safe directory under queues/', () => {
    const storage = new Storage(dir(), () => undefined);
    const names = ['orders', 'Orders', '../../etc', 'a/b', 'ü'.repeat(200), ''];
    const dirs = names.map((name) => storage.queueDir(name));
    expect(new Set(dirs).size).toBe(names.length);
    for (const d of dirs)
      expect([dirname(d), basename(d)]).toEqual([join(dir(), 'queues'), expect.stringMatching(/^[0-9a-f]{32}$/)]);
  });

  it('recovers a queue opened again, and wipes it when opened fresh', () => {
    const storage = new Storage(dir(), () => undefined);
    let store = storage.openQueue('q', CLASSIC, true);
    store.push(entry('kept'));
    store.close();
    store = storage.openQueue('q', CLASSIC, false);
    expect(store.count).toBe(1);
    expect(store.shift()?.message.body.toString()).toBe('kept');
    store.close();
    store = storage.openQueue('q', CLASSIC, true);
    expect(store.count).toBe(0);
    store.close();
    expect(readdirSync(storage.queueDir('q'))).toEqual([msgsName(1)]);
  });

  it('removes the logs of queues not named, and keeps those named', () => {
    const storage = new Storage(dir(), () => undefined);
    for (const name of ['a', 'b', 'c']) storage.openQueue(name, CLASSIC, true).close();
    storage.removeOrphans(['a', 'c']);
    expect(['a', 'b', 'c'].map((name) => existsSync(storage.queueDir(name)))).toEqual([true, false, true]);
  });

  it('removes the logs of delayed exchanges not named, and wipes a delay log opened fresh', () => {
    const storage = new Storage(dir(), () => undefined);
    for (const name of ['x', 'y']) {
      mkdirSync(storage.delayDir(name), { recursive: true });
      writeFileSync(join(storage.delayDir(name), msgsName(1)), 'left');
    }
    storage.removeDelayOrphans(['y']);
    expect([existsSync(storage.delayDir('x')), existsSync(storage.delayDir('y'))]).toEqual([false, true]);
    storage.delayLog('y', true);
    expect(existsSync(storage.delayDir('y'))).toBe(false);
  });
});
