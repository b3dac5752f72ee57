// `npm run traffic:clicks -- [--rate N] [--duration S] [--visitors N] [--url http://localhost:3005]`
// Replays a synthetic click stream (see lib/click-stream.mjs) to analytics at the chosen rate (events per
// second) and prints one progress line.
import { parseArgs } from 'node:util';
import { startClickStream } from './lib/click-stream.mjs';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '50' },
    duration: { type: 'string', default: '60' },
    visitors: { type: 'string', default: '200' },
    // 127.0.0.1, not localhost: the demo listens on IPv4 loopback only, and localhost may resolve to ::1 first
    url: {
      type: 'string',
      default: process.env.ANALYTICS_URL ?? `http://127.0.0.1:${process.env.ANALYTICS_PORT ?? 3005}`,
    },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log(
    'usage: npm run traffic:clicks -- [--rate events/s (50)] [--duration seconds (60, 0 = until Ctrl-C)] [--visitors pool size (200)] [--url analytics base URL]',
  );
  process.exit(0);
}
const rate = Number(values.rate);
const duration = Number(values.duration);
const visitors = Number(values.visitors);
for (const [name, v, zeroOk] of [
  ['rate', rate, false],
  ['duration', duration, true],
  ['visitors', visitors, false],
]) {
  if (!Number.isFinite(v) || v < 0 || (!zeroOk && v === 0)) {
    console.error(`traffic:clicks: --${name} must be a positive number`);
    process.exit(2);
  }
}

const started = Date.now();
const stream = startClickStream({
  url: values.url,
  rate,
  visitors,
  onError: (err, failures) => {
    if (failures === 1 || failures % 20 === 0)
      process.stderr.write(`\ntraffic:clicks: ${err.message} (${values.url})\n`);
  },
});
const progress = setInterval(() => {
  const secs = (Date.now() - started) / 1000;
  const { accepted, rejected, failures } = stream.stats;
  process.stdout.write(
    `\r${secs.toFixed(0)} s: ${accepted} events accepted (${(accepted / Math.max(secs, 0.001)).toFixed(0)}/s), ${rejected} rejected, ${failures} failed requests   `,
  );
}, 500);
const stop = () => {
  stream.stop();
  clearInterval(progress);
  process.stdout.write('\n');
  process.exit(stream.stats.failures > 0 && stream.stats.accepted === 0 ? 1 : 0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
if (duration > 0) setTimeout(stop, duration * 1000);
