/**
 * LeaderElection: at most one leader among the replicas (e.g. for the alert webhook sink). The leader
 * holds `<prefix>/leader/<name>`, created only when absent and bound to the candidate's own lease.
 * Candidates watch the key and campaign as soon as it is deleted (leader resigned, lease revoked or
 * expired), and retry every TTL/3 anyway.
 *
 * Fencing: the leader steps down by itself (onResigned) when its lease has not been renewed for 2/3 of
 * the TTL, i.e. before etcd can let it expire and elect someone else, so two replicas never both
 * believe they lead while their clocks run at the same speed. etcd3's own Election has no such step-down.
 */
import type { Etcd3, Lease } from 'etcd3';
import { etcdCall } from './client.js';
import { leaderKey } from './keys.js';
import { PrefixWatch, readPrefix } from './prefix-watch.js';
import type { EtcdStatus } from './status.js';

export interface LeaderElectionOptions {
  /** The configured key prefix, e.g. `/healthmesh`. */
  prefix: string;
  /** What is being led, e.g. `alerts`. */
  name: string;
  candidateId: string;
  /** Default 5 s. */
  ttlSeconds?: number;
  status: EtcdStatus;
  onElected?: () => void;
  onResigned?: (reason: string) => void;
  onError?: (err: Error) => void;
  now?: () => number;
}

export class LeaderElection {
  private lease: Lease | undefined;
  private currentLeaseId: string | undefined;
  private lastRenewal = 0;
  private leading = false;
  private running = false;
  private busy = false;
  private timer: NodeJS.Timeout | undefined;
  private watch: PrefixWatch | undefined;
  private readonly key: string;
  private readonly ttl: number;
  private readonly now: () => number;

  constructor(
    private readonly client: Etcd3,
    private readonly opts: LeaderElectionOptions,
  ) {
    this.key = leaderKey(opts.prefix, opts.name);
    this.ttl = opts.ttlSeconds ?? 5;
    this.now = opts.now ?? Date.now;
  }

  /** Starts campaigning (in the background: failures are retried, reported through onError). */
  start(): void {
    if (this.running) return;
    this.running = true;
    const tickMs = Math.max(200, Math.floor((this.ttl * 1000) / 3));
    this.timer = setInterval(() => void this.tick(), tickMs);
    void this.startWatch();
    void this.tick();
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** The candidate's lease, undefined before its first grant. */
  leaseId(): string | undefined {
    return this.currentLeaseId;
  }

  /** The current leader's candidate id as etcd has it. */
  async leader(): Promise<string | undefined> {
    const v = await etcdCall(this.opts.status, `get ${this.key}`, () => this.client.get(this.key).string());
    return v ?? undefined;
  }

  /**
   * Stops campaigning. `revoke: true` (default): a leader resigns at once (revoking its lease deletes
   * its key). `revoke: false` only stops the keepalives, like a crashed process: the key expires after the TTL.
   */
  async stop(opts: { revoke?: boolean } = {}): Promise<void> {
    this.running = false;
    if (this.timer) clearInterval(this.timer);
    await this.watch?.cancel();
    this.stepDown('stopped');
    const lease = this.lease;
    this.lease = undefined;
    this.currentLeaseId = undefined;
    if (!lease) return;
    if (opts.revoke ?? true) await lease.revoke().catch((e: unknown) => this.report(e));
    else lease.release();
  }

  private async startWatch(): Promise<void> {
    try {
      const snap = await readPrefix(this.client, this.opts.status, this.key);
      if (!this.running) return;
      this.watch = new PrefixWatch(this.client, this.opts.status, this.key, snap, {
        onPut: () => undefined,
        onDelete: (rel) => {
          if (rel !== '') return; // another election whose name starts with ours
          this.stepDown('leader key deleted');
          void this.tick();
        },
        onError: (e) => this.report(e),
      });
      await this.watch.start();
    } catch (err) {
      this.report(err);
      if (this.running) setTimeout(() => void this.startWatch(), 1000).unref?.();
    }
  }

  private async tick(): Promise<void> {
    if (!this.running || this.busy) return;
    this.busy = true;
    try {
      if (this.leading && this.now() - this.lastRenewal > (this.ttl * 1000 * 2) / 3) {
        this.stepDown(`lease not renewed for ${this.now() - this.lastRenewal} ms`);
      }
      if (!this.leading) await this.campaign();
    } catch (err) {
      this.report(err);
    } finally {
      this.busy = false;
    }
  }

  private async campaign(): Promise<void> {
    const leaseId = await this.ensureLease();
    const key = Buffer.from(this.key);
    const res = await etcdCall(this.opts.status, `campaign ${this.key}`, () =>
      this.client.kv.txn({
        compare: [{ key, target: 'Create', result: 'Equal', create_revision: 0 }],
        success: [{ request_put: { key, value: Buffer.from(this.opts.candidateId), lease: leaseId } }],
        failure: [{ request_range: { key } }],
      }),
    );
    const existing = res.responses[0]?.response_range?.kvs[0];
    const won = res.succeeded || (existing !== undefined && String(existing.lease) === leaseId);
    if (won && this.running && this.currentLeaseId === leaseId && !this.leading) {
      this.lastRenewal = this.now();
      this.leading = true;
      this.safely(() => this.opts.onElected?.());
    }
  }

  private async ensureLease(): Promise<string> {
    if (this.lease && this.currentLeaseId) return this.currentLeaseId;
    const lease = this.client.lease(this.ttl, { autoKeepAlive: true });
    try {
      const id = await etcdCall(this.opts.status, `grant election lease ${this.key}`, () => lease.grant());
      lease.on('keepaliveSucceeded', () => {
        if (lease === this.lease) this.lastRenewal = this.now();
      });
      lease.on('lost', (err) => {
        if (lease !== this.lease) return;
        this.lease = undefined;
        this.currentLeaseId = undefined;
        this.report(err);
        this.stepDown('lease lost');
      });
      this.lease = lease;
      this.currentLeaseId = id;
      this.lastRenewal = this.now();
      return id;
    } catch (err) {
      lease.release();
      throw err;
    }
  }

  private stepDown(reason: string): void {
    if (!this.leading) return;
    this.leading = false;
    this.safely(() => this.opts.onResigned?.(reason));
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.report(err);
    }
  }

  private report(err: unknown): void {
    try {
      this.opts.onError?.(err instanceof Error ? err : new Error(String(err)));
    } catch {
      // nothing escapes into timers or the etcd client's callbacks
    }
  }
}
