/**
 * Whether etcd answers, as seen by this replica's calls and watch streams: "etcd unreachable since T"
 * for the status service and /readyz. Fed by every etcd call (see etcdCall in client.ts).
 */
export interface EtcdStatusSnapshot {
  reachable: boolean;
  /** Epoch ms of the first failure of the current outage; null while reachable. */
  unreachableSince: number | null;
  lastError: string | null;
  /** Epoch ms of the last successful call. */
  lastOkAt: number | null;
}

export class EtcdStatus {
  private state: EtcdStatusSnapshot = { reachable: true, unreachableSince: null, lastError: null, lastOkAt: null };
  private readonly listeners = new Set<(s: EtcdStatusSnapshot) => void>();

  constructor(private readonly now: () => number = Date.now) {}

  ok(): void {
    const wasDown = !this.state.reachable;
    this.state = { reachable: true, unreachableSince: null, lastError: null, lastOkAt: this.now() };
    if (wasDown) this.emit();
  }

  failed(err: unknown): void {
    const wasUp = this.state.reachable;
    this.state = {
      ...this.state,
      reachable: false,
      unreachableSince: this.state.unreachableSince ?? this.now(),
      lastError: err instanceof Error ? err.message : String(err),
    };
    if (wasUp) this.emit();
  }

  snapshot(): EtcdStatusSnapshot {
    return { ...this.state };
  }

  /** "etcd reachable" or "etcd unreachable since 2026-11-27T03:40:00.000Z (<last error>)". */
  describe(): string {
    const s = this.state;
    if (s.reachable) return 'etcd reachable';
    return `etcd unreachable since ${new Date(s.unreachableSince ?? 0).toISOString()} (${s.lastError ?? 'unknown error'})`;
  }

  /** Called on each reachable <-> unreachable transition; returns an unsubscribe function. */
  onChange(listener: (s: EtcdStatusSnapshot) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(): void {
    const snap = this.snapshot();
    for (const l of this.listeners) {
      try {
        l(snap);
      } catch {
        // a listener's bug must not break etcd bookkeeping
      }
    }
  }
}
