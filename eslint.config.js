// Lint rules, including the package dependency direction of DESIGN.md §1 (see README):
//   core    imports nothing of ours and no I/O (no node:*, no fetch, no DOM storage, no clock/random globals)
//   client  imports core, never server
//   server  imports core, never client
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const NODE_BUILTINS = [
  'assert', 'async_hooks', 'buffer', 'child_process', 'cluster', 'crypto', 'dgram', 'dns', 'events', 'fs',
  'fs/promises', 'http', 'http2', 'https', 'module', 'net', 'os', 'path', 'perf_hooks', 'process',
  'readline', 'stream', 'timers', 'tls', 'url', 'util', 'v8', 'vm', 'worker_threads', 'zlib',
];

/** Import patterns no package may use to reach into another package's files. */
const crossPackagePaths = (pkg) => [
  { group: [`@kassa/${pkg}`, `@kassa/${pkg}/*`], message: `this package must not import @kassa/${pkg} (see the dependency picture in README.md)` },
  { group: [`**/${pkg}/src/**`, `**/packages/${pkg}/**`], message: `this package must not reach into packages/${pkg}` },
];

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '**/coverage/**', 'data/**', '**/lint-fixtures/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      eqeqeq: ['error', 'always'],
    },
  },
  {
    files: ['packages/core/**/*.ts'],
    languageOptions: { globals: {} },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: NODE_BUILTINS.map((name) => ({ name, message: 'core is pure: no I/O or Node built-ins' })),
          patterns: [
            { group: ['node:*'], message: 'core is pure: no Node built-ins' },
            { group: ['@kassa/*'], message: 'core imports nothing of ours' },
            { group: ['../../*', '**/packages/**'], message: 'core imports nothing outside itself' },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        ...['fetch', 'XMLHttpRequest', 'WebSocket', 'localStorage', 'sessionStorage', 'indexedDB', 'caches', 'navigator', 'window', 'document', 'process', 'require', 'Buffer', 'setTimeout', 'setInterval', 'crypto'].map(
          (name) => ({ name, message: `core is pure: no ${name}; pass what you need in` }),
        ),
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'core takes an injected Clock' },
        { object: 'Math', property: 'random', message: 'core takes an injected RandomSource' },
        { object: 'globalThis', message: 'core is pure: no globals' },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'core takes an injected Clock' },
        { selector: 'ImportExpression', message: 'core has no dynamic imports' },
      ],
    },
  },
  {
    files: ['packages/client/**/*.ts', 'packages/client/**/*.tsx', 'apps/pos/**/*.ts', 'apps/pos/**/*.tsx'],
    rules: { 'no-restricted-imports': ['error', { patterns: crossPackagePaths('server') }] },
  },
  {
    files: ['packages/server/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: crossPackagePaths('client') }] },
  },
);
