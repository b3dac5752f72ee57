import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort } from './ports';

export interface TestRedis {
  url: string;
  /** Stops the redis-server this started (by its PID); nothing when REDIS_URL was given. */
  stop(): Promise<void>;
  /** The redis-server's PID when this started one. */
  pid?: number;
  /** The server at REDIS_URL, which others use too: what a test wrote there is its to delete. */
  shared: boolean;
}

const HOW_TO_FIX =
  'these tests need Redis: set REDIS_URL (e.g. redis://127.0.0.1:6379) or install redis-server (apt-get install redis-server)';

/**
 * Redis for a suite: REDIS_URL when set, else a throwaway `redis-server` on a free loopback port with
 * persistence off. Tests share it, so each one uses its own key prefix.
 */
export async function startTestRedis(): Promise<TestRedis> {
  if (process.env.REDIS_URL) {
    await ping(process.env.REDIS_URL).catch((err: Error) => {
      throw new Error(`cannot reach Redis at REDIS_URL (${process.env.REDIS_URL}): ${err.message}; ${HOW_TO_FIX}`);
    });
    return { url: process.env.REDIS_URL, stop: async () => undefined, shared: true };
  }
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (d) => (output = (output + d).slice(-4000)));
  child.stderr?.on('data', (d) => (output = (output + d).slice(-4000)));
  await new Promise<void>((resolve, reject) => {
    child.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new Error(
          err.code === 'ENOENT'
            ? `redis-server is not installed and REDIS_URL is not set: ${HOW_TO_FIX}`
            : `could not start redis-server: ${err.message}; ${HOW_TO_FIX}`,
        ),
      ),
    );
    child.once('exit', (code) =>
      reject(
        new Error(`redis-server exited with ${code} before accepting connections: ${output.trim()}; ${HOW_TO_FIX}`),
      ),
    );
    const onData = () => {
      if (!/Ready to accept connections/i.test(output)) return;
      child.stdout?.off('data', onData);
      resolve();
    };
    child.stdout?.on('data', onData);
  });
  return { url: `redis://127.0.0.1:${port}`, stop: () => stopChild(child), shared: false, pid: child.pid };
}

async function ping(url: string): Promise<void> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  try {
    await client.connect();
    await client.ping();
  } finally {
    client.disconnect();
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise((r) => child.once('exit', r));
  process.kill(child.pid, 'SIGTERM');
  await exited;
}
