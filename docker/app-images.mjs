#!/usr/bin/env node
// Warren's own images, warren-<app>:latest, from docker/service.Dockerfile: the ones docker-compose.yml names
// and builds, the e2e containers runtime runs, and the Mailpit stand-in is built on (smtp-capture).
//   npm run docker:images [-- app ...]   builds them (all by default) and prints each one's size over its base
// Builds go through the classic builder (DOCKER_BUILDKIT=0), as docker-compose v1 builds, so the two share one
// layer cache. The e2e containers runtime runs these images (its global setup calls buildAppImages).
import { execFile, spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const APPS = [
  'broker',
  'orders',
  'payments',
  'inventory',
  'notifications',
  'analytics',
  'console',
  'smtp-capture',
];
export const NODE_IMAGE = 'node:20-bookworm-slim';
export const appImage = (app) => `warren-${app}:latest`;

/** Builds warren-<app>:latest; the build's output is printed only when it fails. */
export function buildAppImage(app) {
  if (!APPS.includes(app)) return Promise.reject(new Error(`no app '${app}' (one of ${APPS.join(', ')})`));
  return new Promise((resolveBuild, reject) => {
    const child = spawn(
      'docker',
      ['build', '-f', join(ROOT, 'docker/service.Dockerfile'), '--build-arg', `APP=${app}`, '-t', appImage(app), ROOT],
      { env: { ...process.env, DOCKER_BUILDKIT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolveBuild()
        : reject(new Error(`docker build of ${appImage(app)} exited ${code}:\n${out.slice(-4000)}`)),
    );
  });
}

const imageSize = async (name) =>
  Number((await promisify(execFile)('docker', ['image', 'inspect', '--format', '{{.Size}}', name])).stdout.trim());

/** Builds the apps one after another (they share every stage up to the bundle); returns [app, seconds, MB over base]. */
export async function buildAppImages(apps = APPS, onBuilt = () => undefined) {
  const rows = [];
  for (const app of apps) {
    const started = Date.now();
    await buildAppImage(app);
    const row = [
      app,
      (Date.now() - started) / 1000,
      ((await imageSize(appImage(app))) - (await imageSize(NODE_IMAGE))) / 1e6,
    ];
    rows.push(row);
    onBuilt(row);
  }
  return rows;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const apps = process.argv.slice(2);
  console.log(`building ${(apps.length ? apps : APPS).map(appImage).join(', ')}`);
  buildAppImages(apps.length ? apps : APPS, ([app, seconds, mb]) =>
    console.log(
      `  ${appImage(app).padEnd(30)} ${seconds.toFixed(0).padStart(4)} s   ${mb.toFixed(1).padStart(6)} MB over ${NODE_IMAGE}`,
    ),
  ).catch((err) => {
    console.error(`docker:images: ${err.message}`);
    process.exit(1);
  });
}
