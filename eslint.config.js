import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['node_modules/**', 'bench/results/**', 'dist/**'] },
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
);
