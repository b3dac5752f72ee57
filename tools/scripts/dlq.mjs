// `npm run dlq -- <command> <queue> [options]`: bundles the DLQ command line of libs/messaging (esbuild, well
// under a second) and runs it in the foreground, arguments passed through, exit code its own.
// `npm run -s dlq -- list <queue> --json` keeps npm's banner out of the output, for scripts.
import { bundle } from './bundle.mjs';
import { runForeground } from './foreground.mjs';

const cli = await bundle('libs/messaging/src/dlq/dlq-cli.ts', 'dist/tools/dlq/dlq-cli.js');
runForeground(cli, process.argv.slice(2));
