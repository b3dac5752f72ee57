// Starts the bundled broker as a child process on loopback, the way services meet it: over TCP, from the
// outside. Plain JS so jest's globalSetup can use it without a transform.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

/**
 * @param {{ entry?: string, port?: number, dataDir?: string }} [opts]
 * @returns {Promise<{ url: string, port: number, dataDir: string, pid: number, stop(signal?: string): Promise<void>, restart(): Promise<void> }>}
 */
async function spawnBroker(opts = {}) {
  const entry = opts.entry ?? process.env.WARREN_TEST_BROKER_ENTRY;
  if (!entry)
    throw new Error('WARREN_TEST_BROKER_ENTRY is not set: run the tests through jest -c libs/messaging/jest.config.js');
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'warren-broker-'));
  let child;
  let port = opts.port ?? 0;

  async function start() {
    child = spawn(process.execPath, [entry, '--host', '127.0.0.1', '--port', String(port), '--data-dir', dataDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
    port = await new Promise((resolve, reject) => {
      let out = '';
      const onData = (d) => {
        out += d;
        const m = /listening on amqp:\/\/[^:]+:(\d+)/.exec(out);
        if (m) {
          child.stdout.off('data', onData);
          resolve(Number(m[1]));
        }
      };
      child.stdout.on('data', onData);
      child.once('exit', (code) => reject(new Error(`broker exited with ${code} before listening: ${stderr}`)));
    });
    child.stdout.resume();
  }

  async function stop(signal = 'SIGTERM') {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
  }

  await start();
  return {
    get url() {
      return `amqp://guest:guest@127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    get pid() {
      return child.pid;
    },
    dataDir,
    stop,
    /** Stops (SIGTERM unless told) and starts again on the same port and data dir. */
    async restart(signal) {
      await stop(signal);
      await start();
    },
  };
}

module.exports = { spawnBroker };
