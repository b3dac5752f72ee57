// `npm run crash-test -- [flags]`: bundles the crash-safety harness (cli.ts) with tools/scripts/bundle.mjs
// under tmp/ (so amqplib resolves from the workspace's node_modules) and runs it, passing the flags through.
// The harness bundles the broker itself. Exit code: the harness's (0 ok, 1 violations, 2 bad flags/error).
import { bundle } from '../../../../tools/scripts/bundle.mjs';
import { runForeground } from '../../../../tools/scripts/foreground.mjs';

const cli = await bundle('apps/broker/test/crash/cli.ts', 'tmp/crash-test/cli.js');
// The child kills its brokers on SIGINT/SIGTERM; a terminal's Ctrl-C reaches it directly as well.
runForeground(cli, process.argv.slice(2));
