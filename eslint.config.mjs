// ESLint flat config: type-checked rules, the boundaries of STYLE.md and the orchestrator
// determinism fence.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importPlugin from 'eslint-plugin-import';

const nonDeterministic = [
  {
    object: 'Date',
    property: 'now',
    message: 'Orchestrators read time from context.df.currentUtcDateTime.',
  },
  {
    object: 'Math',
    property: 'random',
    message: 'Orchestrators get ids from context.df.newGuid().',
  },
  { object: 'process', property: 'env', message: 'Orchestrators receive settings in their input.' },
  {
    object: 'crypto',
    property: 'randomUUID',
    message: 'Orchestrators get ids from context.df.newGuid().',
  },
];

/**
 * Where `process.env` may be read: configuration modules (a `config/` folder: `loadConfig(env)`
 * and the local tools' environment knobs) and entry points, which hand the environment to them.
 */
const envReaders = [
  '**/config/**',
  'functions/src/index.ts',
  'functions/src/cli/attest.ts',
  'media-host/src/main.ts',
  'media-host/src/deploy/configure-windows-host.ts',
  'local/src/**/main.ts',
  'local/src/start/scenario.ts',
];

/** Module-level declarations an orchestrator may not have: state that outlives one replay. */
const moduleLevel = ':matches(Program, Program > ExportNamedDeclaration) > VariableDeclaration';

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      '.data/**',
      'bench/results/**',
      '**/*.js',
      '**/*.mjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { project: './tsconfig.json', tsconfigRootDir: import.meta.dirname },
    },
    plugins: { import: importPlugin },
    settings: { 'import/resolver': { node: { extensions: ['.ts', '.js'] } } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'import/no-cycle': 'error',
      'import/no-restricted-paths': [
        'error',
        {
          zones: [
            {
              target: './core',
              from: ['./functions', './media-host', './local', './test'],
              message: 'core/ imports nothing from the workspace.',
            },
            {
              target: './functions',
              from: ['./media-host', './local', './test'],
              message: 'functions/ talks to others over HTTP only.',
            },
            {
              target: './media-host',
              from: ['./functions', './local', './test'],
              message: 'media-host/ talks to others over HTTP and the media protocol only.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['functions/src/**/*.ts', 'media-host/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@attest/local', '@attest/local/*', '**/local/src/**', '**/local/dist/**'],
              message: 'Product code never imports local/.',
            },
          ],
        },
      ],
    },
  },
  {
    // Test fakes live outside product code: in test/ or a package's testing/ folder.
    files: ['functions/src/**/*.ts', 'media-host/src/**/*.ts'],
    ignores: ['**/*.test.ts', '**/testing/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@attest/local', '@attest/local/*', '**/local/src/**', '**/local/dist/**'],
              message: 'Product code never imports local/.',
            },
            {
              group: ['**/testing', '**/testing/**'],
              message: 'Test fakes are for tests and benchmarks; product code never imports them.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['core/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            'fs',
            'node:fs',
            'net',
            'node:net',
            'http',
            'node:http',
            'https',
            'node:https',
            'child_process',
            'node:child_process',
            'tls',
            'node:tls',
            'fs/promises',
            'node:fs/promises',
          ],
          patterns: [
            {
              group: ['@attest/*', '@azure/*'],
              message: 'core/ is pure: no I/O, no workspace imports.',
            },
          ],
        },
      ],
    },
  },
  {
    files: [
      'core/src/**/*.ts',
      'functions/src/**/*.ts',
      'media-host/src/**/*.ts',
      'local/src/**/*.ts',
    ],
    ignores: ['**/*.test.ts', ...envReaders],
    rules: {
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message:
            'Only configuration modules (config/) and entry points read process.env; take the value as an option.',
        },
      ],
    },
  },
  {
    // After the process.env rule: this object replaces no-restricted-properties for orchestrators
    // (nonDeterministic bans process.env there too).
    files: ['functions/src/orchestrators/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-properties': ['error', ...nonDeterministic],
      'no-restricted-syntax': [
        'error',
        {
          selector: 'NewExpression[callee.name="Date"][arguments.length=0]',
          message: 'Use context.df.currentUtcDateTime.',
        },
        {
          selector:
            'FunctionDeclaration[async=true], FunctionExpression[async=true], ArrowFunctionExpression[async=true]',
          message: 'Orchestrators are synchronous generators.',
        },
        {
          selector: 'AwaitExpression',
          message: 'Orchestrators yield context.df tasks; they never await.',
        },
        {
          selector: `${moduleLevel}[kind=/^(let|var)$/]`,
          message:
            'No module-level mutable state in orchestrators: it outlives a replay and is shared by every instance in the worker.',
        },
        {
          selector: `${moduleLevel} > VariableDeclarator > :matches(NewExpression[callee.name=/^(Map|Set|WeakMap|WeakSet|Array)$/], ArrayExpression, ObjectExpression)`,
          message:
            'No module-level mutable state in orchestrators: a module-level collection or object is shared by every instance (use `as const`, or keep it in the orchestration).',
        },
      ],
      'no-restricted-globals': ['error', 'setTimeout', 'setInterval', 'setImmediate', 'fetch'],
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '**/adapters/**',
                '**/activities/**',
                '**/config/**',
                'node:*',
                'fs',
                'http',
                'https',
                '@azure/storage-*',
                '@azure/data-tables',
                '@microsoft/*',
              ],
              message: 'Orchestrators do no I/O: call an activity.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.test.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  {
    // The portal is a browser app with its own tsconfig (DOM, JSX).
    files: ['web/**/*.ts', 'web/**/*.tsx'],
    languageOptions: {
      parserOptions: { project: './web/tsconfig.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // The admin API's shapes come from core, as types: its code is built for Node, not bundled.
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: '@attest/core',
              message: 'The portal imports only types from @attest/core (import type).',
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
  },
);
