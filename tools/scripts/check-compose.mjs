// `npm run check:compose`: checks docker-compose.yml without a Docker engine (CI has none).
// 1. `docker-compose config -q`, plain, with `--profile rabbitmq` and with `--profile cluster`: the file is valid
//    and every variable resolves (Debian's docker-compose 1.29, or the `docker compose` plugin when that is what
//    is installed).
// 2. Every service with `build:` names a Dockerfile that exists, a `target` stage that Dockerfile defines, and
//    an app that exists (build argument APP -> apps/<APP>/src/main.ts).
// 3. The broker swap (see the top of docker-compose.yml): with the default profiles and with `rabbitmq`,
//    exactly one running service answers to the network alias `amqp`, and each app runs once.
// 4. Profile `cluster`: no service answers to `amqp`; three RabbitMQ nodes with distinct hostnames, one seed
//    that is one of them, one cookie; every app once (payments twice), each with AMQP_URL listing every node
//    and MESSAGING_QUEUE_TYPE=quorum, and depending on every node being healthy.
// 5. Profile `observability` beside each broker profile (and `metrics`, Prometheus alone): Prometheus, Grafana and
//    Jaeger run, Prometheus's image is the one `npm run docker:base-images` stands in for, Grafana and Jaeger are
//    labelled optional (no stand-in), every file a service mounts exists, and every host name
//    docker/observability/prometheus.yml discovers is a service or alias of the file.
// 6. Tracing: off without docker/observability/tracing.yml (no service has an OTLP endpoint), and with it every
//    service sends OTLP/HTTP JSON to the console, which forwards to Jaeger.
// Prints one line per problem and exits 1 when there is any. Built-ins only.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const problems = [];
const problem = (line) => problems.push(line);

/** The compose command available here: Debian's docker-compose (v1) or the docker compose plugin (v2). */
function findCompose() {
  for (const cmd of [['docker-compose'], ['docker', 'compose']]) {
    const r = spawnSync(cmd[0], [...cmd.slice(1), 'version'], { encoding: 'utf8' });
    if (r.status === 0) return cmd;
  }
  return undefined;
}

function run(compose, args) {
  const r = spawnSync(compose[0], [...compose.slice(1), ...args], { cwd: root, encoding: 'utf8' });
  if (r.error) return { ok: false, out: '', err: r.error.message };
  return { ok: r.status === 0, out: r.stdout, err: (r.stderr || r.stdout).trim() };
}

/**
 * Block mappings of YAML as `docker-compose config` prints it (normalised: block style, no anchors).
 * Sequences become arrays of scalars; good enough to read services, build, networks and profiles.
 */
function parseYaml(text) {
  const top = {};
  const stack = [{ indent: -1, node: top }];
  let lastKey;
  for (const raw of text.split('\n')) {
    if (!raw.trim() || raw.trim().startsWith('#')) continue;
    const indent = raw.length - raw.trimStart().length;
    const line = raw.trim();
    const isItem = line.startsWith('- ') || line === '-';
    // a sequence item may sit at the same indent as its key (v1 style) or deeper
    while (stack.length > 1 && (indent < stack.at(-1).indent || (indent === stack.at(-1).indent && !isItem)))
      stack.pop();
    const parent = stack.at(-1);
    if (isItem) {
      const owner = parent.pendingSeqOwner;
      if (owner && lastKey !== undefined) {
        if (!Array.isArray(owner[lastKey])) owner[lastKey] = [];
        owner[lastKey].push(scalar(line.slice(1).trim()));
      }
      continue;
    }
    const m = /^("[^"]*"|'[^']*'|[^:]+):(?:\s+(.*))?$/.exec(line);
    if (!m) continue;
    const key = scalar(m[1]);
    const container = parent.node;
    if (m[2] === undefined || m[2] === '') {
      container[key] = {};
      lastKey = key;
      stack.push({ indent, node: container[key], pendingSeqOwner: container });
    } else {
      container[key] = scalar(m[2]);
    }
  }
  return top;
}

function scalar(s) {
  if ((s.startsWith("'") && s.endsWith("'")) || (s.startsWith('"') && s.endsWith('"'))) return s.slice(1, -1);
  if (s === '{}') return {};
  if (s === '[]') return [];
  return s;
}

function asList(v) {
  if (Array.isArray(v)) return v;
  if (v && typeof v === 'object') return Object.keys(v);
  return v === undefined ? [] : [v];
}

/** COMPOSE_PROFILES as Compose sees it without --profile: the environment, else the project's .env file. */
function defaultProfiles() {
  if (process.env.COMPOSE_PROFILES !== undefined) return process.env.COMPOSE_PROFILES.split(',').filter(Boolean);
  const envFile = join(root, '.env');
  if (!existsSync(envFile)) return [];
  const m = /^\s*COMPOSE_PROFILES\s*=\s*(.*)$/m.exec(readFileSync(envFile, 'utf8'));
  return m
    ? m[1]
        .trim()
        .replace(/^["']|["']$/g, '')
        .split(',')
        .filter(Boolean)
    : [];
}

function checkBuilds(services) {
  for (const [name, svc] of Object.entries(services)) {
    const build = svc.build;
    if (build === undefined) continue;
    const b = typeof build === 'string' ? { context: build } : build;
    const context = isAbsolute(b.context ?? '.') ? b.context : resolve(root, b.context ?? '.');
    const dockerfile = resolve(context, b.dockerfile ?? 'Dockerfile');
    const shown = dockerfile.startsWith(root) ? dockerfile.slice(root.length + 1) : dockerfile;
    if (!existsSync(dockerfile)) {
      problem(`${name}: build.dockerfile ${shown} does not exist`);
      continue;
    }
    if (b.target) {
      const stages = [...readFileSync(dockerfile, 'utf8').matchAll(/^\s*FROM\s+\S+\s+AS\s+(\S+)/gim)].map((s) =>
        s[1].toLowerCase(),
      );
      if (!stages.includes(String(b.target).toLowerCase()))
        problem(`${name}: build.target '${b.target}' is not a stage of ${shown} (stages: ${stages.join(', ')})`);
    }
    const app = b.args?.APP;
    if (!app) {
      problem(`${name}: build.args.APP is missing (which app under apps/ does the image carry?)`);
      continue;
    }
    if (!existsSync(join(root, 'apps', app, 'src', 'main.ts')))
      problem(`${name}: build.args.APP '${app}' is not an app (apps/${app}/src/main.ts does not exist)`);
  }
}

const APPS = ['orders', 'payments', 'inventory', 'notifications', 'analytics', 'console'];

function runningServices(services, activeProfiles) {
  return Object.entries(services).filter(([, svc]) => {
    const profiles = asList(svc.profiles);
    return profiles.length === 0 || profiles.some((p) => activeProfiles.includes(p));
  });
}

/** How many running services carry each app (build argument APP). */
function appCounts(running) {
  const counts = {};
  for (const [, svc] of running) {
    const app = svc.build?.args?.APP;
    if (APPS.includes(app)) counts[app] = (counts[app] ?? 0) + 1;
  }
  return counts;
}

function checkApps(running, label, expected) {
  const counts = appCounts(running);
  for (const app of APPS) {
    if ((counts[app] ?? 0) !== expected(app))
      problem(`${label}: ${counts[app] ?? 0} running services run ${app}; expected ${expected(app)}`);
  }
}

function checkBrokerAlias(services, activeProfiles, label) {
  const running = runningServices(services, activeProfiles);
  const brokers = running.filter(([, svc]) => asList(svc.networks?.default?.aliases).includes('amqp')).map(([n]) => n);
  if (brokers.length !== 1) {
    problem(
      `${label}: ${brokers.length} running services carry the network alias 'amqp' (${brokers.join(', ') || 'none'}); exactly one broker must`,
    );
  }
  checkApps(running, label, () => 1);
}

/** An environment block as `config` prints it: a mapping, or a list of KEY=value. */
function envOf(svc) {
  const env = svc.environment ?? {};
  if (!Array.isArray(env)) return env;
  return Object.fromEntries(env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
}

function checkCluster(services, label, activeProfiles) {
  const running = runningServices(services, activeProfiles);
  const aliased = running.filter(([, svc]) => asList(svc.networks?.default?.aliases).includes('amqp')).map(([n]) => n);
  if (aliased.length)
    problem(
      `${label}: ${aliased.join(', ')} carry the network alias 'amqp'; the cluster's services name every node instead`,
    );
  const nodes = running.filter(([, svc]) => envOf(svc).RABBITMQ_CLUSTER_SEED !== undefined);
  if (nodes.length !== 3)
    problem(`${label}: ${nodes.length} RabbitMQ nodes (services with RABBITMQ_CLUSTER_SEED); expected 3`);
  const hosts = nodes.map(([n, svc]) => svc.hostname ?? n);
  if (new Set(hosts).size !== hosts.length)
    problem(`${label}: the nodes' hostnames are not distinct (${hosts.join(', ')}); RabbitMQ names a node by its host`);
  for (const key of ['RABBITMQ_CLUSTER_SEED', 'RABBITMQ_CLUSTER_COOKIE']) {
    const values = new Set(nodes.map(([, svc]) => envOf(svc)[key]));
    if (values.size > 1) problem(`${label}: the nodes have different ${key} values; they must share one`);
  }
  const seed = nodes.length ? envOf(nodes[0][1]).RABBITMQ_CLUSTER_SEED : undefined;
  if (seed && !hosts.map((h) => `rabbit@${h}`).includes(seed))
    problem(
      `${label}: RABBITMQ_CLUSTER_SEED ${seed} is not one of the nodes (${hosts.map((h) => `rabbit@${h}`).join(', ')})`,
    );
  checkApps(running, label, (app) => (app === 'payments' ? 2 : 1));
  for (const [name, svc] of running) {
    const app = svc.build?.args?.APP;
    if (!APPS.includes(app) || app === 'console') continue;
    const env = envOf(svc);
    const listed = String(env.AMQP_URL ?? '')
      .split(',')
      .map((u) => {
        try {
          return new URL(u.trim()).hostname;
        } catch {
          return u;
        }
      });
    const missing = hosts.filter((h) => !listed.includes(h));
    if (missing.length)
      problem(`${label}: ${name}'s AMQP_URL does not list ${missing.join(', ')} (it is '${env.AMQP_URL ?? ''}')`);
    if (env.MESSAGING_QUEUE_TYPE !== 'quorum')
      problem(
        `${label}: ${name} has MESSAGING_QUEUE_TYPE '${env.MESSAGING_QUEUE_TYPE ?? ''}'; the cluster's services declare quorum queues`,
      );
    const deps = asList(svc.depends_on);
    const notWaited = nodes.map(([n]) => n).filter((n) => !deps.includes(n));
    if (notWaited.length)
      problem(
        `${label}: ${name} does not depend on ${notWaited.join(', ')} (queues declared before every node runs would have fewer members)`,
      );
  }
}

const TRACING_FILE = 'docker/observability/tracing.yml';
const OBSERVABILITY = ['prometheus', 'grafana', 'jaeger'];
const OPTIONAL = ['grafana', 'jaeger']; // images with no local stand-in: a registry is needed

/** Profile `observability` runs Prometheus, Grafana and Jaeger; `metrics` Prometheus alone, on the stand-in's tag. */
function checkObservability(services, activeProfiles, label, profile) {
  const running = Object.fromEntries(runningServices(services, activeProfiles));
  const expected = profile === 'observability' ? OBSERVABILITY : ['prometheus'];
  for (const name of OBSERVABILITY) {
    if (expected.includes(name) && !running[name]) problem(`${label}: ${name} does not run`);
    if (!expected.includes(name) && running[name])
      problem(`${label}: ${name} runs; profile ${profile} has ${expected.join(', ')} only`);
  }
  const standIn = /export const PROMETHEUS = '([^']+)'/.exec(
    readFileSync(join(root, 'docker/base-images/build.mjs'), 'utf8'),
  )?.[1];
  if (running.prometheus && running.prometheus.image !== standIn)
    problem(
      `${label}: prometheus runs ${running.prometheus.image}; docker/base-images/build.mjs stands in for ${standIn ?? '(none)'}, so without a registry it could not start`,
    );
  for (const name of OPTIONAL) {
    if (running[name] && running[name].labels?.['org.warren.optional'] !== 'true')
      problem(`${label}: ${name} has no stand-in image and is not labelled org.warren.optional=true`);
  }
}

/** Tracing is on exactly when the override is given: the services send OTLP/HTTP JSON to the console, it forwards to Jaeger. */
function checkTracing(services, activeProfiles, label, on) {
  const running = runningServices(services, activeProfiles);
  const reachable = new Set(running.flatMap(([n, svc]) => [n, ...asList(svc.networks?.default?.aliases)]));
  for (const [name, svc] of running) {
    const app = svc.build?.args?.APP;
    if (!APPS.includes(app)) continue;
    const env = envOf(svc);
    if (!on) {
      const set = [
        'OTEL_EXPORTER_OTLP_ENDPOINT',
        'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
        'OTEL_TRACES_EXPORTER',
        'CONSOLE_OTLP_FORWARD_URL',
      ].filter((k) => env[k]);
      if (set.length)
        problem(`${label}: ${name} sets ${set.join(', ')}; tracing must stay off without ${TRACING_FILE}`);
      continue;
    }
    if (app === 'console') {
      if (env.CONSOLE_OTLP_FORWARD_URL !== 'http://jaeger:4318/v1/traces')
        problem(
          `${label}: ${name}'s CONSOLE_OTLP_FORWARD_URL is '${env.CONSOLE_OTLP_FORWARD_URL ?? ''}'; expected Jaeger's OTLP/HTTP receiver http://jaeger:4318/v1/traces`,
        );
    } else {
      if (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT !== 'http://console:3000/v1/traces')
        problem(
          `${label}: ${name}'s OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is '${env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? ''}'; expected the console's receiver http://console:3000/v1/traces`,
        );
      const host = /^https?:\/\/([^:/]+)/.exec(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? '')?.[1];
      if (host && !reachable.has(host))
        problem(`${label}: ${name} sends its spans to '${host}', which no running service answers to`);
      if (env.OTEL_EXPORTER_OTLP_PROTOCOL !== 'http/json')
        problem(
          `${label}: ${name}'s OTEL_EXPORTER_OTLP_PROTOCOL is '${env.OTEL_EXPORTER_OTLP_PROTOCOL ?? ''}'; the console accepts http/json`,
        );
    }
  }
}

/** Every file or directory a service bind-mounts exists (a missing one would be created empty by the engine). */
function checkMounts(services, label) {
  for (const [name, svc] of Object.entries(services)) {
    for (const volume of asList(svc.volumes)) {
      const source = String(volume).split(':')[0];
      if (!isAbsolute(source)) continue; // a named volume
      if (!existsSync(source)) problem(`${label}: ${name} mounts ${source}, which does not exist`);
    }
  }
}

/** Every host name Prometheus discovers (docker/observability/prometheus.yml) is a service or alias in some profile. */
function checkPrometheusTargets(services) {
  const file = join(root, 'docker/observability/prometheus.yml');
  if (!existsSync(file)) return problem('docker/observability/prometheus.yml does not exist');
  const known = new Set(Object.entries(services).flatMap(([n, svc]) => [n, ...asList(svc.networks?.default?.aliases)]));
  const names = [...readFileSync(file, 'utf8').matchAll(/^\s*- names: \[([^\]]*)\]/gm)].flatMap((m) =>
    m[1].split(',').map((x) => x.trim()),
  );
  if (!names.length) problem('docker/observability/prometheus.yml discovers no host name (dns_sd_configs names)');
  for (const n of names)
    if (!known.has(n))
      problem(
        `docker/observability/prometheus.yml scrapes '${n}', which is no service or network alias of docker-compose.yml`,
      );
}

function main() {
  if (!existsSync(join(root, 'docker-compose.yml'))) {
    console.error('check-compose: docker-compose.yml does not exist');
    process.exit(1);
  }
  const compose = findCompose();
  if (!compose) {
    console.error(
      'check-compose: neither docker-compose nor `docker compose` is installed (Debian: apt-get install docker-compose)',
    );
    process.exit(1);
  }
  const help = run(compose, ['--help']);
  const hasProfiles = /--profile/.test(help.out + help.err);
  const runs = [{ label: 'docker-compose.yml', args: [], profiles: defaultProfiles() }];
  if (hasProfiles) {
    runs.push({
      label: 'docker-compose.yml --profile rabbitmq',
      args: ['--profile', 'rabbitmq'],
      profiles: ['rabbitmq'],
    });
    runs.push({
      label: 'docker-compose.yml --profile cluster',
      args: ['--profile', 'cluster'],
      profiles: ['cluster'],
      cluster: true,
    });
    for (const broker of ['bundled', 'rabbitmq', 'cluster']) {
      for (const extra of ['observability', 'metrics']) {
        runs.push({
          label: `docker-compose.yml --profile ${broker} --profile ${extra}`,
          args: ['--profile', broker, '--profile', extra],
          profiles: [broker, extra],
          cluster: broker === 'cluster',
          observability: extra,
        });
      }
      runs.push({
        label: `docker-compose.yml + ${TRACING_FILE} --profile ${broker} --profile observability`,
        args: ['-f', 'docker-compose.yml', '-f', TRACING_FILE, '--profile', broker, '--profile', 'observability'],
        profiles: [broker, 'observability'],
        cluster: broker === 'cluster',
        observability: 'observability',
        tracing: true,
      });
    }
  } else console.log(`check-compose: ${compose.join(' ')} has no --profile; checking the default profile only`);

  // Compose v2 prints only the services of the active profiles, so collect them over every run
  const services = {};
  let parsed = false;
  for (const { label, args, profiles, cluster, observability, tracing } of runs) {
    const quiet = run(compose, [...args, 'config', '-q']);
    if (!quiet.ok) {
      problem(
        `${label}: \`${[...compose, ...args, 'config', '-q'].join(' ')}\` failed: ${quiet.err.split('\n').join(' | ')}`,
      );
      continue;
    }
    const full = run(compose, [...args, 'config']);
    const these = parseYaml(full.out).services ?? {};
    if (Object.keys(these).length === 0) problem(`${label}: no services`);
    if (cluster) checkCluster(these, label, profiles);
    else checkBrokerAlias(these, profiles, label);
    if (observability) checkObservability(these, profiles, label, observability);
    checkTracing(these, profiles, label, Boolean(tracing));
    checkMounts(these, label);
    Object.assign(services, these);
    parsed = true;
  }
  if (parsed) {
    checkBuilds(services);
    checkPrometheusTargets(services);
  }

  for (const line of problems) console.error(`check-compose: ${line}`);
  if (problems.length) process.exit(1);
  const built = Object.entries(services).filter(([, s]) => s.build).length;
  console.log(`check-compose: ok (${runs.map((r) => r.label).join('; ')}; ${built} built images)`);
}

main();
