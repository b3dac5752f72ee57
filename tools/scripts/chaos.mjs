// `npm run chaos -- [flags]`: bundles the chaos run (e2e/chaos/main.ts) and the broker with esbuild, then runs the
// run in a child Node process in the foreground (flags passed through, Ctrl-C forwarded). See e2e/chaos/main.ts.
import { bundle } from './bundle.mjs';
import { runForeground } from './foreground.mjs';

const [main, broker] = await Promise.all([bundle('e2e/chaos/main.ts', 'dist/chaos/main.js'), bundle('apps/broker/src/main.ts', 'dist/chaos/broker.js')]);
runForeground(main, ['--broker-main', broker, ...process.argv.slice(2)]);
