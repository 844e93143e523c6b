import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

/**
 * Layers (see shared ARCHITECTURE.md): adapters import the pure core, the configuration, the model
 * (operations.ts, membership) and the cross-cutting modules (errors, log, auth) — not each other. Type-only
 * imports are allowed (they vanish at run time). The named exceptions are deliberate and listed here.
 */
const ADAPTERS = ['admin', 'alerts', 'auth', 'checks', 'config', 'health', 'membership', 'replication', 'reports', 'signals', 'status', 'store', 'xds'];
const SHARED = new Set(['core', 'config', 'membership', 'auth']);
const EXCEPTIONS = {
  reports: ['store'], // reports are built over the store's history and roll-ups
  signals: ['xds'], // the LRS service definition reuses the Envoy protos the xDS layer loads
  admin: ['metrics'], // the admin endpoint serves the Prometheus registry
  replication: ['alerts'], // in replicated mode the leader posts alerts through the webhook sink
};
// The composition root and the factories it uses (src/wiring/*): nothing below them imports them.
const wiring = ['app', 'main', 'cli', 'controlplane', 'service'];
const fences = ADAPTERS.map((layer) => {
  const forbidden = ADAPTERS.filter((other) => other !== layer && !SHARED.has(other) && !(EXCEPTIONS[layer] ?? []).includes(other));
  return {
    files: [`src/${layer}/**/*.ts`],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                ...forbidden.map((o) => `../${o}/*`),
                ...wiring.map((w) => `../${w}.js`),
                '../wiring/*',
                ...(EXCEPTIONS[layer]?.includes('metrics') ? [] : ['../metrics.js']),
              ],
              allowTypeImports: true,
              message: `src/${layer} must not import other adapters or the wiring (see eslint.config.js: layers).`,
            },
          ],
        },
      ],
    },
  };
});

export default tseslint.config(
  { ignores: ['node_modules/**', 'bench/results/**', 'dist/**', 'src/generated/**', '.tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The core is pure: it may import only from core itself (and nothing that does I/O).
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['../*', '!../core/*'], message: 'src/core must not import adapters; only core modules.' },
            { group: ['node:*', 'fs', 'net', 'http', 'https', 'dgram', 'child_process'], message: 'src/core is pure: no I/O modules.' },
            { group: ['@grpc/*', 'pino', 'prom-client', 'systeminformation', 'undici', 'yaml'], message: 'src/core is pure: no adapter libraries.' },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: 'core is pure: time is passed in' },
        { name: 'setInterval', message: 'core is pure: time is passed in' },
      ],
      'no-restricted-properties': ['error', { object: 'Date', property: 'now', message: 'core is pure: inject the clock' }],
    },
  },
  ...fences,
);
