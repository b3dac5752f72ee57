// `npm run demo`: on a fresh clone, installs dependencies when they are missing, then runs the bundled broker
// in the foreground. (The services join the demo as they land; see the README.)
// Only node: built-ins are imported here, because node_modules may not exist yet.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runForeground } from './foreground.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
if (!existsSync(join(root, 'node_modules', 'esbuild'))) {
  console.log('demo: installing dependencies (npm ci)…');
  const install = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (install.status !== 0) process.exit(install.status ?? 1);
}
runForeground(join(root, 'tools/scripts/run-broker.mjs'), process.argv.slice(2), { cwd: root });
