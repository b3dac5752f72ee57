// `npm run perf -- ...` and `npm run bench:broker -- ...`: bundle with esbuild (tools/scripts/bundle.mjs), then
// run the bundle in a child Node process, passing the flags through and forwarding Ctrl-C.
//   node bench/run.mjs perf [flags]          the load tool (bench/perf/main.ts)
//   node bench/run.mjs broker-bench [flags]  the side-by-side bench (bench/broker-bench.ts); it also gets a
//                                            fresh bundle of the broker and of the perf tool
//   node bench/run.mjs tracing-cost [flags]  what tracing costs the order saga (bench/tracing-cost.ts)
//   node bench/run.mjs platform [flags]      the whole platform under open-loop HTTP load (bench/platform/main.ts)
import { bundle } from '../tools/scripts/bundle.mjs';
import { runForeground } from '../tools/scripts/foreground.mjs';

const [what, ...args] = process.argv.slice(2);
let main;
let extra = [];
if (what === 'perf') {
  main = await bundle('bench/perf/main.ts', 'dist/bench/perf/main.js');
} else if (what === 'broker-bench') {
  // the bench's own copy of the broker bundle, so a concurrent `npm run broker` or build cannot swap it mid-run
  const [bench, broker, perf] = await Promise.all([
    bundle('bench/broker-bench.ts', 'dist/bench/broker-bench.js'),
    bundle('apps/broker/src/main.ts', 'dist/bench/broker/main.js'),
    bundle('bench/perf/main.ts', 'dist/bench/perf/main.js'),
  ]);
  main = bench;
  extra = ['--broker-main', broker, '--perf-main', perf];
} else if (what === 'tracing-cost') {
  const [bench, broker] = await Promise.all([
    bundle('bench/tracing-cost.ts', 'dist/bench/tracing-cost.js'),
    bundle('apps/broker/src/main.ts', 'dist/bench/broker/main.js'),
  ]);
  main = bench;
  extra = ['--broker-main', broker];
} else if (what === 'platform') {
  const [bench, broker] = await Promise.all([
    bundle('bench/platform/main.ts', 'dist/bench/platform.js'),
    bundle('apps/broker/src/main.ts', 'dist/bench/broker/main.js'),
  ]);
  main = bench;
  extra = ['--broker-main', broker];
} else {
  console.error('usage: node bench/run.mjs <perf|broker-bench|tracing-cost|platform> [flags]');
  process.exit(2);
}

runForeground(main, [...extra, ...args]);
