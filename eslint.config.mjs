// Lint for the whole workspace. Module boundaries are enforced on two tag axes (docs/architecture.md: Module boundaries):
//   scope: which part of the platform a project belongs to; type: what kind of project it is.
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';
import js from '@eslint/js';

export default [
  { ignores: ['**/dist', '**/node_modules', '**/tmp', '**/.data', '**/coverage', 'bench/results'] },
  ...nx.configs['flat/base'],
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: true,
          // test helpers shared by every project's suites (the broker spawner): plain scripts, not a project
          allow: ['/tools/testing/[a-z-]+$'],
          depConstraints: [
            // apps never import other apps (nx forbids it too); libs never import apps.
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:util', 'type:data', 'type:feature'] },
            { sourceTag: 'type:feature', onlyDependOnLibsWithTags: ['type:util', 'type:data'] },
            { sourceTag: 'type:data', onlyDependOnLibsWithTags: ['type:data', 'type:util'] },
            { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util'] },
            { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:util', 'type:data'] },
            // the broker side (broker app, protocol codec) and the services side share nothing but the wire.
            { sourceTag: 'scope:broker', onlyDependOnLibsWithTags: ['scope:broker'] },
            // services use the shared contracts and the messaging library; contracts are written with it too.
            {
              sourceTag: 'scope:services',
              onlyDependOnLibsWithTags: ['scope:services', 'scope:shared', 'scope:messaging'],
            },
            { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared', 'scope:messaging'] },
            // libs/messaging is copied into other repos as is: it may import no workspace project at all.
            { sourceTag: 'scope:messaging', onlyDependOnLibsWithTags: [] },
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Tests and the compatibility scenarios inspect decoded frames and client internals of unknown shape.
    files: ['**/*.spec.ts', '**/*.test.ts', '**/compat/**/*.ts', '**/test/**/*.ts', '**/testing/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    languageOptions: {
      globals: {
        require: 'readonly',
        module: 'writable',
        __dirname: 'readonly',
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        URL: 'readonly',
        fetch: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
];
