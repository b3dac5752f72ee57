import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './chromium';

/** Where the console's web app is built to, and served from by the browser suites. */
export const WEB_DIR = path.join(ROOT, 'dist/apps/console/web');

/** Builds the web app with Vite, as `npm run build` does, so a browser suite tests the code as it is now. */
export async function buildWebApp(): Promise<void> {
  await promisify(execFile)(
    process.execPath,
    [
      path.join(ROOT, 'node_modules/vite/bin/vite.js'),
      'build',
      '-c',
      'apps/console/vite.config.ts',
      '--logLevel',
      'error',
    ],
    { cwd: ROOT },
  );
}
