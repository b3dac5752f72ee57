// A bundled broker with its management API, as the demo and compose run it, on free ports.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { eventually } from '../../../../tools/testing/eventually';

export interface LiveBroker {
  amqpUrl: string;
  managementUrl: string;
  stop(): Promise<void>;
}

export async function startBroker(): Promise<LiveBroker> {
  const entry = process.env.WARREN_TEST_BROKER_ENTRY;
  if (!entry) throw new Error('WARREN_TEST_BROKER_ENTRY is not set: run through jest -c apps/console/jest.config.js');
  const dataDir = mkdtempSync(path.join(tmpdir(), 'warren-console-broker-'));
  const child: ChildProcess = spawn(
    process.execPath,
    [entry, '--port', '0', '--management-port', '0', '--data-dir', dataDir],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const [amqpPort, httpPort] = await eventually(
    'the broker to listen',
    () => {
      const amqp = /listening on amqp:\/\/[^:]+:(\d+)/.exec(out);
      const http = /listening on http:\/\/[^:]+:(\d+) \(management API\)/.exec(out);
      if (child.exitCode !== null) throw new Error(`the broker exited: ${out}`);
      return amqp && http ? [amqp[1], http[1]] : undefined;
    },
    10_000,
  );
  return {
    amqpUrl: `amqp://guest:guest@127.0.0.1:${amqpPort}`,
    managementUrl: `http://guest:guest@127.0.0.1:${httpPort}`,
    stop: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
