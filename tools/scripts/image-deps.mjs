// What one app's container image needs from node_modules: the npm packages its bundle requires and everything
// they depend on, found the way Node finds them, and nothing else from the workspace's install. Used by
// docker/service.Dockerfile; run where node_modules holds the production install.
//   node tools/scripts/image-deps.mjs <bundle.js> <out-dir>
// Copies each package directory to <out-dir>/node_modules/… (the same relative path, so nested versions stay
// nested) and prints what it took. A bundle that requires no npm package gets no node_modules at all.
import { cpSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The bare package names a bundle requires (esbuild leaves npm packages as require("name") or require("name/sub")). */
export function externalPackages(code) {
  const names = new Set();
  for (const [, spec] of code.matchAll(/require\("([^"]+)"\)/g)) {
    if (isBuiltin(spec) || spec.startsWith('.') || spec.startsWith('/')) continue;
    const parts = spec.split('/');
    names.add(spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]);
  }
  return [...names].sort();
}

/** The directory Node would load package `name` from when required from `fromDir`, or undefined. */
function findPackage(name, fromDir, root) {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === root || dirname(dir) === dir) return undefined;
  }
}

/**
 * Every package directory the given packages need at run time: their dependencies and optional and peer
 * dependencies that are installed, transitively. A missing optional or peer dependency is skipped; a missing
 * regular one is an error (the image would fail when it loads).
 */
export function dependencyClosure(names, root) {
  const found = new Map(); // package dir -> name
  const visit = (name, fromDir, kind, requiredBy) => {
    const dir = findPackage(name, fromDir, root);
    if (!dir) {
      if (kind === 'dependencies') throw new Error(`${requiredBy} needs ${name}, which is not installed under ${root}`);
      return;
    }
    if (found.has(dir)) return;
    found.set(dir, name);
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    for (const field of ['dependencies', 'optionalDependencies', 'peerDependencies']) {
      for (const dep of Object.keys(pkg[field] ?? {})) visit(dep, dir, field, name);
    }
  };
  for (const name of names) visit(name, root, 'dependencies', 'the bundle');
  return [...found.keys()].sort();
}

function sizeOf(path) {
  const st = statSync(path);
  return st.isDirectory() ? readdirSync(path).reduce((sum, entry) => sum + sizeOf(join(path, entry)), 0) : st.size;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [bundle, outDir] = process.argv.slice(2);
  if (!bundle || !outDir) {
    console.error('usage: node tools/scripts/image-deps.mjs <bundle.js> <out-dir>');
    process.exit(2);
  }
  const root = process.cwd();
  const names = externalPackages(readFileSync(bundle, 'utf8'));
  if (!names.length) {
    console.log(`${bundle} requires no npm package: no node_modules`);
    process.exit(0);
  }
  const dirs = dependencyClosure(names, root);
  // copy outermost directories only: a nested package (a/node_modules/b) comes with its parent's copy, but only
  // when that nested one is needed; so copy each package without its node_modules, then nested ones on their own
  for (const dir of dirs) {
    const rel = relative(root, dir);
    cpSync(dir, join(outDir, rel), {
      recursive: true,
      filter: (src) => !relative(dir, src).split(sep).includes('node_modules'),
    });
  }
  const bytes = sizeOf(join(outDir, 'node_modules'));
  console.log(
    `${bundle} requires ${names.length} packages (${names.join(', ')}); with their dependencies ${dirs.length} packages, ${(bytes / 1e6).toFixed(1)} MB`,
  );
}
