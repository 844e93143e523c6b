/**
 * Shared plumbing of the health-* sections: a wall clock with sub-millisecond resolution that is comparable across
 * processes on one machine, and a tiny request/response RPC over the IPC channel of a forked tsx child.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

/** Epoch milliseconds with sub-ms resolution; every process on the host reads the same clock. */
export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}

/** user + system CPU milliseconds since `since` (or since process start). */
export function cpuMs(since?: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1000;
}

type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };
type Request = { id: number; cmd: string; args: unknown };

/** Parent side: a forked `node --import tsx <file>` answering `call(cmd, args)`; `{ log }` messages go to `onLog`. */
export class ChildRpc {
  private seq = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private exitedWith: string | undefined;
  readonly exited: Promise<void>;

  private constructor(
    readonly child: ChildProcess,
    onLog: (msg: string) => void,
  ) {
    child.on('message', (m: Reply | { log: string }) => {
      if ('log' in m) {
        onLog(m.log);
        return;
      }
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.value);
      else p.reject(new Error(m.error));
    });
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.exitedWith = `child ${fileName(child)} exited (code ${code}, signal ${signal})`;
        for (const p of this.pending.values()) p.reject(new Error(this.exitedWith));
        this.pending.clear();
        resolve();
      });
    });
  }

  /** Forks `file` (a .ts module next to this one or an absolute path) with tsx; `gc` adds --expose-gc. */
  static start(file: string | URL, opts: { gc?: boolean; onLog?: (msg: string) => void } = {}): ChildRpc {
    const path = file instanceof URL ? fileURLToPath(file) : file;
    const execArgv = [...(opts.gc ? ['--expose-gc'] : []), '--import', import.meta.resolve('tsx')];
    const child = fork(path, [], { execArgv, serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    return new ChildRpc(child, opts.onLog ?? (() => undefined));
  }

  call<T>(cmd: string, args: unknown = {}): Promise<T> {
    if (this.exitedWith) return Promise.reject(new Error(this.exitedWith));
    const id = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ id, cmd, args } satisfies Request);
    });
  }

  /** Asks the child to exit (`exit` command), SIGKILL after `graceMs`. */
  async close(graceMs = 3000): Promise<void> {
    if (this.exitedWith) return;
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.call('exit').catch(() => undefined);
    await this.exited;
    clearTimeout(timer);
  }
}

function fileName(child: ChildProcess): string {
  return child.spawnargs[child.spawnargs.length - 1] ?? 'process';
}

/**
 * Child side: answers requests with `handlers[cmd](args)`. `exit` is built in (runs `onExit`, answers, exits).
 * The child exits by itself when the parent goes away.
 */
export function serveRpc(handlers: Record<string, (args: never) => unknown>, onExit?: () => Promise<void> | void): void {
  if (!process.send) throw new Error('must be started with child_process.fork');
  const send = (m: unknown): void => {
    process.send?.(m);
  };
  process.on('disconnect', () => process.exit(0));
  process.on('message', (m: Request) => {
    if (m.cmd === 'exit') {
      void Promise.resolve(onExit?.())
        .catch(() => undefined)
        .then(() => {
          send({ id: m.id, ok: true, value: true });
          setTimeout(() => process.exit(0), 50);
        });
      return;
    }
    const h = handlers[m.cmd];
    Promise.resolve()
      .then(() => {
        if (!h) throw new Error(`unknown command ${m.cmd}`);
        return (h as (a: unknown) => unknown)(m.args);
      })
      .then(
        (value) => send({ id: m.id, ok: true, value }),
        (err: unknown) => send({ id: m.id, ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
      );
  });
}

/** True when this module is the process entry point (a forked child), e.g. `isMain(import.meta.url)`. */
export function isMain(moduleUrl: string): boolean {
  return !!process.argv[1] && fileURLToPath(moduleUrl) === resolve(process.argv[1]);
}

/** Benchmarks keep nothing and listen on nothing beyond what they measure: in-memory store, no admin. */
export const BENCH_ISOLATION = { store: { path: ':memory:' }, admin: { enabled: false } } as const;
