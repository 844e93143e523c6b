/**
 * Runs an AdsLoadClient in a forked child process (bench/ads-load-worker.ts), so the load client's CPU and
 * memory do not show up in the server's figures. The parent talks to it over IPC.
 *
 * Times: the child reports epoch-ms timestamps from its own clock; `clockOffset()` estimates child − parent from
 * IPC ping-pongs (the sample with the smallest round trip wins), and `toParentTime` converts.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { now, type AdsLoadOptions, type Counters, type EndpointView, type EndpointWatch, type StreamDiagnostic, type WaitResult } from './ads-load.js';

export type WorkerRequest =
  | { op: 'open'; opts: AdsLoadOptions; timeoutMs: number }
  | { op: 'warmup'; opts: AdsLoadOptions; timeoutMs: number }
  | { op: 'waitForEndpoint'; watch: EndpointWatch; timeoutMs: number }
  | { op: 'counters' }
  | { op: 'summary' }
  | { op: 'diagnose'; limit: number }
  | { op: 'inspect'; streams: number[]; cluster?: string }
  | { op: 'ping' }
  | { op: 'memory' }
  | { op: 'close' };

export interface OpenResult {
  ok: boolean;
  error?: string;
  diagnostics?: StreamDiagnostic[];
  /** Child clock. */
  startedAt: number;
  syncedAt: number;
  syncDurations: Array<number | null>;
  channels: number;
  summary: Summary;
  /** CPU time the load-client process used while opening (user + system). */
  clientCpuMs: number;
}
export interface Summary {
  streams: number;
  synced: number;
  ended: number;
  gotType: Record<string, number>;
  endCodes: Record<string, number>;
}

type Envelope = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

export class RemoteLoadClient {
  private readonly child: ChildProcess;
  private seq = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private offset = 0;
  private exited: string | undefined;
  private armedResolvers = new Map<number, () => void>();

  private constructor(child: ChildProcess) {
    this.child = child;
    child.on('message', (m: Envelope | { armed: number }) => {
      if ('armed' in m) {
        this.armedResolvers.get(m.armed)?.();
        return;
      }
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.value);
      else p.reject(new Error(m.error));
    });
    child.on('exit', (code, signal) => {
      this.exited = `load client process exited (code ${code}, signal ${signal})`;
      for (const p of this.pending.values()) p.reject(new Error(this.exited));
      this.pending.clear();
    });
  }

  static async start(): Promise<RemoteLoadClient> {
    const worker = fileURLToPath(new URL('./ads-load-worker.ts', import.meta.url));
    const tsx = import.meta.resolve('tsx');
    const child = fork(worker, [], { execArgv: ['--import', tsx], serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const rc = new RemoteLoadClient(child);
    await rc.call({ op: 'ping' }); // loaded (protos parsed, tsx warmed up)
    await rc.calibrate();
    return rc;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Estimated child clock − parent clock in ms, and the round trip of the sample it came from. */
  async calibrate(samples = 25): Promise<{ offset: number; rtt: number }> {
    let best = { offset: 0, rtt: Infinity };
    for (let i = 0; i < samples; i++) {
      const t0 = now();
      const childNow = (await this.call({ op: 'ping' })) as number;
      const t1 = now();
      if (t1 - t0 < best.rtt) best = { offset: childNow - (t0 + t1) / 2, rtt: t1 - t0 };
    }
    this.offset = best.offset;
    return best;
  }

  clockOffset(): number {
    return this.offset;
  }

  toParentTime(childT: number): number {
    return childT - this.offset;
  }

  open(opts: AdsLoadOptions, timeoutMs: number): Promise<OpenResult> {
    return this.call({ op: 'open', opts, timeoutMs }) as Promise<OpenResult>;
  }

  /**
   * Arm a watch in the child. Resolves `armed` once the child has registered it (so a response cannot slip past
   * it), and `result` when every stream matched or the deadline passed.
   */
  async waitForEndpoint(watch: EndpointWatch, timeoutMs: number): Promise<{ result: Promise<WaitResult> }> {
    const id = ++this.seq;
    const armed = new Promise<void>((r) => this.armedResolvers.set(id, r));
    const result = this.send(id, { op: 'waitForEndpoint', watch, timeoutMs }) as Promise<WaitResult>;
    await Promise.race([armed, result]);
    this.armedResolvers.delete(id);
    return { result };
  }

  /** Open a separate set of streams (node ids `warmup-<i>`), wait for them to sync, close them. */
  warmup(opts: AdsLoadOptions, timeoutMs: number): Promise<OpenResult> {
    return this.call({ op: 'warmup', opts, timeoutMs }) as Promise<OpenResult>;
  }

  /** Cumulative counters, plus the load-client process's CPU time so far. */
  counters(): Promise<Counters & { clientCpuMs: number }> {
    return this.call({ op: 'counters' }) as Promise<Counters & { clientCpuMs: number }>;
  }

  summary(): Promise<Summary> {
    return this.call({ op: 'summary' }) as Promise<Summary>;
  }

  diagnose(limit = 3): Promise<StreamDiagnostic[]> {
    return this.call({ op: 'diagnose', limit }) as Promise<StreamDiagnostic[]>;
  }

  /** Diagnostics for given streams, with the endpoints of their latest assignment for `cluster`. */
  inspect(streams: number[], cluster?: string): Promise<Array<StreamDiagnostic & { endpoints?: EndpointView[] }>> {
    return this.call({ op: 'inspect', streams, cluster }) as Promise<Array<StreamDiagnostic & { endpoints?: EndpointView[] }>>;
  }

  memory(): Promise<NodeJS.MemoryUsage> {
    return this.call({ op: 'memory' }) as Promise<NodeJS.MemoryUsage>;
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    try {
      await Promise.race([this.call({ op: 'close' }), new Promise((r) => setTimeout(r, 5000))]);
    } catch {
      /* exiting anyway */
    }
    const t = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  }

  private call(req: WorkerRequest): Promise<unknown> {
    return this.send(++this.seq, req);
  }

  private send(id: number, req: WorkerRequest): Promise<unknown> {
    if (this.exited) return Promise.reject(new Error(this.exited));
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ id, ...req });
    });
  }
}
