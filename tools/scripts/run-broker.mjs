// `npm run broker -- [flags]`: bundles the broker (well under a second with esbuild) and runs it in the
// foreground, passing the flags through and forwarding signals so Ctrl-C closes connections cleanly.
import { spawn } from 'node:child_process';
import { bundle } from './bundle.mjs';

const main = await bundle('apps/broker/src/main.ts', 'dist/apps/broker/main.js');
const child = spawn(process.execPath, ['--enable-source-maps', main, ...process.argv.slice(2)], { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
