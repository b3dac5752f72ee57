import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { bundleEntry, REPOSITORY_ROOT as repositoryRoot } from '../../../../tools/testing/bundle';

/** The repository's root, where child processes run and bundles are written (under tmp/). */
export { repositoryRoot };

/**
 * A TypeScript entry point (a fixture a test runs as a process of its own) bundled once for the test file, as the
 * services are (tools/scripts/bundle.mjs), under a name of its own so files running at once do not share one; removed
 * after the file. Call at a file's or a describe's top level; the path is ready from its beforeAll on.
 */
export function bundledChild(entry: string): string {
  const out = path.join(
    repositoryRoot,
    `tmp/messaging-test/${path.basename(entry, '.ts')}.${randomBytes(4).toString('hex')}.js`,
  );
  beforeAll(async () => {
    await bundleEntry(entry, out);
  });
  afterAll(() => {
    for (const f of [out, `${out}.map`]) rmSync(f, { force: true });
  });
  return out;
}
