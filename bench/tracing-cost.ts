// `npm run bench:tracing`: what tracing costs the order saga. The services run as processes (bundled as the
// demo runs them) on the bundled broker, twice per round: with tracing off (no OTEL_* variable: the SDK is never
// started) and on (every span exported as OTLP/JSON, batched every second as in the demo, to a receiver in this
// process that reads the spans only after the run, as a collector elsewhere would cost the services nothing). Each run
// places the same orders (quantity 1 of SKUs with stock enough for all) from `--concurrency` HTTP clients, and
// measures from the first POST until the orders service counts every order settled (its /metrics), so the figure
// is the saga's throughput: orders, inventory, payments and notifications (emails at up to 1000/s) all working.
// Prints orders/s and CPU ms per order for every process, and the ratio on/off.
//   --orders N (600) --concurrency C (16) --rounds R (2) --cpu-prof DIR (each service writes a V8 CPU profile there,
//   <service>-tracing-<on|off>.cpuprofile, the last round's, to see where the time goes)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { OtlpReceiver } from '../tools/testing/otlp-receiver';
import { parsePrometheusText } from '../tools/testing/prometheus';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the bench runs the services exactly as the e2e suites do
import { http, Stack, type ServiceName, type ServiceProcess } from '../e2e/support/stack';
import { startBroker } from './support/broker-process';
import { processCpuSeconds } from './support/proc';

const { values } = parseArgs({
  options: {
    orders: { type: 'string', default: '600' },
    concurrency: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '2' },
    'broker-main': { type: 'string' },
    'cpu-prof': { type: 'string' },
  },
});
const ORDERS = Number(values.orders);
const CONCURRENCY = Number(values.concurrency);
const ROUNDS = Number(values.rounds);
// the SKUs with the most stock, quantity 1 each: 860 units in all, so up to 860 orders confirm
const SKUS = ['SKU-004', 'SKU-008', 'SKU-001', 'SKU-010', 'SKU-003'];
const SERVICES: ServiceName[] = ['orders', 'inventory', 'payments', 'notifications'];

interface RunResult {
  tracing: boolean;
  ordersPerSecond: number;
  cpuMsPerOrder: Record<string, number>;
  spans: number;
}

async function settledCount(ordersUrl: string): Promise<number> {
  const text = await (await fetch(`${ordersUrl}/metrics`)).text();
  let n = 0;
  for (const family of parsePrometheusText(text).values())
    for (const s of family.samples) if (s.name === 'warren_saga_outcomes_total') n += s.value;
  return n;
}

async function run(brokerUrl: string, tracing: boolean): Promise<RunResult> {
  const receiver = tracing ? await OtlpReceiver.start() : undefined;
  const dir = values['cpu-prof'];
  const nodeArgs = dir
    ? Object.fromEntries(
        SERVICES.map((s) => [
          s,
          [
            '--cpu-prof',
            `--cpu-prof-dir=${path.resolve(dir)}`,
            `--cpu-prof-name=${s}-tracing-${tracing ? 'on' : 'off'}.cpuprofile`,
          ],
        ]),
      )
    : {};
  const stack = new Stack(
    brokerUrl,
    { LOG_LEVEL: 'warn', EMAIL_RATE_PER_SECOND: '1000', ...(receiver?.envWith(1000) ?? {}) },
    { services: SERVICES, nodeArgs },
  );
  try {
    await stack.start();
    const pids = Object.fromEntries(SERVICES.map((s) => [s, (stack.services[s] as ServiceProcess).pid!]));
    const cpuBefore = Object.fromEntries(Object.entries(pids).map(([s, pid]) => [s, processCpuSeconds(pid) ?? 0]));
    const started = performance.now();
    let next = 0;
    const client = async () => {
      while (next < ORDERS) {
        const i = next++;
        const res = await http('POST', `${stack.url('orders')}/orders`, {
          customerEmail: `bench-${i}@example.com`,
          items: [{ sku: SKUS[i % SKUS.length], quantity: 1 }],
        });
        if (res.status !== 201) throw new Error(`POST /orders answered ${res.status}: ${JSON.stringify(res.body)}`);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, client));
    for (;;) {
      if ((await settledCount(stack.url('orders'))) >= ORDERS) break;
      await new Promise((r) => setTimeout(r, 100)); // a poll interval, not synchronisation: the count decides
    }
    const seconds = (performance.now() - started) / 1000;
    const cpuMsPerOrder = Object.fromEntries(
      Object.entries(pids).map(([s, pid]) => [s, (((processCpuSeconds(pid) ?? 0) - cpuBefore[s]) * 1000) / ORDERS]),
    );
    if (receiver) {
      // where the spans come from, per order: what tracing costs is mostly how many spans there are
      const by = new Map<string, number>();
      for (const s of receiver.spans()) by.set(`${s.service} ${s.scope}`, (by.get(`${s.service} ${s.scope}`) ?? 0) + 1);
      console.log(
        [...by]
          .sort((a, b) => b[1] - a[1])
          .map(([k, n]) => `  ${(n / ORDERS).toFixed(1)} ${k}`)
          .join('\n'),
      );
    }
    return { tracing, ordersPerSecond: ORDERS / seconds, cpuMsPerOrder, spans: receiver ? receiver.spans().length : 0 };
  } finally {
    await stack.teardown();
    await receiver?.close();
  }
}

async function main(): Promise<void> {
  const brokerMain = values['broker-main'];
  if (!brokerMain)
    throw new Error('run through npm run bench:tracing (it bundles the broker and passes --broker-main)');
  const dataDir = mkdtempSync(path.join(tmpdir(), 'warren-bench-tracing-'));
  const broker = await startBroker(brokerMain, dataDir);
  const results: RunResult[] = [];
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      for (const tracing of [false, true]) {
        const r = await run(broker.url, tracing);
        results.push(r);
        const cpu = Object.entries(r.cpuMsPerOrder)
          .map(([s, ms]) => `${s} ${ms.toFixed(2)}`)
          .join(', ');
        console.log(
          `round ${round}, tracing ${tracing ? 'on ' : 'off'}: ${r.ordersPerSecond.toFixed(1)} orders/s; CPU ms per order: ${cpu}${tracing ? `; ${r.spans} spans (${(r.spans / ORDERS).toFixed(1)} per order)` : ''}`,
        );
      }
    }
  } finally {
    await broker.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  const mean = (on: boolean, f: (r: RunResult) => number) => {
    const rs = results.filter((r) => r.tracing === on);
    return rs.reduce((a, r) => a + f(r), 0) / rs.length;
  };
  const off = mean(false, (r) => r.ordersPerSecond);
  const on = mean(true, (r) => r.ordersPerSecond);
  const cpuOff = mean(false, (r) => Object.values(r.cpuMsPerOrder).reduce((a, b) => a + b, 0));
  const cpuOn = mean(true, (r) => Object.values(r.cpuMsPerOrder).reduce((a, b) => a + b, 0));
  console.log(`\n${ORDERS} orders × ${ROUNDS} rounds, ${CONCURRENCY} clients`);
  console.log(`| tracing | orders/s | services' CPU ms per order |\n|---|---|---|`);
  console.log(`| off | ${off.toFixed(1)} | ${cpuOff.toFixed(2)} |`);
  console.log(`| on | ${on.toFixed(1)} | ${cpuOn.toFixed(2)} |`);
  console.log(
    `throughput with tracing on: ${((on / off) * 100).toFixed(1)} % of off (cost ${((1 - on / off) * 100).toFixed(1)} %); CPU per order × ${(cpuOn / cpuOff).toFixed(2)}`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
