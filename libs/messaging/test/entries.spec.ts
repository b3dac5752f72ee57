import { readFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import * as main from '../src';
import * as testing from '../src/testing';
import { repositoryRoot as root } from './support/child-bundle';

// The library's entries as a copy of it sees them (package.json `exports`), and as the workspace resolves them:
// tsconfig paths (tsc, and esbuild bundling the services) and the jest preset's moduleNameMapper.
const pkg = JSON.parse(readFileSync(path.join(root, 'libs/messaging/package.json'), 'utf8')) as {
  name: string;
  exports: Record<string, string>;
};
const entries = Object.entries(pkg.exports).map(([key, file]) => ({
  specifier: pkg.name + key.slice(1),
  file: path.join(root, 'libs/messaging', file),
}));
const harnessDir = path.join(root, 'libs/messaging/src/testing') + path.sep;

/**
 * Every source file that loading `specifier` takes in, as Node would load tsc's output or jest the sources (a service's
 * bundle may shake out more); aliases resolved as tools/scripts/bundle.mjs resolves a service's imports.
 */
async function loadedFiles(specifier: string): Promise<string[]> {
  const result = await build({
    stdin: { contents: `export * from '${specifier}';`, resolveDir: root, loader: 'ts' },
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'cjs',
    packages: 'external',
    tsconfig: path.join(root, 'tsconfig.base.json'),
    logLevel: 'silent',
  });
  return Object.keys(result.metafile.inputs).map((f) => path.resolve(root, f));
}

describe('entries', () => {
  it('@warren/messaging exports no test harness; @warren/messaging/testing does', () => {
    expect(main).not.toHaveProperty('MessagingHarness');
    expect(typeof testing.MessagingHarness).toBe('function');
  });

  it('no production entry loads a file of the testing entry', async () => {
    const production = entries.filter((e) => e.specifier !== '@warren/messaging/testing');
    expect(production.map((e) => e.specifier)).toEqual(
      expect.arrayContaining(['@warren/messaging', '@warren/messaging/nest', '@warren/messaging/typeorm']),
    );
    for (const { specifier, file } of production) {
      const inputs = await loadedFiles(specifier);
      // an alias esbuild could not resolve would be left external, and an empty graph has no harness either
      expect(inputs).toContain(file);
      expect({ specifier, harness: inputs.filter((f) => f.startsWith(harnessDir)) }).toEqual({
        specifier,
        harness: [],
      });
    }
    // the same filter does find the harness where it is
    expect(await loadedFiles('@warren/messaging/testing')).toContain(path.join(harnessDir, 'messaging-harness.ts'));
  });

  it('every entry in package.json is mapped to the same file in tsconfig paths and in jest, and no other', async () => {
    const paths = (
      JSON.parse(readFileSync(path.join(root, 'tsconfig.base.json'), 'utf8')) as {
        compilerOptions: { paths: Record<string, string[]> };
      }
    ).compilerOptions.paths;
    const { moduleNameMapper: mapper } = (await import(path.join(root, 'jest.preset.js'))) as {
      moduleNameMapper: Record<string, string>;
    };
    const ours = (s: string) => s === pkg.name || s.startsWith(pkg.name + '/');

    expect(Object.keys(paths).filter(ours).sort()).toEqual(entries.map((e) => e.specifier).sort());
    expect(
      Object.keys(mapper)
        .map((re) => re.replace(/^\^|\$$/g, ''))
        .filter(ours)
        .sort(),
    ).toEqual(entries.map((e) => e.specifier).sort());
    for (const { specifier, file } of entries) {
      expect({ specifier, tsconfig: paths[specifier].map((p) => path.join(root, p)) }).toEqual({
        specifier,
        tsconfig: [file],
      });
      expect({ specifier, jest: mapper[`^${specifier}$`] }).toEqual({ specifier, jest: file });
    }
  });
});
