import { execFile, execFileSync } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

// A process test runs the code as the demo and the images do: bundled by tools/scripts/bundle.mjs (esbuild, npm
// packages left external). A bundle that requires npm packages must be written inside the repository, so that they
// resolve from its node_modules.

/** The repository's root, where bundles are made from. */
export const REPOSITORY_ROOT = path.resolve(__dirname, '../..');

/** Bundles `entry` (a path from `root`) into `outfile`; returns the bundle's absolute path. */
export async function bundleEntry(entry: string, outfile: string, root = REPOSITORY_ROOT): Promise<string> {
  try {
    await promisify(execFile)(process.execPath, bundleArgs(root, entry, outfile), { cwd: root, timeout: TIMEOUT_MS });
  } catch (error) {
    throw bundleFailed(entry, error);
  }
  return path.resolve(root, outfile);
}

/** bundleEntry for a caller that cannot wait (a synchronous harness). */
export function bundleEntrySync(entry: string, outfile: string, root = REPOSITORY_ROOT): string {
  try {
    execFileSync(process.execPath, bundleArgs(root, entry, outfile), { cwd: root, timeout: TIMEOUT_MS, stdio: 'pipe' });
  } catch (error) {
    throw bundleFailed(entry, error);
  }
  return path.resolve(root, outfile);
}

const TIMEOUT_MS = 120_000;

function bundleArgs(root: string, entry: string, outfile: string): string[] {
  return [path.join(root, 'tools/scripts/bundle.mjs'), entry, outfile];
}

/** Says which entry failed, with esbuild's own message. */
function bundleFailed(entry: string, error: unknown): Error {
  const { stderr, message } = error as Error & { stderr?: string | Buffer };
  return new Error(`bundling ${entry} failed: ${String(stderr ?? '').trim() || message}`);
}
