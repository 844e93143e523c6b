import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** The placeholder the shipped bootstraps carry where the proxy token goes (Envoy does not expand variables). */
export const PROXY_TOKEN_PLACEHOLDER = '${HEALTHMESH_PROXY_TOKEN}';

/**
 * Writes a copy of `bootstrap` with the proxy token in place of the placeholder into a fresh
 * private temp directory (mode 0600: the file holds a credential) and returns its path.
 */
export function renderBootstrap(bootstrap: string, proxyToken: string): string {
  const text = readFileSync(bootstrap, 'utf8');
  if (!text.includes(PROXY_TOKEN_PLACEHOLDER)) throw new Error(`${bootstrap}: no ${PROXY_TOKEN_PLACEHOLDER} placeholder for the proxy token`);
  const dir = mkdtempSync(join(tmpdir(), 'healthmesh-envoy-'));
  const out = join(dir, 'envoy.yaml');
  writeFileSync(out, text.replaceAll(PROXY_TOKEN_PLACEHOLDER, proxyToken), { mode: 0o600 });
  return out;
}

/** Where `envoy` is: the path scripts/ensure-envoy.mjs recorded, else the first on PATH. */
export function findEnvoy(root: string): string | undefined {
  const cache = join(root, 'node_modules', '.cache', 'healthmesh', 'envoy-path');
  if (existsSync(cache)) {
    const p = readFileSync(cache, 'utf8').trim();
    if (p && existsSync(p)) return p;
  }
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, 'envoy'))) return join(dir, 'envoy');
  }
  return undefined;
}

/** Start Envoy with a bootstrap file; its output goes to `onLine` (errors only). */
export function startEnvoyProcess(binary: string, bootstrap: string, onLine: (line: string) => void): ChildProcess {
  const child = spawn(binary, ['-c', bootstrap, '--disable-hot-restart', '--concurrency', '1', '-l', 'error'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const forward = (b: Buffer): void => {
    for (const line of b.toString().split('\n')) if (line.trim()) onLine(line);
  };
  child.stdout?.on('data', forward);
  child.stderr?.on('data', forward);
  return child;
}
