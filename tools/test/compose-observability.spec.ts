// The compose file's observability part as check:compose sees it (no Docker engine needed: docker-compose only
// parses and resolves the file), on a copy of the repository's compose files so the broken variants can be made:
// the checks pass on the files as committed and name each problem of a broken copy. And test:compose refuses an
// observability profile it does not know.
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

jest.setTimeout(120_000);

const ROOT = path.resolve(__dirname, '../..');
const APPS = ['broker', 'orders', 'payments', 'inventory', 'notifications', 'analytics', 'console'];

function run(script: string, args: string[], cwd = ROOT): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    // COMPOSE_PROFILES from the environment would replace the committed .env's, which the checks read
    const env = { ...process.env };
    delete env.COMPOSE_PROFILES;
    execFile(process.execPath, [script, ...args], { cwd, env }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` });
    });
  });
}

/** A repository of its own with what check:compose reads: the compose files, docker/, the script, each app's entry. */
function copyRepo(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'warren-compose-check-'));
  for (const f of ['docker-compose.yml', '.env', 'docker', 'tools/scripts/check-compose.mjs'])
    cpSync(path.join(ROOT, f), path.join(root, f), { recursive: true });
  for (const app of APPS) {
    mkdirSync(path.join(root, 'apps', app, 'src'), { recursive: true });
    writeFileSync(path.join(root, 'apps', app, 'src', 'main.ts'), '');
  }
  return root;
}

function edit(root: string, file: string, from: string | RegExp, to: string): void {
  const p = path.join(root, file);
  const text = readFileSync(p, 'utf8');
  const changed = text.replace(from, to);
  if (changed === text) throw new Error(`${file} has no ${from}`);
  writeFileSync(p, changed);
}

describe('check:compose: the observability profiles and tracing', () => {
  let root: string;
  beforeAll(() => {
    root = copyRepo();
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('passes the files as committed, with observability and metrics beside every broker profile and with tracing on', async () => {
    const { code, out } = await run(path.join(root, 'tools/scripts/check-compose.mjs'), [], root);
    expect([code, out]).toEqual([0, expect.stringContaining('check-compose: ok')]);
    for (const broker of ['bundled', 'rabbitmq', 'cluster']) {
      expect(out).toContain(`docker-compose.yml --profile ${broker} --profile observability`);
      expect(out).toContain(`docker-compose.yml --profile ${broker} --profile metrics`);
      expect(out).toContain(
        `docker-compose.yml + docker/observability/tracing.yml --profile ${broker} --profile observability`,
      );
    }
  });

  it('names every problem of a broken copy', async () => {
    edit(
      root,
      'docker-compose.yml',
      'org.warren.optional: "true" # needs a registry: no local stand-in\n    environment:\n      # anyone',
      'org.warren.other: "true"\n    environment:\n      # anyone',
    );
    edit(root, 'docker-compose.yml', 'image: prom/prometheus:v2.53.2', 'image: prom/prometheus:v9');
    edit(
      root,
      'docker-compose.yml',
      './docker/observability/grafana/dashboards:',
      './docker/observability/grafana/boards:',
    );
    edit(
      root,
      'docker-compose.yml',
      '  orders: &orders\n    profiles: ["bundled", "rabbitmq"]',
      '  orders: &orders\n    profiles: ["bundled", "rabbitmq", "metrics"]',
    );
    edit(
      root,
      'docker/observability/tracing.yml',
      'OTEL_EXPORTER_OTLP_PROTOCOL: http/json',
      'OTEL_EXPORTER_OTLP_PROTOCOL: grpc',
    );
    edit(root, 'docker/observability/prometheus.yml', 'names: [inventory]', 'names: [stock]');
    edit(root, 'docker-compose.yml', '    networks: { default: { aliases: [console] } }\n', '');
    const { code, out } = await run(path.join(root, 'tools/scripts/check-compose.mjs'), [], root);
    expect(code).toBe(1);
    const label = 'docker-compose.yml --profile bundled --profile observability';
    expect(out).toContain(
      `check-compose: ${label}: grafana has no stand-in image and is not labelled org.warren.optional=true`,
    );
    expect(out).toContain(
      `check-compose: ${label}: prometheus runs prom/prometheus:v9; docker/base-images/build.mjs stands in for prom/prometheus:v2.53.2, so without a registry it could not start`,
    );
    expect(out).toMatch(
      /check-compose: docker-compose\.yml --profile bundled --profile observability: grafana mounts \S+\/docker\/observability\/grafana\/boards, which does not exist/,
    );
    expect(out).toContain(
      "check-compose: docker-compose.yml + docker/observability/tracing.yml --profile bundled --profile observability: orders's OTEL_EXPORTER_OTLP_PROTOCOL is 'grpc'; the console accepts http/json",
    );
    expect(out).toContain(
      "check-compose: docker/observability/prometheus.yml scrapes 'stock', which is no service or network alias of docker-compose.yml",
    );
    expect(out).toContain(
      "check-compose: docker-compose.yml + docker/observability/tracing.yml --profile cluster --profile observability: orders-cluster sends its spans to 'console', which no running service answers to",
    );
    // orders in profile metrics: with the cluster, two services run orders
    expect(out).toContain(
      'check-compose: docker-compose.yml --profile cluster --profile metrics: 2 running services run orders; expected 1',
    );
  });
});

describe('test:compose: the observability option', () => {
  it('refuses a profile it does not know, before anything starts', async () => {
    const { code, out } = await run(path.join(ROOT, 'tools/scripts/compose-smoke.mjs'), ['--observability', 'tracing']);
    expect([code, out.trim()]).toEqual([2, "--observability must be metrics or observability, got 'tracing'"]);
  });
});
