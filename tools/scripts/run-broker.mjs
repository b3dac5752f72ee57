// `npm run broker -- [flags]`: bundles the broker (well under a second with esbuild) and runs it in the
// foreground, passing the flags through and forwarding signals so Ctrl-C closes connections cleanly.
import { bundle } from './bundle.mjs';
import { runForeground } from './foreground.mjs';

const main = await bundle('apps/broker/src/main.ts', 'dist/apps/broker/main.js');
runForeground(main, process.argv.slice(2));
