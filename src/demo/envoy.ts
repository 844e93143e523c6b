import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';

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
