// `npm run crash-test -- [flags]`: bundles the crash-safety harness (cli.ts) with tools/scripts/bundle.mjs
// under tmp/ (so amqplib resolves from the workspace's node_modules) and runs it, passing the flags through.
// The harness bundles the broker itself. Exit code: the harness's (0 ok, 1 violations, 2 bad flags/error).
import { spawn } from 'node:child_process';
import { bundle } from '../../../../tools/scripts/bundle.mjs';

const cli = await bundle('apps/broker/test/crash/cli.ts', 'tmp/crash-test/cli.js');
const child = spawn(process.execPath, ['--enable-source-maps', cli, ...process.argv.slice(2)], { stdio: 'inherit' });
// The child kills its brokers on SIGINT/SIGTERM; a terminal's Ctrl-C reaches it directly as well.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
