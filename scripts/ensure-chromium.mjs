#!/usr/bin/env node
// Makes sure Debian's Chromium is installed for the HTML report browser test (playwright-core drives it;
// test tools' own browser downloads are unreachable here). Installs it with apt-get when missing and
// running as root; otherwise says how, and fails (the browser test must fail, not skip, without it).
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

export const CHROMIUM = process.env.HEALTHMESH_CHROMIUM ?? '/usr/bin/chromium';

function runnable(bin) {
  try {
    accessSync(bin, constants.X_OK);
  } catch {
    return false;
  }
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  return !r.error && r.status === 0;
}

function main() {
  if (runnable(CHROMIUM)) return 0;
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (root && spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0) {
    console.log(`healthmesh: ${CHROMIUM} not found, installing Debian's chromium with apt-get (for the HTML report browser test)`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'chromium'], { stdio: 'inherit', env });
    if (runnable(CHROMIUM)) return 0;
  }
  console.error(
    `healthmesh: Chromium is required by the HTML report browser test; install it with: sudo apt-get install -y chromium (expected at ${CHROMIUM})`,
  );
  return 1;
}

process.exitCode = main();
