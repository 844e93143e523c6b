#!/usr/bin/env node
// Runs the compiled CLI (dist/, from `npm run build`) when it is at least as new as every file in src/;
// otherwise the TypeScript in-process through tsx (no build step). Both are the same code: the build
// only saves tsx's loader (~35 MiB of memory, a thread, and compiling on every start).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const compiled = join(root, 'dist', 'cli.js');

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

const fresh = existsSync(compiled) && statSync(compiled).mtimeMs >= newestSource(join(root, 'src'));
if (fresh) {
  await import(compiled);
} else {
  if (existsSync(compiled)) process.stderr.write('healthmesh: dist/ is older than src/, running the sources through tsx (npm run build to refresh it)\n');
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli.ts');
}
