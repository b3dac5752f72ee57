// Bundles a TypeScript entry point (and the workspace libraries it imports, via tsconfig paths) into one
// CommonJS file for Node 20; npm packages stay external. Type checking is separate (tsc --noEmit in each
// project's build target). CLI: node tools/scripts/bundle.mjs <entry.ts> <out.js>
import { build } from 'esbuild';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export async function bundle(entry, outfile) {
  await build({
    entryPoints: [resolve(root, entry)],
    outfile: resolve(root, outfile),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: true,
    packages: 'external',
    tsconfig: join(root, 'tsconfig.base.json'),
    logLevel: 'warning',
  });
  return resolve(root, outfile);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [entry, outfile] = process.argv.slice(2);
  if (!entry || !outfile) {
    console.error('usage: node tools/scripts/bundle.mjs <entry.ts> <out.js>');
    process.exit(2);
  }
  await bundle(entry, outfile);
}
