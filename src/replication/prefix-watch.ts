/**
 * Follows every change under one etcd prefix from a known revision, in order, across disconnects:
 * after a broken stream it re-watches from (last delivered revision + 1); when etcd can no longer
 * serve that revision (compacted) it reloads the prefix and delivers the difference. Handlers never
 * throw out of here: their errors go to onError.
 */
import type { Etcd3, IKeyValue, Watcher } from 'etcd3';
import { etcdCall } from './client.js';
import type { EtcdStatus } from './status.js';

export interface RawEntry {
  /** Key relative to the prefix. */
  key: string;
  value: Buffer;
  modRevision: bigint;
}

export interface RawSnapshot {
  entries: Map<string, RawEntry>;
  /** etcd's revision when the snapshot was read. */
  revision: bigint;
}

export interface PrefixWatchHandlers {
  onPut(entry: RawEntry): void;
  onDelete(key: string, revision: bigint): void;
  onError(err: Error): void;
  /** Stream state changes: false while reconnecting. */
  onConnection?(connected: boolean): void;
}

const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 1000;
/** etcd3's cancel waits for etcd to confirm; do not wait longer than this when etcd is away. */
const CANCEL_WAIT_MS = 2000;

async function cancelWithin(w: Watcher, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    w.cancel().catch(() => undefined),
    new Promise<void>((r) => {
      timer = setTimeout(r, ms);
    }),
  ]);
  clearTimeout(timer);
}

export async function readPrefix(client: Etcd3, status: EtcdStatus, prefix: string): Promise<RawSnapshot> {
  const res = await etcdCall(status, `load ${prefix}`, () => client.getAll().prefix(prefix).exec());
  const entries = new Map<string, RawEntry>();
  for (const kv of res.kvs) {
    const key = kv.key.toString('utf8').slice(prefix.length);
    entries.set(key, { key, value: kv.value, modRevision: BigInt(kv.mod_revision) });
  }
  return { entries, revision: BigInt(res.header.revision) };
}

export class PrefixWatch {
  private watcher: Watcher | undefined;
  private cancelled = false;
  private retryMs = RETRY_MIN_MS;
  private timer: NodeJS.Timeout | undefined;
  /** Keys present as far as delivered events go, with their mod revision (for resyncs). */
  private readonly known = new Map<string, bigint>();
  private delivered: bigint;
  private connected = false;

  constructor(
    private readonly client: Etcd3,
    private readonly status: EtcdStatus,
    private readonly prefix: string,
    from: RawSnapshot,
    private readonly handlers: PrefixWatchHandlers,
  ) {
    for (const e of from.entries.values()) this.known.set(e.key, e.modRevision);
    this.delivered = from.revision;
  }

  /** Resolves once the first watch stream is requested (events are delivered from then on). */
  async start(): Promise<void> {
    await this.open();
  }

  /** Revision up to which every change has been delivered. */
  revision(): bigint {
    return this.delivered;
  }

  isConnected(): boolean {
    return this.connected;
  }

  async cancel(): Promise<void> {
    this.cancelled = true;
    if (this.timer) clearTimeout(this.timer);
    const w = this.watcher;
    this.watcher = undefined;
    if (w) await cancelWithin(w, CANCEL_WAIT_MS);
  }

  private async open(): Promise<void> {
    if (this.cancelled) return;
    let w: Watcher;
    try {
      w = await this.client
        .watch()
        .prefix(this.prefix)
        .startRevision(String(this.delivered + 1n))
        .create();
    } catch (err) {
      // etcd refused the watch itself: typically our revision is compacted already, so reload.
      this.report(err);
      this.scheduleReload();
      return;
    }
    if (this.cancelled) {
      await cancelWithin(w, CANCEL_WAIT_MS);
      return;
    }
    this.watcher = w;
    w.on('connected', () => {
      this.retryMs = RETRY_MIN_MS;
      this.setConnected(true);
      this.status.ok();
    });
    w.on('put', (kv) => this.guard(() => this.put(kv)));
    w.on('delete', (kv) => this.guard(() => this.del(kv)));
    // A broken stream: etcd3 would resume from its own idea of the revision; resume from ours instead.
    w.on('disconnected', (err) => this.guard(() => this.restart(w, err)));
    // Cancelled by etcd (typically: our revision was compacted): reload and deliver the difference.
    w.on('error', (err) => this.guard(() => this.resync(w, err)));
  }

  private put(kv: IKeyValue): void {
    const rev = BigInt(kv.mod_revision);
    if (rev <= this.delivered && this.known.get(this.keyOf(kv)) === rev) return; // duplicate after a resume
    const key = this.keyOf(kv);
    this.known.set(key, rev);
    if (rev > this.delivered) this.delivered = rev;
    this.handlers.onPut({ key, value: kv.value, modRevision: rev });
  }

  private del(kv: IKeyValue): void {
    const rev = BigInt(kv.mod_revision);
    const key = this.keyOf(kv);
    if (!this.known.has(key) && rev <= this.delivered) return; // duplicate after a resume
    this.known.delete(key);
    if (rev > this.delivered) this.delivered = rev;
    this.handlers.onDelete(key, rev);
  }

  private keyOf(kv: IKeyValue): string {
    return kv.key.toString('utf8').slice(this.prefix.length);
  }

  private restart(w: Watcher, err: unknown): void {
    if (w !== this.watcher) return;
    this.setConnected(false);
    this.status.failed(err);
    this.watcher = undefined;
    void w.cancel().catch(() => undefined);
    this.retryLater(() => this.open());
  }

  private resync(w: Watcher, err: unknown): void {
    if (w !== this.watcher) return;
    this.setConnected(false);
    this.report(err);
    // etcd3 has already dropped a watcher it reports as cancelled; cancelling it again would hang.
    this.watcher = undefined;
    this.scheduleReload();
  }

  /** Reads the whole prefix, delivers what changed since the last delivered state, then watches on. */
  private scheduleReload(): void {
    const reload = async (): Promise<void> => {
      if (this.cancelled) return;
      let snap: RawSnapshot;
      try {
        snap = await readPrefix(this.client, this.status, this.prefix);
      } catch (e) {
        this.report(e);
        this.retryLater(reload);
        return;
      }
      for (const key of [...this.known.keys()]) {
        if (!snap.entries.has(key)) {
          this.known.delete(key);
          this.guard(() => this.handlers.onDelete(key, snap.revision));
        }
      }
      for (const e of snap.entries.values()) {
        if (this.known.get(e.key) === e.modRevision) continue;
        this.known.set(e.key, e.modRevision);
        this.guard(() => this.handlers.onPut(e));
      }
      this.delivered = snap.revision;
      await this.open();
    };
    this.retryLater(reload);
  }

  private retryLater(fn: () => Promise<void>): void {
    if (this.cancelled) return;
    if (this.timer) clearTimeout(this.timer);
    const delay = this.retryMs;
    this.retryMs = Math.min(RETRY_MAX_MS, this.retryMs * 2);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void fn().catch((e: unknown) => this.report(e));
    }, delay);
    this.timer.unref?.();
  }

  private setConnected(c: boolean): void {
    if (this.connected === c) return;
    this.connected = c;
    this.guard(() => this.handlers.onConnection?.(c));
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.report(err);
    }
  }

  private report(err: unknown): void {
    try {
      this.handlers.onError(err instanceof Error ? err : new Error(String(err)));
    } catch {
      // nothing may escape into the etcd client's event loop
    }
  }
}
