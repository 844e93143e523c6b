import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');

export interface ServeChild {
  proc: ChildProcess;
  /** When the xDS server said it was listening (ms since epoch, this process's clock). */
  readyAt: number;
  /** Everything the child printed so far. */
  log(): string;
  /** SIGKILL and wait for the exit. */
  kill9(): Promise<void>;
}

/** `healthmesh serve --config FILE` as a real child process (`nodeArgs`: extra Node flags); resolves once its xDS server listens. */
export function startServeChild(configFile: string, opts: { timeoutMs?: number; nodeArgs?: string[] } = {}): Promise<ServeChild> {
  const proc = spawn(process.execPath, [...(opts.nodeArgs ?? []), '--import', 'tsx', join(ROOT, 'src/cli.ts'), 'serve', '--config', configFile], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  return new Promise((resolveStart, reject) => {
    let ready = false;
    const onData = (b: Buffer): void => {
      out += b.toString();
      if (!ready && out.includes('xDS server listening')) {
        ready = true;
        resolveStart({
          proc,
          readyAt: Date.now(),
          log: () => out,
          kill9: () =>
            new Promise<void>((r) => {
              if (proc.exitCode !== null || proc.signalCode !== null) return r();
              proc.once('exit', () => r());
              proc.kill('SIGKILL');
            }),
        });
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.once('exit', (code) => {
      if (!ready) reject(new Error(`control plane exited with ${code}: ${out}`));
    });
    setTimeout(() => {
      if (!ready) {
        proc.kill('SIGKILL');
        reject(new Error(`control plane did not start: ${out}`));
      }
    }, opts.timeoutMs ?? 30_000).unref();
  });
}
