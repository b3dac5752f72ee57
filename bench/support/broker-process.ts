// The bundled broker as a child process: `node <bundle> --port 0 --host 127.0.0.1 --data-dir <dir>`, ready
// once it prints `listening on amqp://HOST:PORT`.

import { spawn, type ChildProcess } from 'node:child_process';

export interface BrokerProcess {
  child: ChildProcess;
  pid: number;
  port: number;
  url: string;
  /** Last few KiB of the broker's stderr (its log). */
  stderrTail(): string;
  running(): boolean;
  /** SIGTERM, then SIGKILL after `ms`; resolves once it exited. */
  stop(ms?: number): Promise<void>;
}

export async function startBroker(main: string, dataDir: string, timeoutMs = 15_000): Promise<BrokerProcess> {
  const env = { ...process.env };
  delete env.BROKER_PORT;
  const child = spawn(process.execPath, [main, '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    err = (err + chunk).slice(-8192);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the broker did not start within ${timeoutMs} ms; stderr: ${err}`));
    }, timeoutMs);
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const m = /listening on amqp:\/\/[^\s:]+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the broker exited (${signal ?? code}) before listening; stderr: ${err}`));
    });
  });
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    child,
    pid: child.pid as number,
    port,
    url: `amqp://guest:guest@127.0.0.1:${port}`,
    stderrTail: () => err,
    running,
    async stop(ms = 5000) {
      if (!running()) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), ms);
      await exited;
      clearTimeout(timer);
    },
  };
}
