// The container scripts' own behaviour, without a Docker engine: what image-deps.mjs copies into an image,
// and how the Docker scripts refuse bad input or a missing engine (one clear line, a non-zero exit).
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

function run(
  script: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(ROOT, script), ...args],
      { cwd: opts.cwd ?? ROOT, env: { ...process.env, ...opts.env } },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` });
      },
    );
  });
}

/** A package directory with a package.json (and a file, so a copy is visible). */
function pkg(dir: string, json: Record<string, unknown>): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify(json));
  writeFileSync(path.join(dir, 'index.js'), 'module.exports = 1;\n');
}

describe('image-deps.mjs: what an image carries from node_modules', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'warren-image-deps-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('copies the packages the bundle requires and their dependencies, nested versions where Node finds them, and nothing else', async () => {
    const nm = path.join(root, 'node_modules');
    pkg(path.join(nm, 'web'), {
      name: 'web',
      dependencies: { qs: '1' },
      optionalDependencies: { 'not-installed': '1' },
      peerDependencies: { '@scope/peer': '1', 'absent-peer': '1' },
    });
    pkg(path.join(nm, 'web/node_modules/qs'), { name: 'qs', version: '2.0.0' }); // web's own qs
    pkg(path.join(nm, 'qs'), { name: 'qs', version: '1.0.0' }); // the hoisted one, which nothing required here uses
    pkg(path.join(nm, '@scope/peer'), { name: '@scope/peer' });
    pkg(path.join(nm, 'util-lib'), { name: 'util-lib' });
    pkg(path.join(nm, 'dev-only'), { name: 'dev-only' });
    writeFileSync(
      path.join(root, 'bundle.js'),
      [
        'require("node:fs")',
        'require("path")',
        'require("./local")',
        'require("web")',
        'require("util-lib/sub/file")',
      ].join(';\n'),
    );

    const { code, out } = await run('tools/scripts/image-deps.mjs', ['bundle.js', 'out'], { cwd: root });
    expect(code).toBe(0);
    expect(out).toContain('requires 2 packages (util-lib, web); with their dependencies 4 packages');
    expect(readdirSync(path.join(root, 'out/node_modules')).sort()).toEqual(['@scope', 'util-lib', 'web']);
    expect(existsSync(path.join(root, 'out/node_modules/web/node_modules/qs/package.json'))).toBe(true);
    expect(existsSync(path.join(root, 'out/node_modules/qs'))).toBe(false);
    expect(existsSync(path.join(root, 'out/node_modules/dev-only'))).toBe(false);
  });

  it('gives a bundle that requires no npm package no node_modules at all', async () => {
    writeFileSync(path.join(root, 'bundle.js'), 'require("node:net");\n');
    const { code, out } = await run('tools/scripts/image-deps.mjs', ['bundle.js', 'out'], { cwd: root });
    expect(code).toBe(0);
    expect(out).toContain('bundle.js requires no npm package: no node_modules');
    expect(existsSync(path.join(root, 'out'))).toBe(false);
  });

  it('fails, naming both, when a required package needs one that is not installed', async () => {
    pkg(path.join(root, 'node_modules/web'), { name: 'web', dependencies: { missing: '1' } });
    writeFileSync(path.join(root, 'bundle.js'), 'require("web");\n');
    const { code, out } = await run('tools/scripts/image-deps.mjs', ['bundle.js', 'out'], { cwd: root });
    expect(code).not.toBe(0);
    expect(out).toContain(`web needs missing, which is not installed under ${root}`);
  });

  it('prints its usage when arguments are missing', async () => {
    const { code, out } = await run('tools/scripts/image-deps.mjs', []);
    expect(code).toBe(2);
    expect(out).toContain('usage: node tools/scripts/image-deps.mjs <bundle.js> <out-dir>');
  });
});

describe('the Docker scripts refuse what they cannot do, in one line', () => {
  const noEngine = { DOCKER_HOST: 'unix:///nonexistent/warren-no-docker.sock' };

  it('docker:base-images without an engine', async () => {
    const { code, out } = await run('docker/base-images/build.mjs', ['--no-pull'], { env: noEngine });
    expect(code).toBe(1);
    expect(out.trim()).toBe('docker:base-images: no Docker engine answers (start dockerd, or set DOCKER_HOST)');
  });

  it('docker:base-images with an unknown flag', async () => {
    const { code, out } = await run('docker/base-images/build.mjs', ['--pull-harder'], { env: noEngine });
    expect(code).toBe(1);
    expect(out).toContain("docker:base-images: Unknown option '--pull-harder'");
  });

  it('docker:images with an app that does not exist', async () => {
    const { code, out } = await run('docker/app-images.mjs', ['billing'], { env: noEngine });
    expect(code).toBe(1);
    expect(out).toContain(
      "docker:images: no app 'billing' (one of broker, orders, payments, inventory, notifications, analytics, console, smtp-capture)",
    );
  });

  it('test:compose with a profile compose does not have', async () => {
    const { code, out } = await run('tools/scripts/compose-smoke.mjs', ['--profile', 'galaxy']);
    expect(code).toBe(2);
    expect(out.trim()).toBe("--profile must be bundled, rabbitmq or cluster, got 'galaxy'");
  });
});
