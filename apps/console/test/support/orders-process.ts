// The orders service as a process of its own, as the demo and the e2e suites run it (bundled, its own namespace
// and data directory), for the suites that need real orders behind the console.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bundleEntry } from '../../../../tools/testing/bundle';
import { eventually } from '../../../../tools/testing/eventually';
import { freePort } from '../../../../tools/testing/ports';
import { deleteTopology } from '@warren/messaging/testing';
import { uniqueName } from '../../../../tools/testing/topology';

const ROOT = path.resolve(__dirname, '../../../..');

/**
 * The orders service as the demo runs it: bundled (tools/scripts/bundle.mjs) and started as a process of its
 * own, in a namespace and data directory of its own; stop() ends it (SIGTERM) and deletes what it declared.
 */
export async function startOrdersProcess(
  amqpUrl: string,
  env: NodeJS.ProcessEnv,
): Promise<{ url: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'warren-console-orders-'));
  // inside the workspace, so the bundle finds its npm packages in node_modules
  const entry = path.join(ROOT, 'tmp', 'console-test', `orders-${path.basename(dir)}.js`);
  await bundleEntry('apps/orders/src/main.ts', entry);
  const port = await freePort();
  const namespace = uniqueName('console-test');
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    ...env,
    PORT: String(port),
    AMQP_URL: amqpUrl,
    WARREN_NAMESPACE: namespace,
    WARREN_DATA_DIR: dir,
    NO_COLOR: '1',
  };
  delete childEnv.DATABASE_URL; // its own SQLite file in dir
  const child = spawn(process.execPath, ['--enable-source-maps', entry], {
    cwd: ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout!.on('data', (d) => (log = (log + d).slice(-4000)));
  child.stderr!.on('data', (d) => (log = (log + d).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    await exit(child);
    await deleteTopology(amqpUrl, {
      queues: [`${namespace}.orders.saga`, `${namespace}.orders.rpc`],
      exchanges: [`${namespace}.warren.events`, `${namespace}.warren.commands`],
    });
    rmSync(dir, { recursive: true, force: true });
    for (const file of [entry, `${entry}.map`]) rmSync(file, { force: true });
  };
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code, signal) => reject(new Error(`orders exited (${code ?? signal}) before it was healthy`))),
  );
  exited.catch(() => undefined);
  try {
    await Promise.race([
      exited,
      eventually(
        'the orders service to be healthy',
        async () => ((await fetch(`${url}/health`)).status === 200 ? true : undefined),
        60_000,
        100,
      ),
    ]);
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n--- orders log ---\n${log}`);
  }
  return { url, stop };
}

/** SIGTERM (the service shuts down gracefully), SIGKILL if it has not exited after 15 s. */
async function exit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}
