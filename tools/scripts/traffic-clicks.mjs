// `npm run traffic:clicks -- [--rate N] [--duration S] [--visitors N] [--url http://localhost:3005]`
// Replays a synthetic click stream to analytics' POST /collect: visitors arrive, browse a few pages (popular
// pages far more often, as real traffic does), click now and then, and leave; a fraction come back after a
// pause. Sends in batches every 250 ms at the chosen rate (events per second) and prints one progress line.
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '50' },
    duration: { type: 'string', default: '60' },
    visitors: { type: 'string', default: '200' },
    url: { type: 'string', default: process.env.ANALYTICS_URL ?? `http://localhost:${process.env.ANALYTICS_PORT ?? 3005}` },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log('usage: npm run traffic:clicks -- [--rate events/s (50)] [--duration seconds (60, 0 = until Ctrl-C)] [--visitors pool size (200)] [--url analytics base URL]');
  process.exit(0);
}
const rate = Number(values.rate);
const duration = Number(values.duration);
const poolSize = Number(values.visitors);
for (const [name, v] of [['rate', rate], ['duration', duration], ['visitors', poolSize]]) {
  if (!Number.isFinite(v) || v < 0 || (name !== 'duration' && v === 0)) {
    console.error(`traffic:clicks: --${name} must be a positive number`);
    process.exit(2);
  }
}

const site = 'https://shop.example';
const pages = ['/', '/products', '/products/lamp', '/products/chair', '/products/desk', '/cart', '/checkout', '/about', '/blog/queues', '/blog/sagas', '/help'];
// Zipf-like weights: the n-th page is visited about 1/n as often as the first
const weights = pages.map((_, i) => 1 / (i + 1));
const total = weights.reduce((a, b) => a + b, 0);
const pickPage = () => {
  let r = Math.random() * total;
  for (let i = 0; i < pages.length; i++) if ((r -= weights[i]) <= 0) return pages[i];
  return pages[0];
};
const visitors = Array.from({ length: poolSize }, (_, i) => ({ id: `visitor-${i + 1}`, page: '/' }));
const pickVisitor = () => visitors[Math.floor(Math.random() ** 2 * visitors.length)]; // some visitors are far busier

function nextEvent() {
  const v = pickVisitor();
  if (Math.random() < 0.25) return { type: 'click', visitorId: v.id, url: site + v.page, element: Math.random() < 0.5 ? 'add-to-cart' : 'nav', at: new Date().toISOString() };
  const referrer = site + v.page;
  v.page = pickPage();
  return { type: 'page_view', visitorId: v.id, url: site + v.page, referrer, at: new Date().toISOString() };
}

let sent = 0;
let rejected = 0;
let failures = 0;
let carry = 0;
const started = Date.now();
const tick = async () => {
  carry += rate / 4;
  const n = Math.floor(carry);
  carry -= n;
  if (n === 0) return;
  const events = Array.from({ length: n }, nextEvent);
  try {
    const res = await fetch(`${values.url}/collect`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ events }) });
    if (res.status !== 202) throw new Error(`HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`);
    const body = await res.json();
    sent += body.accepted;
    rejected += body.rejected.length;
  } catch (err) {
    failures++;
    if (failures === 1 || failures % 20 === 0) process.stderr.write(`\ntraffic:clicks: ${err.message} (${values.url})\n`);
  }
  const secs = (Date.now() - started) / 1000;
  process.stdout.write(`\r${secs.toFixed(0)} s: ${sent} events accepted (${(sent / Math.max(secs, 0.001)).toFixed(0)}/s), ${rejected} rejected, ${failures} failed requests   `);
};
const timer = setInterval(() => void tick(), 250);
const stop = () => {
  clearInterval(timer);
  process.stdout.write('\n');
  process.exit(failures > 0 && sent === 0 ? 1 : 0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
if (duration > 0) setTimeout(stop, duration * 1000);
