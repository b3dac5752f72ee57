// `npm run demo:traffic -- [--orders N/s] [--clicks N/s] [--decline-rate 0..1] [--failure-rate 0..1] [--duration S]`
// Drives the running demo (`npm run demo`) like a small shop would: orders at a steady rate, some for more than
// is in stock (cancelled), some declined by the payment gateway (cancelled, stock released), some hitting
// transient gateway failures (retried, then confirmed), and a click stream into analytics. Prints one live
// line: orders by outcome, emails sent, clicks accepted. Ctrl-C stops it and puts the gateway back. The gateway
// settings are an admin route: the token comes from ADMIN_TOKEN, else .data/admin-token (the demo writes it).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startClickStream } from './lib/click-stream.mjs';

const { values } = parseArgs({
  options: {
    orders: { type: 'string', default: '2' },
    clicks: { type: 'string', default: '20' },
    'decline-rate': { type: 'string', default: '0.1' },
    'failure-rate': { type: 'string', default: '0.2' },
    duration: { type: 'string', default: '0' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log(
    'usage: npm run demo:traffic -- [--orders per second (2)] [--clicks per second (20)] [--decline-rate 0..1 (0.1)] [--failure-rate 0..1 (0.2)] [--duration seconds (0 = until Ctrl-C)]',
  );
  process.exit(0);
}
const num = (name, min, max) => {
  const v = Number(values[name]);
  if (!Number.isFinite(v) || v < min || v > max) {
    console.error(`demo:traffic: --${name} must be a number between ${min} and ${max}`);
    process.exit(2);
  }
  return v;
};
const ordersPerSecond = num('orders', 0, 100);
const clicksPerSecond = num('clicks', 0, 5000);
const declineRate = num('decline-rate', 0, 1);
const failureRate = num('failure-rate', 0, 1);
const duration = num('duration', 0, 86_400);

// 127.0.0.1, not localhost: the demo listens on IPv4 loopback only, and localhost may resolve to ::1 first
const base = (name, port) =>
  process.env[`${name.toUpperCase()}_URL`] ?? `http://127.0.0.1:${process.env[`${name.toUpperCase()}_PORT`] ?? port}`;
const urls = {
  orders: base('orders', 3001),
  payments: base('payments', 3002),
  notifications: base('notifications', 3004),
  analytics: base('analytics', 3005),
};

const tokenFile = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '.data', 'admin-token');
function adminToken() {
  if (process.env.ADMIN_TOKEN) return process.env.ADMIN_TOKEN;
  try {
    return readFileSync(tokenFile, 'utf8').trim();
  } catch {
    console.error(
      `demo:traffic: no admin token for the payment gateway settings: set ADMIN_TOKEN or start the demo (it writes ${tokenFile})`,
    );
    process.exit(1);
  }
}
const admin = { authorization: `Bearer ${adminToken()}` };

async function json(method, url, body, headers = {}) {
  const res = await fetch(url, {
    method,
    headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = text;
  }
  if (res.status >= 400) throw new Error(`${method} ${url}: HTTP ${res.status} ${text.slice(0, 200)}`);
  return parsed;
}

// the demo must be up: one clear line otherwise
try {
  await Promise.all(
    Object.entries(urls).map(([name, url]) =>
      json('GET', `${url}/health`).catch(() => Promise.reject(new Error(`${name} is not answering at ${url}/health`))),
    ),
  );
} catch (err) {
  console.error(`demo:traffic: ${err.message}; start the demo first (npm run demo)`);
  process.exit(1);
}

let previousGateway;
try {
  previousGateway = await json('GET', `${urls.payments}/admin/gateway`, undefined, admin);
  await json('PUT', `${urls.payments}/admin/gateway`, { declineRate, failureRate }, admin);
} catch (err) {
  console.error(
    `demo:traffic: cannot change the payment gateway settings (${err.message}); is ADMIN_TOKEN or .data/admin-token the running demo's token?`,
  );
  process.exit(1);
}

const skus = Array.from({ length: 12 }, (_, i) => `SKU-${String(i + 1).padStart(3, '0')}`);
const names = ['ada', 'grace', 'alan', 'edsger', 'barbara', 'ken', 'margaret', 'linus', 'donald', 'frances'];
let placed = 0;
let placeFailures = 0;
const orderTimer =
  ordersPerSecond > 0 &&
  setInterval(async () => {
    const lines = 1 + Math.floor(Math.random() * 3);
    const chosen = [...skus].sort(() => Math.random() - 0.5).slice(0, lines);
    // about one order in ten asks for more than any shelf holds: cancelled as out of stock
    const items = chosen.map((sku) => ({
      sku,
      quantity: Math.random() < 0.1 ? 500 : 1 + Math.floor(Math.random() * 3),
    }));
    const customerEmail = `${names[Math.floor(Math.random() * names.length)]}@example.com`;
    try {
      await json('POST', `${urls.orders}/orders`, { customerEmail, items });
      placed++;
    } catch (err) {
      placeFailures++;
      if (placeFailures === 1 || placeFailures % 20 === 0) process.stderr.write(`\ndemo:traffic: ${err.message}\n`);
    }
  }, 1000 / ordersPerSecond);

const clicks = clicksPerSecond > 0 ? startClickStream({ url: urls.analytics, rate: clicksPerSecond }) : undefined;

const started = Date.now();
const counts = { CONFIRMED: 0, CANCELLED: 0, PENDING: 0 };
let emails = 0;
const progress = setInterval(async () => {
  try {
    const [confirmed, cancelled, pending, sent] = await Promise.all([
      json('GET', `${urls.orders}/orders?status=CONFIRMED&limit=1`),
      json('GET', `${urls.orders}/orders?status=CANCELLED&limit=1`),
      json('GET', `${urls.orders}/orders?status=PENDING&limit=1`),
      json('GET', `${urls.notifications}/notifications?limit=500`),
    ]);
    counts.CONFIRMED = confirmed.total;
    counts.CANCELLED = cancelled.total;
    counts.PENDING = pending.total;
    emails = sent.length;
  } catch {
    /* a service restarting: keep the last counts */
  }
  const secs = ((Date.now() - started) / 1000).toFixed(0);
  process.stdout.write(
    `\r${secs} s · orders placed ${placed} · confirmed ${counts.CONFIRMED} · cancelled ${counts.CANCELLED} · pending ${counts.PENDING} · emails ${emails}${emails >= 500 ? '+' : ''} · clicks ${clicks?.stats.accepted ?? 0}   `,
  );
}, 1000);

async function stop() {
  if (orderTimer) clearInterval(orderTimer);
  clicks?.stop();
  clearInterval(progress);
  await json(
    'PUT',
    `${urls.payments}/admin/gateway`,
    { declineRate: previousGateway.declineRate, failureRate: previousGateway.failureRate },
    admin,
  ).catch(() => undefined);
  process.stdout.write('\ndemo:traffic: stopped; the payment gateway is back to its previous settings\n');
  process.exit(0);
}
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
if (duration > 0) setTimeout(() => void stop(), duration * 1000);
