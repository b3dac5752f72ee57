// The observability profile's Prometheus config and Grafana dashboard, proven against a real Prometheus (Debian's
// `prometheus` package: the server and promtool on PATH) without Grafana's image: the config
// (docker/observability/prometheus.yml) with its DNS discovery swapped for the local addresses of `npm run demo`
// (the bundled broker and every service as processes), traffic that settles orders both ways, sends emails and
// parks a message, then EVERY query of docker/observability/grafana/dashboards/warren.json through Prometheus's
// HTTP API: each must be valid and return data, so the dashboard cannot point at a metric nobody exposes. promtool
// checks the config and lints a scrape of every target.
import * as amqp from 'amqplib';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startDemo, type RunningDemo } from '../testing/demo';
import { eventually } from '../testing/eventually';
import { freePort } from '../testing/ports';
import { parsePrometheusText } from '../testing/prometheus';

jest.setTimeout(300_000);

const ROOT = path.resolve(__dirname, '../..');
const CONFIG = path.join(ROOT, 'docker/observability/prometheus.yml');
const DASHBOARD = path.join(ROOT, 'docker/observability/grafana/dashboards/warren.json');
const DATASOURCE = path.join(ROOT, 'docker/observability/grafana/provisioning/datasources/prometheus.yml');

// A counter the OpenTelemetry SDK exports only once something was counted, and that this test cannot make happen
// through public interfaces: a failed email needs an SMTP server that refuses (the demo's capture accepts every
// message). Its query must still be valid PromQL; every other query must return data.
const ONLY_AFTER_A_FAILURE = new Set(['warren_emails_failed_total']);

/** The absolute path of `cmd` on PATH, or undefined. */
function onPath(cmd: string, searchPath = process.env.PATH ?? ''): string | undefined {
  for (const dir of searchPath.split(path.delimiter)) {
    const candidate = path.join(dir, cmd);
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

function requireBinary(cmd: string, searchPath?: string): string {
  const found = onPath(cmd, searchPath);
  if (!found)
    throw new Error(
      `${cmd} is not on PATH: this test runs the real Prometheus server and promtool (Debian: apt-get install prometheus; .ci/run installs it)`,
    );
  return found;
}

interface DashboardQuery {
  panel: string;
  refId: string;
  expr: string;
  datasource?: { type?: string; uid?: string };
}

/** Every query of every panel, rows' collapsed panels included. */
function dashboardQueries(dashboard: { panels?: unknown[] }): DashboardQuery[] {
  const out: DashboardQuery[] = [];
  type Panel = {
    title?: string;
    panels?: Panel[];
    datasource?: DashboardQuery['datasource'];
    targets?: Array<{ refId: string; expr?: string; datasource?: DashboardQuery['datasource'] }>;
  };
  const walk = (panels: Panel[]) => {
    for (const p of panels) {
      for (const t of p.targets ?? [])
        out.push({
          panel: p.title ?? '(untitled)',
          refId: t.refId,
          expr: t.expr ?? '',
          datasource: t.datasource ?? p.datasource,
        });
      walk(p.panels ?? []);
    }
  };
  walk((dashboard.panels ?? []) as Panel[]);
  return out;
}

/** Grafana's built-in interval variables, as Grafana would fill them for a short range; any other variable is an error. */
function toPromql(expr: string): string {
  const filled = expr.replace(/\$__rate_interval|\$__interval|\$__range/g, '1m');
  const left = /\$\w+|\$\{[^}]+\}|\[\[\w+\]\]/.exec(filled);
  if (left) throw new Error(`'${expr}' uses the template variable ${left[0]}, which the dashboard does not define`);
  return filled;
}

/**
 * docker/observability/prometheus.yml with each job's DNS discovery (`names: [...]`, type A, port) replaced by
 * the static addresses `targets` gives each name; a name given null has no counterpart here (a cluster node) and
 * is left out. A name the map does not know, or discovery in another form, is an error: the rewrite must cover
 * the whole file, or the test would prove a different config.
 */
function localConfig(text: string, targets: Record<string, string | null>, scrapeInterval = '1s'): string {
  const block = /dns_sd_configs:\n(\s+)- names: \[([^\]]*)\]\n\s+type: A\n\s+port: (\d+)\n/g;
  let out = text.replace(block, (_, indent: string, names: string) => {
    const addresses = names.split(',').map((n) => {
      const name = n.trim();
      if (!(name in targets))
        throw new Error(`prometheus.yml discovers '${name}', which the test maps to no local address`);
      return targets[name];
    });
    const listed = addresses.filter((a): a is string => a !== null).map((a) => `'${a}'`);
    return `static_configs:\n${indent}- targets: [${listed.join(', ')}]\n`;
  });
  if (/dns_sd_configs|_sd_configs/.test(out))
    throw new Error(
      'prometheus.yml discovers targets in a form the test does not rewrite (expected dns_sd_configs with names, type A and port)',
    );
  out = out.replace(/^(\s*)(scrape_interval|evaluation_interval): \S+/gm, `$1$2: ${scrapeInterval}`);
  return out;
}

interface QueryAnswer {
  status: string;
  error?: string;
  data?: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
}

interface ActiveTarget {
  labels: { job: string; instance: string };
  health: string;
  lastError: string;
}

function promtool(args: string[], input?: string): { code: number | null; out: string } {
  const r = spawnSync(requireBinary('promtool'), args, { input, encoding: 'utf8' });
  return { code: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
}

describe('the observability config, read as Prometheus and Grafana read it', () => {
  it('finds prometheus and promtool on PATH, and says what to install when they are not', () => {
    expect(requireBinary('prometheus')).toMatch(/prometheus$/);
    expect(requireBinary('promtool')).toMatch(/promtool$/);
    const empty = mkdtempSync(path.join(tmpdir(), 'warren-empty-path-'));
    try {
      expect(() => requireBinary('prometheus', empty)).toThrow(
        'prometheus is not on PATH: this test runs the real Prometheus server and promtool (Debian: apt-get install prometheus; .ci/run installs it)',
      );
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('is a valid Prometheus config (promtool check config)', () => {
    const { code, out } = promtool(['check', 'config', CONFIG]);
    expect([code, out]).toEqual([0, expect.stringContaining('SUCCESS')]);
  });

  it("queries only the provisioned Prometheus data source, with Grafana's built-in variables only", () => {
    const uid = /^\s*uid:\s*(\S+)/m.exec(readFileSync(DATASOURCE, 'utf8'))?.[1];
    const queries = dashboardQueries(JSON.parse(readFileSync(DASHBOARD, 'utf8')));
    expect(queries.length).toBeGreaterThan(20);
    for (const q of queries) {
      expect([q.panel, q.refId, q.datasource]).toEqual([q.panel, q.refId, { type: 'prometheus', uid }]);
      expect(() => toPromql(q.expr)).not.toThrow();
    }
    expect(() => toPromql('rate(x[$window])')).toThrow(
      'uses the template variable $window, which the dashboard does not define',
    );
  });

  it('rewrites every discovery block for local targets, and refuses a name it cannot place', () => {
    const text = readFileSync(CONFIG, 'utf8');
    expect(() => localConfig(text, {})).toThrow(/discovers '.+', which the test maps to no local address/);
    expect(() =>
      localConfig('scrape_configs:\n  - job_name: x\n    file_sd_configs:\n      - files: [a.json]\n', {}),
    ).toThrow('a form the test does not rewrite');
  });
});

describe('the Grafana dashboard against a real Prometheus scraping `npm run demo`', () => {
  let demo: RunningDemo;
  let prometheus: ChildProcess | undefined;
  let prometheusOut = '';
  let dir = '';
  let api = '';
  let targets: Record<string, string | null> = {};

  const query = async (promql: string): Promise<QueryAnswer> => {
    const res = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(promql)}`);
    return (await res.json()) as QueryAnswer;
  };
  const activeTargets = async (): Promise<ActiveTarget[]> =>
    ((await (await fetch(`${api}/api/v1/targets?state=active`)).json()) as { data: { activeTargets: ActiveTarget[] } })
      .data.activeTargets;

  beforeAll(async () => {
    const server = requireBinary('prometheus');
    requireBinary('promtool');
    demo = await startDemo();
    const local = (port: keyof RunningDemo['ports']) => `127.0.0.1:${demo.ports[port]}`;
    // `amqp` is the broker that runs (here the bundled one); the cluster's nodes and second payments do not exist here
    targets = {
      amqp: local('PROMETHEUS_PORT'),
      'rabbitmq-1': null,
      'rabbitmq-2': null,
      'rabbitmq-3': null,
      orders: local('ORDERS_PORT'),
      payments: local('PAYMENTS_PORT'),
      'payments-cluster-2': null,
      inventory: local('INVENTORY_PORT'),
      notifications: local('NOTIFICATIONS_PORT'),
      analytics: local('ANALYTICS_PORT'),
    };
    dir = mkdtempSync(path.join(tmpdir(), 'warren-prometheus-'));
    const config = path.join(dir, 'prometheus.yml');
    writeFileSync(config, localConfig(readFileSync(CONFIG, 'utf8'), targets));
    const checked = promtool(['check', 'config', config]);
    expect([checked.code, checked.out]).toEqual([0, expect.stringContaining('SUCCESS')]);
    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    prometheus = spawn(
      server,
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    prometheus.stdout!.on('data', (d) => (prometheusOut += d));
    prometheus.stderr!.on('data', (d) => (prometheusOut += d));
    const exited = new Promise<never>((_, reject) =>
      prometheus!.once('exit', (code) =>
        reject(new Error(`prometheus exited (${code}) before it was ready:\n${prometheusOut}`)),
      ),
    );
    exited.catch(() => undefined);
    await Promise.race([
      exited,
      eventually(
        'Prometheus to be ready',
        async () => ((await fetch(`${api}/-/ready`)).ok ? true : undefined),
        30_000,
        200,
      ),
    ]);
  });

  afterAll(async () => {
    if (prometheus && prometheus.exitCode === null && prometheus.signalCode === null) {
      const gone = new Promise((r) => prometheus!.once('exit', r));
      prometheus.kill('SIGTERM');
      await gone;
    }
    await demo?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('scrapes every target of the config, each one up', async () => {
    // the broker is scraped twice (its totals and its per-queue series), every other address once
    const expected = Object.values(targets).filter((t) => t !== null).length + 1;
    const active = await eventually(
      'every target scraped and up',
      async () => {
        const list = await activeTargets();
        return list.length === expected && list.every((t) => t.health === 'up') ? list : undefined;
      },
      60_000,
      500,
    ).catch(async (err: Error) => {
      throw new Error(
        `${err.message}; targets: ${JSON.stringify((await activeTargets()).map((t) => [t.labels, t.health, t.lastError]))}`,
      );
    });
    expect(active.map((t) => t.labels.job).sort()).toEqual([
      'analytics',
      'broker',
      'broker-per-object',
      'inventory',
      'notifications',
      'orders',
      'payments',
    ]);
  });

  it('lints a scrape of every target with promtool check metrics: Prometheus text, no parse error, no lint problem', async () => {
    const scrapes: Array<[string, string]> = [
      ['broker /metrics', `http://${targets.amqp}/metrics`],
      ['broker /metrics/per-object', `http://${targets.amqp}/metrics/per-object`],
      ...(['orders', 'payments', 'inventory', 'notifications', 'analytics'] as const).map((s): [string, string] => [
        s,
        `http://${targets[s]}/metrics`,
      ]),
    ];
    for (const [what, url] of scrapes) {
      const res = await fetch(url);
      const text = await res.text();
      expect([what, res.status, res.headers.get('content-type')]).toEqual([
        what,
        200,
        expect.stringContaining('text/plain'),
      ]);
      expect([what, parsePrometheusText(text).size > 0]).toEqual([what, true]);
      const { code, out } = promtool(['check', 'metrics'], text);
      expect([what, code, out]).toEqual([what, 0, '']);
    }
  });

  it('answers every query of the dashboard with data once there has been traffic', async () => {
    // two orders (one confirmed, one cancelled for lack of stock: both saga outcomes, both kinds of email), clicks,
    // a message no handler knows in notifications' queue (failed, dead-lettered, a message in a DLQ), and a third
    // order while the simulated payment gateway fails every charge (a retry)
    const place = async (customerEmail: string, quantity: number) => {
      const res = await fetch(`${demo.url('ORDERS_PORT')}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ customerEmail, items: [{ sku: 'SKU-002', quantity }] }),
      });
      expect(res.status).toBe(201);
      return ((await res.json()) as { id: string }).id;
    };
    const ids = [await place('grafana-ok@example.com', 1), await place('grafana-no@example.com', 1000)];
    const settled = await Promise.all(
      ids.map((id) =>
        eventually(
          `order ${id} to settle`,
          async () => {
            const o = (await (await fetch(`${demo.url('ORDERS_PORT')}/orders/${id}`)).json()) as { status: string };
            return o.status !== 'PENDING' ? o.status : undefined;
          },
          60_000,
          200,
        ),
      ),
    );
    expect(settled).toEqual(['CONFIRMED', 'CANCELLED']);
    const collect = await fetch(`${demo.url('ANALYTICS_PORT')}/collect`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ events: [{ type: 'click', visitorId: 'grafana', url: 'https://shop.example/grafana' }] }),
    });
    expect(collect.status).toBe(202);
    const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${demo.ports.BROKER_PORT}`);
    try {
      const ch = await conn.createConfirmChannel();
      ch.sendToQueue(`${demo.namespace}.notifications.order-events`, Buffer.from('{}'), {
        type: 'observability.test.unknown',
        messageId: randomUUID(),
        contentType: 'application/json',
      });
      await ch.waitForConfirms();
    } finally {
      await conn.close();
    }

    const gateway = (failureRate: number) =>
      fetch(`${demo.url('PAYMENTS_PORT')}/admin/gateway`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${demo.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ failureRate }),
      });
    expect((await gateway(1)).status).toBe(200);
    try {
      await place('grafana-retried@example.com', 1);
      await eventually(
        'payments to retry a charge',
        async () => {
          const families = parsePrometheusText(await (await fetch(`${demo.url('PAYMENTS_PORT')}/metrics`)).text());
          const retried =
            families.get('warren_messaging_retried_messages_total')?.samples.reduce((sum, s) => sum + s.value, 0) ?? 0;
          return retried > 0 ? true : undefined;
        },
        30_000,
        200,
      );
    } finally {
      expect((await gateway(0)).status).toBe(200);
    }

    const queries = dashboardQueries(JSON.parse(readFileSync(DASHBOARD, 'utf8'))).map((q) => ({
      ...q,
      promql: toPromql(q.expr),
    }));
    const mayBeEmpty = (promql: string) => [...ONLY_AFTER_A_FAILURE].some((name) => promql.includes(name));
    const verdicts = async () => {
      const out: string[] = [];
      for (const q of queries) {
        const r = await query(q.promql);
        if (r.status !== 'success') out.push(`${q.panel} ${q.refId}: invalid (${r.error}): ${q.promql}`);
        else if (!r.data!.result.length && !mayBeEmpty(q.promql))
          out.push(`${q.panel} ${q.refId}: no data: ${q.promql}`);
      }
      return out;
    };
    // rates need two scrapes after a series first appears; the last verdicts name every query still failing
    let last: string[] = [];
    await eventually(
      'every dashboard query to return data',
      async () => ((last = await verdicts()).length === 0 ? true : undefined),
      60_000,
      1000,
    ).catch(() => undefined);
    expect(last).toEqual([]);
    // the parked message is in its DLQ on the DLQ panel
    const dlq = await query(
      `sum by (queue) (rabbitmq_queue_messages{job="broker-per-object", queue="${demo.namespace}.notifications.order-events.dlq"})`,
    );
    expect(dlq.data!.result.map((s) => Number(s.value[1]))).toEqual([1]);
  });

  it('tells an empty query from one with data (a metric nobody exposes yields none), and an invalid one from both', async () => {
    const missing = await query('sum by (job) (rate(warren_no_such_metric_total[1m]))');
    expect([missing.status, missing.data!.result]).toEqual(['success', []]);
    const invalid = await query('sum by (job) (rate(warren_outbox_backlog[1m])');
    expect(invalid.status).toBe('error');
  });
});
