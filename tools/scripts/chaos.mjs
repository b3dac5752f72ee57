// `npm run chaos -- [flags]`: bundles the chaos run (e2e/chaos/main.ts) and the broker with esbuild, then runs the
// run in a child Node process in the foreground (flags passed through, Ctrl-C forwarded). See e2e/chaos/main.ts.
//
// `--broker a,b,…` (e.g. `bundled,rabbitmq,cluster`, as CI runs it) starts one run per broker at the same time, same
// flags otherwise. Their load is light (a few orders a second), so together they take the time of one. Each run's
// output is printed whole when it ends, under its broker's name, and the exit code is non-zero if any run failed.
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { bundle } from './bundle.mjs';
import { runForeground } from './foreground.mjs';

const args = process.argv.slice(2);
const { values } = parseArgs({ args, options: { broker: { type: 'string' } }, strict: false });
const brokers = (values.broker ?? 'bundled').split(',').filter(Boolean);

const [main, broker] = await Promise.all([
  bundle('e2e/chaos/main.ts', 'dist/chaos/main.js'),
  bundle('apps/broker/src/main.ts', 'dist/chaos/broker.js'),
]);
if (brokers.length <= 1) {
  runForeground(main, ['--broker-main', broker, ...args]);
} else {
  const others = withoutBroker(args);
  const started = Date.now();
  const children = new Set();
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => children.forEach((c) => c.kill(signal)));
  const codes = await Promise.all(
    brokers.map(
      (name) =>
        new Promise((resolve) => {
          const child = spawn(
            process.execPath,
            ['--enable-source-maps', main, '--broker-main', broker, '--broker', name, ...others],
            { stdio: ['ignore', 'pipe', 'pipe'] },
          );
          children.add(child);
          const output = [];
          child.stdout.on('data', (d) => output.push(d));
          child.stderr.on('data', (d) => output.push(d));
          child.on('exit', (code, signal) => {
            children.delete(child);
            const status = code ?? (signal ? 1 : 0);
            const took = ((Date.now() - started) / 1000).toFixed(0);
            process.stdout.write(
              `\n===== chaos on ${name}: ${status === 0 ? 'passed' : `FAILED (exit ${status})`} after ${took} s =====\n`,
            );
            process.stdout.write(Buffer.concat(output));
            resolve(status);
          });
        }),
    ),
  );
  const failed = brokers.filter((_, i) => codes[i] !== 0);
  console.log(
    `\nchaos: ${brokers.length - failed.length} of ${brokers.length} runs passed${failed.length ? `; failed: ${failed.join(', ')}` : ''}`,
  );
  process.exit(failed.length ? 1 : 0);
}

/** The flags without any `--broker X` / `--broker=X`: each run gets its own. */
function withoutBroker(list) {
  const out = [];
  for (let i = 0; i < list.length; i++) {
    if (list[i] === '--broker') i++;
    else if (!list[i].startsWith('--broker=')) out.push(list[i]);
  }
  return out;
}
