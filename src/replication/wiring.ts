/**
 * Replicated mode wired into the engine (issue 12). Each replica:
 *  - registers itself (ReplicaRegistry: `<prefix>/replicas/<id>`, bound to its lease);
 *  - owns the endpoints that rendezvous hashing over the live replicas gives it: only it probes and
 *    decides them, and it shares each change of their own decision and memory (the guard's input) under
 *    `<prefix>/assignments/<key>` in batched transactions guarded by its ownership claim
 *    (`<prefix>/owners/<key>`, bound to the same lease: no split-brain writes);
 *  - watches the assignments and feeds the decisions of the endpoints it does not own to its engine,
 *    which runs the same deterministic guard, so every replica publishes the same EDS;
 *  - shares runtime registrations (`<prefix>/members/<key>`, acknowledged once etcd committed them) and
 *    drains (`<prefix>/drains/<key>`) and applies everyone's from its watches.
 * While etcd is away the replica keeps its live set, its ownership and its last snapshot, keeps probing
 * what it owns and queues its writes (latest per endpoint) until etcd answers again.
 */
import type { Etcd3 } from 'etcd3';
import type { ReplicationConfig } from './config.js';
import { connectEtcd } from './client.js';
import { ownerOf } from './hash.js';
import { ReplicatedMap, type BatchEntry, type MapWatch } from './map.js';
import { OwnershipClaims } from './ownership.js';
import { ReplicaRegistry } from './registry.js';
import { EtcdStatus } from './status.js';
import { differingSections, type ConfigDigest } from '../config/digest.js';
import type { Ledger } from '../xds/ledger.js';
import { AdsPresence } from './ads-presence.js';
import { etcdAlertDeliveryLog, type AlertDeliveryLog } from './alert-deliveries.js';
import type { Leadership } from './alerts-leader.js';
import { LeaderElection } from './election.js';
import {
  assignmentsPrefix,
  drainsPrefix,
  drainSchema,
  membersPrefix,
  parseRegistration,
  parseSharedDecision,
  parseSignalBatch,
  signalsPrefix,
} from './values.js';
import type { EndpointKey } from '../core/model.js';
import type { ForwardedSignal, HealthEngine, SharedDecision } from '../health/engine.js';
import type { Logger } from '../log.js';
import type { Membership, MembershipChange } from '../membership/registry.js';
import type { HealthmeshService, RegistrationReplica } from '../service.js';
import type { StoredRegistration } from '../store/types.js';

export interface ReplicationOptions {
  config: ReplicationConfig;
  logger: Logger;
  now?: () => number;
  /** Use this client instead of connecting to config.etcd (it is closed on stop either way). */
  client?: Etcd3;
  /** This replica's shared-config digest (src/config/digest.ts), published so replicas can compare. */
  configDigest?: () => ConfigDigest;
}

export interface ReplicationParts {
  engine: HealthEngine;
  membership: Membership;
  service: HealthmeshService;
  /** This replica's ADS streams (the xDS ledger), shared so that LRS on another replica can match them. */
  ledger?: Pick<Ledger, 'openNodeIds' | 'onStreamsChange'>;
}

export interface ReplicationCounters {
  /** Assignment values written to etcd. */
  written: number;
  /** Transactions that wrote them. */
  batches: number;
  /** Writes refused because this replica did not hold the claim (retried while it owns the key). */
  refused: number;
  /** Endpoints gained and lost through live-set changes. */
  gained: number;
  lost: number;
}

const WRITE_DELAY_MS = 10;
/** Forwarded load reports and heartbeats are batched this long. */
const SIGNAL_BATCH_MS = 100;
const RETRY_MIN_MS = 200;
const RETRY_MAX_MS = 2000;
const RECONCILE_DELAY_MS = 50;
const RECONCILE_WAITING_MS = 500;

export class Replication implements RegistrationReplica {
  readonly status: EtcdStatus;
  readonly id: string;
  readonly counters: ReplicationCounters = { written: 0, batches: 0, refused: 0, gained: 0, lost: 0 };
  private readonly client: Etcd3;
  private readonly registry: ReplicaRegistry;
  private readonly claims: OwnershipClaims;
  private readonly members: ReplicatedMap<StoredRegistration>;
  private readonly assignments: ReplicatedMap<SharedDecision>;
  private readonly drains: ReplicatedMap<{ drained: true }>;
  private readonly signals: ReplicatedMap<{ signals: ForwardedSignal[] }>;
  private readonly outbox = new Map<EndpointKey, ForwardedSignal[]>();
  /** Endpoints this replica has forwarded signals for (its `signals/<id>/<key>` keys, deleted when the endpoint leaves). */
  private readonly forwarded = new Set<EndpointKey>();
  private signalTimer: NodeJS.Timeout | undefined;
  private readonly election: LeaderElection;
  private readonly presence: AdsPresence;
  private readonly electedListeners = new Set<() => void>();
  private lastDivergence = '';
  private readonly deliveries: AlertDeliveryLog;
  private readonly watches: MapWatch[] = [];
  private readonly unsubscribe: Array<() => void> = [];
  private live: string[] = [];
  private parts: ReplicationParts | undefined;
  private readonly pending = new Map<EndpointKey, SharedDecision>();
  private writeTimer: NodeJS.Timeout | undefined;
  private writing = false;
  private retryMs = RETRY_MIN_MS;
  private reconcileTimer: NodeJS.Timeout | undefined;
  private reconciling = false;
  private reconcileAgain = false;
  /** The drains as etcd has them (also for endpoints this replica does not know yet: applied when they join). */
  private readonly sharedDrains = new Set<EndpointKey>();
  private engineStarted = false;
  private stopped = false;
  private readonly log: Logger;

  constructor(private readonly opts: ReplicationOptions) {
    const c = opts.config;
    this.id = c.replicaId;
    this.log = opts.logger;
    this.status = new EtcdStatus(opts.now);
    this.client = opts.client ?? connectEtcd({ endpoints: c.etcd.endpoints, requestTimeoutMs: c.etcd.requestTimeoutMs, keepaliveMs: c.etcd.keepaliveMs });
    const onError = (err: Error): void => this.log.warn({ err: err.message }, 'replication');
    this.registry = new ReplicaRegistry(this.client, {
      prefix: c.keyPrefix,
      replicaId: c.replicaId,
      address: c.advertisedAddress,
      leaseTtlSeconds: c.leaseTtlSeconds,
      status: this.status,
      onError,
      now: opts.now,
      ...(opts.configDigest ? { configDigest: opts.configDigest } : {}),
    });
    this.claims = new OwnershipClaims(this.client, {
      prefix: c.keyPrefix,
      replicaId: c.replicaId,
      leaseId: () => this.registry.leaseId(),
      status: this.status,
    });
    this.members = new ReplicatedMap(this.client, { prefix: membersPrefix(c.keyPrefix), parse: parseRegistration, status: this.status, onError });
    this.assignments = new ReplicatedMap(this.client, { prefix: assignmentsPrefix(c.keyPrefix), parse: parseSharedDecision, status: this.status, onError });
    this.drains = new ReplicatedMap(this.client, { prefix: drainsPrefix(c.keyPrefix), parse: (v) => drainSchema.parse(v), status: this.status, onError });
    this.signals = new ReplicatedMap(this.client, { prefix: signalsPrefix(c.keyPrefix), parse: parseSignalBatch, status: this.status, onError });
    this.election = new LeaderElection(this.client, {
      prefix: c.keyPrefix,
      name: 'alerts',
      candidateId: c.replicaId,
      ttlSeconds: c.leaseTtlSeconds,
      status: this.status,
      onError,
      onElected: () => {
        for (const cb of [...this.electedListeners]) cb();
      },
    });
    this.presence = new AdsPresence(this.client, {
      prefix: c.keyPrefix,
      replicaId: c.replicaId,
      registry: this.registry,
      status: this.status,
      logger: this.log,
      local: () => this.parts?.ledger?.openNodeIds() ?? new Set(),
    });
    this.deliveries = etcdAlertDeliveryLog(this.client, { prefix: c.keyPrefix, status: this.status, onError });
    this.status.onChange((s) => {
      if (s.reachable) {
        this.log.info('etcd reachable again');
        // Write what queued up during the outage now rather than at the end of the retry backoff.
        this.retryMs = RETRY_MIN_MS;
        if (this.writeTimer) clearTimeout(this.writeTimer);
        this.writeTimer = undefined;
        this.scheduleWrite(0);
      } else
        this.log.warn({ since: s.unreachableSince, error: s.lastError }, 'etcd unreachable: serving the last snapshot, probing owned endpoints, writes queued');
    });
  }

  /** Whether this replica owns `key` (rendezvous hashing over the live replicas as last seen). */
  owns(key: EndpointKey): boolean {
    return this.live.length === 0 || ownerOf(key, this.live) === this.id;
  }

  /** The live replica ids as last seen in etcd. */
  liveIds(): string[] {
    return [...this.live];
  }

  /**
   * "etcd unreachable since …" while etcd does not answer, and one line per live replica whose shared
   * configuration differs from this one's (for /readyz and the status service).
   */
  degraded(): string[] {
    return [...(this.status.snapshot().reachable ? [] : [this.status.describe()]), ...this.divergence()];
  }

  /** Publishes this replica's config digest again (after a reload). */
  configChanged(): void {
    this.registry.refreshInfo().catch((err: Error) => this.log.warn({ err: err.message }, 'could not publish the reloaded config digest'));
  }

  private divergence(): string[] {
    const mine = this.opts.configDigest?.();
    if (!mine) return [];
    const out: string[] = [];
    for (const [id, info] of this.registry.live()) {
      if (id === this.id || !info.config) continue;
      const diff = differingSections(mine, info.config);
      if (diff.length > 0) out.push(`replica ${id} serves a different configuration (${diff.join(', ')} differ from replica ${this.id}'s)`);
    }
    return out;
  }

  private warnDivergence(): void {
    const now = this.divergence();
    const key = now.join('\n');
    if (key === this.lastDivergence) return;
    this.lastDivergence = key;
    if (now.length > 0)
      this.log.warn({ divergence: now }, 'replicas disagree on the shared configuration: what they serve (listeners, routes, clusters, endpoints) may differ');
    else this.log.info('replicas agree on the shared configuration again');
  }

  /** Whether another live replica holds an ADS stream from `nodeId` (LRS accepts that proxy's reports here too). */
  adsStreamElsewhere(nodeId: string): boolean {
    return this.presence.elsewhere(nodeId);
  }

  /** Whether this replica leads (sends the alert webhook). */
  isLeader(): boolean {
    return this.election.isLeader();
  }

  /** For the leader's webhook: whether this replica leads, when it is elected, and the log of what was posted. */
  leadership(): Leadership {
    return {
      isLeader: () => this.election.isLeader(),
      onElected: (cb) => {
        this.electedListeners.add(cb);
        return () => this.electedListeners.delete(cb);
      },
      deliveries: this.deliveries,
      replicaId: this.id,
    };
  }

  /** Engine, membership and service, once app.ts has built them (before start). */
  bind(parts: ReplicationParts): void {
    this.parts = parts;
  }

  /**
   * Joins the replicas and loads the shared state (before the engine starts): registrations into the
   * membership, the owners' decisions into the engine, then follows all three by watches. Rejects with
   * a typed error (EtcdUnavailableError) when etcd cannot be reached.
   */
  async start(): Promise<void> {
    const { engine, service, membership } = this.require();
    await this.registry.start();
    await this.presence.start();
    const ledger = this.parts?.ledger;
    if (ledger) this.unsubscribe.push(ledger.onStreamsChange(() => this.presence.changed()));
    this.unsubscribe.push(this.registry.onChange(() => this.presence.changed())); // e.g. re-registered with a new lease
    this.live = this.registry.liveIds();
    this.unsubscribe.push(this.registry.onChange(() => this.onLive()));
    this.unsubscribe.push(this.registry.onChange(() => this.warnDivergence()));
    this.warnDivergence();
    const members = await this.members.load();
    for (const r of members.values.values()) service.applyRegistration(r);
    const assignments = await this.assignments.load();
    for (const [key, v] of assignments.values) engine.setExternal(key, v);
    const drains = await this.drains.load();
    // Signals are events: only batches written from now on are applied (each once, by the endpoint's owner).
    const signals = await this.signals.load();
    for (const key of drains.values.keys()) this.sharedDrains.add(key);
    this.watches.push(
      await this.members.watch(members, {
        onPut: (_key, r) => service.applyRegistration(r),
        onDelete: (key) => service.applyDeregistration(key),
      }),
      await this.assignments.watch(assignments, {
        onPut: (key, v) => engine.setExternal(key, v),
        onDelete: (key) => engine.setExternal(key, undefined),
      }),
      await this.drains.watch(drains, {
        onPut: (key) => {
          this.sharedDrains.add(key);
          this.applyDrain(key, true);
        },
        onDelete: (key) => {
          this.sharedDrains.delete(key);
          this.applyDrain(key, false);
        },
      }),
      await this.signals.watch(signals, {
        onPut: (rel, batch) => {
          const slash = rel.indexOf('/');
          if (slash < 0 || rel.slice(0, slash) === this.id) return;
          const key = rel.slice(slash + 1);
          for (const s of batch.signals) engine.onForwardedSignal(key, s);
        },
        onDelete: () => undefined,
      }),
    );
    this.unsubscribe.push(membership.onChange((ch) => this.onMembership(ch)));
    this.log.info({ replica: this.id, live: this.live, registrations: members.values.size, assignments: assignments.values.size }, 'joined the replicas');
  }

  /** After engine.start(): apply the shared drains, claim what this replica owns, campaign for the alerts lead. */
  afterEngineStart(): void {
    this.engineStarted = true;
    for (const key of this.sharedDrains) this.applyDrain(key, true);
    this.scheduleReconcile(0);
    this.election.start();
  }

  /** The engine's onOwnDecision: queue the value, write it in the next batch. */
  share(key: EndpointKey, shared: SharedDecision): void {
    this.pending.set(key, shared);
    this.scheduleWrite(WRITE_DELAY_MS);
  }

  /** The engine's onForeignSignal: a load report or heartbeat for an endpoint another replica owns; sent in the next batch. */
  forward(key: EndpointKey, signal: ForwardedSignal): void {
    const list = this.outbox.get(key) ?? [];
    if (list.length >= 100) list.shift();
    list.push(signal);
    this.outbox.set(key, list);
    if (this.signalTimer || this.stopped) return;
    this.signalTimer = setTimeout(() => {
      this.signalTimer = undefined;
      void this.flushSignals();
    }, SIGNAL_BATCH_MS);
    this.signalTimer.unref?.();
  }

  private async flushSignals(): Promise<void> {
    if (this.outbox.size === 0) return;
    const entries = [...this.outbox].map(([key, signals]) => ({ key: `${this.id}/${key}`, value: { signals } }));
    for (const key of this.outbox.keys()) this.forwarded.add(key);
    this.outbox.clear();
    try {
      await this.signals.putMany(entries);
    } catch (err) {
      // Passive signals are periodic: a lost batch is replaced by the next report.
      this.log.debug({ err: (err as Error).message, endpoints: entries.length }, 'could not forward signals to their owners');
    }
  }

  // RegistrationReplica (src/service.ts)
  async put(r: StoredRegistration): Promise<void> {
    await this.members.durablePut(keyOf(r), r);
  }

  async delete(key: EndpointKey): Promise<void> {
    await this.members.delete(key);
    // A deregistered endpoint's drain goes with it: registered again later, it starts in rotation on every replica.
    if (this.sharedDrains.has(key)) this.drain(key, false);
  }

  drain(key: EndpointKey, drained: boolean): void {
    const op = drained ? this.drains.durablePut(key, { drained: true }) : this.drains.delete(key);
    op.catch((err: unknown) => this.log.warn({ err: (err as Error).message, endpoint: key, drained }, 'could not share a drain with the other replicas'));
  }

  /**
   * Stops. `revoke: true` (default) leaves at once (the other replicas take over this replica's
   * endpoints immediately); `revoke: false` stops like a crash: the lease and claims expire after the TTL.
   */
  async stop(opts: { revoke?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.writeTimer) clearTimeout(this.writeTimer);
    if (this.reconcileTimer) clearTimeout(this.reconcileTimer);
    if (this.signalTimer) clearTimeout(this.signalTimer);
    for (const u of this.unsubscribe.splice(0)) u();
    if (opts.revoke ?? true) await this.flushWrites().catch(() => undefined);
    await Promise.all(this.watches.splice(0).map((w) => w.cancel().catch(() => undefined)));
    await this.presence.stop();
    await this.election.stop(opts).catch(() => undefined);
    await this.registry.stop(opts).catch(() => undefined);
    this.client.close();
  }

  private require(): ReplicationParts {
    if (!this.parts) throw new Error('Replication.bind() must be called before start()');
    return this.parts;
  }

  private onLive(): void {
    const next = this.registry.liveIds();
    if (next.join('\0') === this.live.join('\0')) {
      this.scheduleReconcile(RECONCILE_DELAY_MS); // e.g. our own key re-registered with a new lease
      return;
    }
    this.live = next;
    const { gained, lost } = this.require().engine.reown();
    this.counters.gained += gained;
    this.counters.lost += lost;
    this.log.info({ live: next, gained, lost }, 'live replicas changed; endpoints re-owned');
    this.scheduleReconcile(0);
  }

  private onMembership(ch: MembershipChange): void {
    if (ch.kind === 'removed' && this.forwarded.delete(ch.member.key)) {
      this.outbox.delete(ch.member.key);
      void this.signals
        .delete(`${this.id}/${ch.member.key}`)
        .catch((err: unknown) =>
          this.log.debug({ err: (err as Error).message, endpoint: ch.member.key }, 'could not delete forwarded signals of a removed endpoint'),
        );
    }
    if (ch.kind === 'removed' && ch.member.source === 'runtime' && this.owns(ch.member.key)) {
      const key = ch.member.key;
      this.pending.delete(key);
      const guard = this.claims.guard(key);
      void this.assignments
        .delete(key, guard ? { ifOwner: guard } : {})
        .then(() => this.claims.release([key]))
        .catch((err: unknown) => this.log.debug({ err: (err as Error).message, endpoint: key }, "could not delete a removed endpoint's assignment"));
      return;
    }
    if (ch.kind === 'added') {
      // A drain that arrived before the registration it refers to (two etcd watches, no order between them).
      // After this change's other listeners: the engine subscribed after this one and tracks the endpoint in its own.
      const key = ch.member.key;
      if (this.sharedDrains.has(key)) queueMicrotask(() => this.applyDrain(key, true));
      this.scheduleReconcile(RECONCILE_DELAY_MS);
    }
  }

  private applyDrain(key: EndpointKey, drained: boolean): void {
    if (!this.engineStarted) return; // afterEngineStart applies them all
    const { engine } = this.require();
    const e = engine.endpoint(key);
    if (!e || e.drained === drained) return;
    engine.setDrained(key, drained);
  }

  private scheduleReconcile(delayMs: number): void {
    if (this.stopped) return;
    if (this.reconciling) {
      this.reconcileAgain = true;
      return;
    }
    if (this.reconcileTimer) return;
    this.reconcileTimer = setTimeout(() => {
      this.reconcileTimer = undefined;
      void this.reconcile();
    }, delayMs);
    this.reconcileTimer.unref?.();
  }

  /** Brings this replica's ownership claims in line with hashing; then writes what waited for them. */
  private async reconcile(): Promise<void> {
    if (this.stopped || !this.registry.leaseId()) {
      if (!this.stopped) this.scheduleReconcile(RECONCILE_WAITING_MS);
      return;
    }
    this.reconciling = true;
    let again: boolean;
    try {
      const { membership } = this.require();
      const keys: string[] = [];
      for (const c of membership.clusterNames()) for (const m of membership.members(c)) keys.push(m.key);
      const res = await this.claims.reconcile(keys, this.live);
      // A previous owner still holds some claims: it releases them on its own reconcile or they expire with its lease.
      again = res.waiting.length > 0;
      if (res.released.length > 0 || res.waiting.length > 0)
        this.log.debug({ held: res.held.length, waiting: res.waiting.length, released: res.released.length }, 'ownership claims reconciled');
      this.scheduleWrite(0);
    } catch (err) {
      again = true;
      this.log.debug({ err: (err as Error).message }, 'could not reconcile ownership claims');
    } finally {
      this.reconciling = false;
    }
    if (this.reconcileAgain) {
      this.reconcileAgain = false;
      this.scheduleReconcile(RECONCILE_DELAY_MS);
    } else if (again) this.scheduleReconcile(RECONCILE_WAITING_MS);
  }

  private scheduleWrite(delayMs: number): void {
    if (this.stopped || this.writeTimer || this.pending.size === 0) return;
    this.writeTimer = setTimeout(() => {
      this.writeTimer = undefined;
      void this.flushWrites();
    }, delayMs);
    this.writeTimer.unref?.();
  }

  /** Writes the queued decisions (latest per endpoint) in owner-guarded batches. */
  private async flushWrites(): Promise<void> {
    if (this.writing || this.pending.size === 0) return;
    this.writing = true;
    const { engine } = this.require();
    const batch = [...this.pending];
    this.pending.clear();
    const entries: BatchEntry<SharedDecision>[] = [];
    const requeue = (key: EndpointKey, v: SharedDecision): void => {
      if (!this.pending.has(key)) this.pending.set(key, v);
    };
    let retry = false;
    for (const [key, value] of batch) {
      if (!engine.isOwned(key)) continue; // moved to another replica: it continues from the last value written
      const guard = this.claims.guard(key);
      if (!guard) {
        requeue(key, value);
        retry = true;
        continue;
      }
      entries.push({ key, value, ifOwner: guard });
    }
    try {
      // New endpoints (registered since the last reconcile): claim them before the first write.
      const held = new Set(this.claims.held());
      const unclaimed = entries.filter((e) => !held.has(e.key)).map((e) => e.key);
      if (unclaimed.length > 0) await this.claims.claim(unclaimed);
      if (entries.length > 0) {
        const out = await this.assignments.putMany(entries);
        this.counters.written += out.written.length;
        this.counters.batches += Math.ceil(out.written.length / 64);
        if (out.refused.length > 0) {
          this.counters.refused += out.refused.length;
          const byKey = new Map(entries.map((e) => [e.key, e.value]));
          for (const key of out.refused) if (engine.isOwned(key)) requeue(key, byKey.get(key)!);
          retry = true;
          this.scheduleReconcile(0);
        }
      }
      this.retryMs = RETRY_MIN_MS;
    } catch (err) {
      for (const e of entries) requeue(e.key, e.value);
      retry = true;
      this.log.debug({ err: (err as Error).message, queued: this.pending.size }, 'could not write assignments to etcd; retrying');
      this.retryMs = Math.min(RETRY_MAX_MS, this.retryMs * 2);
    } finally {
      this.writing = false;
    }
    if (this.pending.size > 0) this.scheduleWrite(retry ? this.retryMs : 0);
  }
}

function keyOf(r: StoredRegistration): EndpointKey {
  return `${r.cluster}/${r.address}:${r.port}`;
}

/** Built by app.ts when `replication` is configured. */
export function createReplication(opts: ReplicationOptions): Replication {
  return new Replication(opts);
}
