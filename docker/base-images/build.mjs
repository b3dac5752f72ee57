#!/usr/bin/env node
// Local stand-ins for the registry images Warren's containers use, for machines where no container registry
// answers (a firewall that lets only Debian's and npm's registries through, a CI box like Warren's own). See
// docs/offline-images.md.
//
//   npm run docker:base-images                 pull what is missing; build a stand-in where the pull fails
//   npm run docker:base-images -- --no-pull    do not try the registry
//   npm run docker:base-images -- --rebuild    rebuild the stand-ins that exist (never an image that was pulled)
//
// Every image keeps the name compose and the testcontainers runtime ask for, so both find it locally. An image
// that is already there is left alone; stand-ins carry the label org.warren.stand-in=true, and the summary says
// which images are stand-ins. The Debian root file system comes from `debootstrap --variant=minbase bookworm`
// (root and debootstrap needed), imported once as warren-base/debian:bookworm; the Node.js image carries the
// Node.js, npm and headers of the machine running this script, and its TLS trust store.
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { appImage, buildAppImage } from '../app-images.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOTFS = 'warren-base/debian:bookworm';
const MIRROR = process.env.DEBIAN_MIRROR ?? 'http://deb.debian.org/debian';
const SECURITY_MIRROR = process.env.DEBIAN_SECURITY_MIRROR ?? 'http://deb.debian.org/debian-security';
const NODE_MAJOR = 20;
// where the root file system and the build contexts are assembled; not /tmp by default, which may be a small
// tmpfs or mounted noexec (debootstrap runs programs inside the tree)
const WORK_DIR = process.env.WARREN_BASE_IMAGES_TMP ?? '/var/tmp';
const MAILPIT = 'axllent/mailpit:latest';
// the tag docker-compose.yml runs (profiles `observability` and `metrics`); Jaeger's and Grafana's images have no
// stand-in and need a registry (docker/observability/README.md)
export const PROMETHEUS = 'prom/prometheus:v2.53.2';

/** The registry images, in build order (the mailpit stand-in is built on the node one). */
export const IMAGES = [
  { name: `node:${NODE_MAJOR}-bookworm-slim`, build: buildNode },
  { name: 'redis:7-alpine', build: (name) => buildStandIn('redis.Dockerfile', name) },
  { name: 'postgres:15-alpine', build: (name) => buildStandIn('postgres.Dockerfile', name) },
  { name: 'rabbitmq:3-management', build: (name) => buildStandIn('rabbitmq.Dockerfile', name) },
  { name: PROMETHEUS, build: (name) => buildStandIn('prometheus.Dockerfile', name) },
  { name: MAILPIT, build: buildMailpit }, // built FROM the node image, so no root file system of its own
];

function run(cmd, args, { input, quiet = false, timeoutMs } = {}) {
  return new Promise((resolveRun, reject) => {
    const child = spawn(cmd, args, {
      stdio: [input ? 'pipe' : 'ignore', quiet ? 'pipe' : 'inherit', quiet ? 'pipe' : 'inherit'],
      env: { ...process.env, DOCKER_BUILDKIT: '0' },
    });
    let out = '';
    child.stdout?.on('data', (d) => (out += d));
    child.stderr?.on('data', (d) => (out += d));
    const timer = timeoutMs ? setTimeout(() => child.kill('SIGTERM'), timeoutMs) : undefined;
    if (input) input.pipe(child.stdin);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolveRun({ code, out });
    });
  });
}

async function must(cmd, args, opts) {
  const { code, out } = await run(cmd, args, opts);
  if (code !== 0)
    throw new Error(
      `${cmd} ${args.join(' ')} exited ${code}${out ? `:\n${out.trim().split('\n').slice(-20).join('\n')}` : ''}`,
    );
  return out;
}

/** The image's labels, or undefined when there is no such image. */
async function inspect(name) {
  const { code, out } = await run('docker', ['image', 'inspect', '--format', '{{json .Config.Labels}}', name], {
    quiet: true,
  });
  if (code !== 0) return undefined;
  return JSON.parse(out.trim() || 'null') ?? {};
}

const isStandIn = (labels) => labels?.['org.warren.stand-in'] === 'true';

async function ensureRootfs(rebuild) {
  if (!rebuild && (await inspect(ROOTFS))) return;
  if (process.getuid?.() !== 0) throw new Error(`building ${ROOTFS} runs debootstrap, which needs root`);
  if ((await run('debootstrap', ['--version'], { quiet: true }).catch(() => ({ code: 1 }))).code !== 0)
    throw new Error('debootstrap is not installed (Debian: apt-get install debootstrap)');
  const dir = mkdtempSync(join(WORK_DIR, 'warren-rootfs-'));
  try {
    const rootfs = join(dir, 'rootfs');
    console.log(`debootstrap --variant=minbase bookworm from ${MIRROR}`);
    await must('debootstrap', ['--variant=minbase', 'bookworm', rootfs, MIRROR], { quiet: true });
    writeFileSync(
      join(rootfs, 'etc/apt/sources.list'),
      [
        `deb ${MIRROR} bookworm main`,
        `deb ${MIRROR} bookworm-updates main`,
        `deb ${SECURITY_MIRROR} bookworm-security main`,
        '',
      ].join('\n'),
    );
    // as Debian's own container images: no service starts during an install, no recommends, no docs, no caches
    writeFileSync(join(rootfs, 'usr/sbin/policy-rc.d'), '#!/bin/sh\nexit 101\n');
    chmodSync(join(rootfs, 'usr/sbin/policy-rc.d'), 0o755);
    writeFileSync(
      join(rootfs, 'etc/apt/apt.conf.d/90warren-container'),
      'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\nDPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };\n',
    );
    writeFileSync(
      join(rootfs, 'etc/dpkg/dpkg.cfg.d/90warren-nodoc'),
      'path-exclude /usr/share/doc/*\npath-include /usr/share/doc/*/copyright\npath-exclude /usr/share/man/*\npath-exclude /usr/share/info/*\npath-exclude /usr/share/locale/*\n',
    );
    for (const sub of ['var/cache/apt/archives', 'var/lib/apt/lists'])
      await must('find', [join(rootfs, sub), '-mindepth', '1', '-maxdepth', '1', '-type', 'f', '-delete']);
    await must('rm', [
      '-rf',
      join(rootfs, 'usr/share/doc'),
      join(rootfs, 'usr/share/man'),
      join(rootfs, 'usr/share/info'),
    ]);
    const tar = spawn('tar', ['-C', rootfs, '--numeric-owner', '-c', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const tarDone = new Promise((resolveTar) => tar.on('close', resolveTar));
    await must(
      'docker',
      [
        'import',
        '--change',
        'CMD ["bash"]',
        '--change',
        'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        '--change',
        'LABEL org.warren.stand-in=true org.warren.stand-in.for=debian:bookworm',
        '-',
        ROOTFS,
      ],
      { input: tar.stdout, quiet: true },
    );
    const tarCode = await tarDone;
    if (tarCode !== 0) {
      // a truncated root file system must not stay behind under the name the stand-ins build on
      await run('docker', ['rmi', ROOTFS], { quiet: true });
      throw new Error(`tar of the root file system exited ${tarCode}; nothing imported`);
    }
    console.log(`imported ${ROOTFS}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function buildNode(name) {
  const major = Number(process.versions.node.split('.')[0]);
  if (major !== NODE_MAJOR)
    throw new Error(`${name} must carry Node.js ${NODE_MAJOR}; this script runs on ${process.versions.node}`);
  const prefix = resolve(dirname(process.execPath), '..');
  const npmDir = [join(prefix, 'lib/node_modules/npm'), join(prefix, 'lib/node/npm')].find((d) =>
    existsSync(join(d, 'package.json')),
  );
  const include = join(prefix, 'include/node');
  const ca = [
    process.env.NODE_EXTRA_CA_CERTS,
    '/etc/ssl/certs/ca-certificates.crt',
    '/etc/pki/tls/certs/ca-bundle.crt',
  ].find((f) => f && existsSync(f));
  if (!npmDir) throw new Error(`npm not found next to ${process.execPath}`);
  if (!existsSync(join(include, 'node_api.h')))
    throw new Error(`Node's headers not found in ${include} (native addons could not build in the image)`);
  if (!ca)
    throw new Error('no TLS trust store found (looked at NODE_EXTRA_CA_CERTS and /etc/ssl/certs/ca-certificates.crt)');
  const ctx = mkdtempSync(join(WORK_DIR, 'warren-node-image-'));
  try {
    cpSync(process.execPath, join(ctx, 'node'));
    cpSync(npmDir, join(ctx, 'npm'), { recursive: true, dereference: true });
    cpSync(include, join(ctx, 'include'), { recursive: true, dereference: true });
    cpSync(ca, join(ctx, 'ca-certificates.crt'));
    cpSync(join(HERE, 'node.Dockerfile'), join(ctx, 'Dockerfile'));
    await must(
      'docker',
      ['build', '-q', '--build-arg', `ROOTFS=${ROOTFS}`, '--build-arg', `FOR=${name}`, '-t', name, ctx],
      { quiet: true },
    );
  } finally {
    rmSync(ctx, { recursive: true, force: true });
  }
}

async function buildStandIn(dockerfile, name) {
  await must(
    'docker',
    [
      'build',
      '-q',
      '--build-arg',
      `ROOTFS=${ROOTFS}`,
      '--build-arg',
      `FOR=${name}`,
      '-f',
      join(HERE, dockerfile),
      '-t',
      name,
      HERE,
    ],
    { quiet: true },
  );
}

async function buildMailpit(name) {
  // Warren's SMTP capture, built from this repository like every Warren image, then Mailpit's entry points
  await buildAppImage('smtp-capture');
  await must(
    'docker',
    [
      'build',
      '-q',
      '--build-arg',
      `CAPTURE_IMAGE=${appImage('smtp-capture')}`,
      '--build-arg',
      `FOR=${name}`,
      '-f',
      join(HERE, 'mailpit.Dockerfile'),
      '-t',
      name,
      HERE,
    ],
    { quiet: true },
  );
}

async function main() {
  const { values } = parseArgs({
    options: { 'no-pull': { type: 'boolean' }, rebuild: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  });
  if (values.help) {
    console.log(
      'usage: npm run docker:base-images [-- --no-pull] [--rebuild]\nBuilds local stand-ins for the registry images that are missing and cannot be pulled (docs/offline-images.md).',
    );
    return;
  }
  if (
    (await run('docker', ['version', '--format', '{{.Server.Version}}'], { quiet: true }).catch(() => ({ code: 1 })))
      .code !== 0
  )
    throw new Error('no Docker engine answers (start dockerd, or set DOCKER_HOST)');
  const summary = [];
  let rootfsReady = false; // the Debian root file system, built (or rebuilt) at most once per run
  for (const { name, build } of IMAGES) {
    const started = Date.now();
    const labels = await inspect(name);
    if (labels && !(values.rebuild && isStandIn(labels))) {
      summary.push([name, isStandIn(labels) ? 'stand-in, already built' : 'present (not built here)']);
      continue;
    }
    if (!labels && !values['no-pull']) {
      process.stdout.write(`${name}: pulling ... `);
      const pulled = await run('docker', ['pull', '-q', name], { quiet: true, timeoutMs: 300_000 });
      if (pulled.code === 0) {
        console.log('pulled');
        summary.push([name, 'pulled']);
        continue;
      }
      console.log(`no registry answered (${pulled.out.trim().split('\n').pop()})`);
    }
    console.log(`${name}: building a stand-in`);
    if (!rootfsReady && name !== MAILPIT) {
      await ensureRootfs(values.rebuild);
      rootfsReady = true;
    }
    await build(name);
    summary.push([name, `stand-in, built in ${((Date.now() - started) / 1000).toFixed(0)} s`]);
  }
  console.log('\nbase images:');
  for (const [name, state] of summary) console.log(`  ${name.padEnd(26)} ${state}`);
  if (summary.some(([, s]) => s.startsWith('stand-in')))
    console.log(
      '\nStand-ins are built from Debian packages and this repository; they are not the official images (docs/offline-images.md).',
    );
}

main().catch((err) => {
  console.error(`docker:base-images: ${err.message}`);
  process.exit(1);
});
