import type { CheckConfig, ClusterConfig, Config } from '../config/schema.js';
import { assignCluster, resumeMemory, type AssignmentInput, type ClusterAssignment, type EndpointAssignment } from '../core/assignment.js';
import { decideEndpoint, hasEvidence, initialMemory, withRememberedScore, type Decision, type EndpointMemory } from '../core/decide.js';
import { realTrafficEvidence, type ClusterVerdict } from '../core/guard.js';
import { endpointKey, type EndpointKey, type NodeSample, type ProbeOutcome, type TrafficSample } from '../core/model.js';
import { WEIGHT_UNIT, type EndpointPolicy } from '../core/policy.js';
import { DEFAULT_OVERPROVISIONING } from '../core/share.js';
import { NotFoundError } from '../errors.js';
import type { Logger } from '../log.js';
import type { ProbeKind } from '../metrics.js';
import type { Member, Membership, MembershipChange } from '../membership/registry.js';
import type { EndpointHealth, HistoryPoint } from '../operations.js';
import { effectiveHealthCheck, endpointPolicy } from './policy.js';
import { SignalBook } from './signal-book.js';

/** What the engine asks of a probe scheduler (src/checks/scheduler.ts provides it). */
export interface ProbeJob {
  id: string;
  target: { address: string; port: number };
  check: CheckConfig;
  intervalMs: number;
  timeoutMs: number;
  jitterPercent: number;
  /** First run within this many ms of being added (default: within one interval). */
  firstWithinMs?: number | undefined;
}

export interface Prober {
  upsert(job: ProbeJob): void;
  remove(id: string): void;
}

export type EngineEvent =
  | { kind: 'endpoint'; at: number; endpoint: EndpointHealth; previous: Decision | undefined }
  | { kind: 'removed'; at: number; key: EndpointKey; cluster: string }
  | { kind: 'cluster'; at: number; cluster: string; verdict: ClusterVerdict; previous: ClusterVerdict | undefined }
  /** The cluster's assignment changed: `changed` endpoints (published fields or memory) and `removed` keys, to persist. */
  | { kind: 'assignment'; at: number; cluster: string; changed: EndpointAssignment[]; removed: EndpointKey[] };

/** A persisted endpoint assignment and when it was saved. */
export interface RestoredAssignment {
  assignment: EndpointAssignment;
  savedAt: number;
}

/** An endpoint's own decision and memory (the guard's input) as its owner replica shared it, and when. */
export interface SharedDecision {
  decision: Decision;
  memory: EndpointMemory;
  at: number;
}

/** A passive signal for an endpoint another replica owns (forwarded to the owner, which counts it once). */
export type ForwardedSignal = { traffic: TrafficSample } | { node: NodeSample };

export interface HealthEngineOptions {
  config: Readonly<Config>;
  membership: Membership;
  prober: Prober;
  logger: Logger;
  now?: () => number;
  /** Called when any cluster's assignment changed what EDS publishes (schedule a snapshot). */
  onPublish?: (cluster: string) => void;
  /**
   * Replicated mode: whether this replica owns the endpoint (probes it and decides it). Endpoints it
   * does not own get no probe job; their decision comes from `setExternal` (the owner's, via etcd).
   * Absent: the engine owns every endpoint (one process).
   */
  owns?: (key: EndpointKey) => boolean;
  /** Replicated mode: an owned endpoint's own decision or memory changed in what it publishes or remembers (share it). */
  onOwnDecision?: (key: EndpointKey, shared: SharedDecision) => void;
  /** Replicated mode: a load report or heartbeat arrived for an endpoint this replica does not own. */
  onForeignSignal?: (key: EndpointKey, signal: ForwardedSignal) => void;
}

/** Recent measurements behind an endpoint's decision, for history and reports. */
export type EndpointMetrics = Pick<HistoryPoint, 'latencyMs' | 'errorRate' | 'cpuPercent' | 'memoryPercent' | 'diskPercent' | 'heartbeatAgeS'>;

interface Tracked {
  key: EndpointKey;
  cluster: string;
  member: Member;
  targetWeight: number;
  policy: EndpointPolicy;
  memory: EndpointMemory;
  /** The endpoint's own decision (before the guard and overlays). */
  decision: Decision;
  /** Taken out of rotation by an operator: published DRAINING whatever its health. */
  drained: boolean;
  /** The active check, when there is one (for on-demand re-checks). */
  job?: ProbeJob | undefined;
  /** This replica probes and decides it (always true without replication). */
  owned: boolean;
  /** The score published before a restart or an ownership move, shown until the first signal arrives. */
  rememberedScore?: number | undefined;
}

const DEP_PREFIX = 'dep:';
/** Warming endpoints get their first probe within this long (or one interval if shorter). */
const WARM_FIRST_PROBE_MS = 1000;
/** Membership changes (registrations) within this window are assigned together. */
const MEMBERSHIP_COALESCE_MS = 5;

/** A node silent this long is detached from its endpoints (its last heartbeat stops counting). */
const nodeDetachAfter = (c: Readonly<Config>): number => c.agents.failAfterMs + c.agents.detachGraceMs;

/**
 * Turns signals into the per-cluster assignment. Signals come in (probe results, load reports,
 * heartbeats), the pure core decides each endpoint, `assignCluster` applies the guard and the
 * operator's overlays, and a change of what is published schedules a snapshot. Membership (config
 * + registrations) says which endpoints exist; a change there touches that endpoint only.
 */
export class HealthEngine {
  private config: Readonly<Config>;
  private readonly book: SignalBook;
  private readonly tracked = new Map<EndpointKey, Tracked>();
  private readonly byCluster = new Map<string, Set<EndpointKey>>();
  private readonly assignments = new Map<string, ClusterAssignment>();
  private readonly depJobs = new Set<string>();
  private readonly listeners = new Set<(e: EngineEvent) => void>();
  /** Persisted assignments not yet claimed by a member (restore before start). */
  private readonly restored = new Map<EndpointKey, RestoredAssignment>();
  /** Clusters whose membership changed since they were last assigned. */
  private readonly dirty = new Set<string>();
  private readonly removedKeys = new Map<string, EndpointKey[]>();
  private readonly warmupWaiters = new Set<() => void>();
  /** Warming endpoints whose first probe has not completed yet. */
  private readonly firstProbePending = new Set<EndpointKey>();
  private timer: NodeJS.Timeout | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private lastFlushMs = 0;
  private started = false;
  private unsubscribe: (() => void) | undefined;
  private readonly now: () => number;
  private readonly log: Logger;
  /** Replicated mode: the owners' decisions as last seen in etcd, by endpoint (owned or not, tracked or not). */
  private readonly external = new Map<EndpointKey, SharedDecision>();
  private readonly replicated: boolean;

  constructor(private readonly opts: HealthEngineOptions) {
    this.config = opts.config;
    this.now = opts.now ?? Date.now;
    this.log = opts.logger;
    this.replicated = opts.owns !== undefined;
    this.book = new SignalBook(opts.config.health.scoring.probeWindow, 3 * opts.config.lrs.reportIntervalMs + 1000, nodeDetachAfter(opts.config));
  }

  /** Hand over the persisted assignments (before start): their endpoints continue where they were. */
  restore(records: Iterable<RestoredAssignment>): number {
    let n = 0;
    for (const r of records) {
      this.restored.set(r.assignment.key, r);
      n++;
    }
    return n;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    const now = this.now();
    for (const cluster of this.config.clusters) {
      for (const m of this.opts.membership.members(cluster.name)) this.track(m, now);
      this.reconcileDependencies(cluster);
    }
    this.restored.clear();
    this.unsubscribe = this.opts.membership.onChange((ch) => this.onMembership(ch));
    for (const cluster of this.config.clusters) this.evaluateCluster(cluster.name, now, true);
    this.timer = setInterval(() => this.tick(), this.config.health.tickMs);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
  }

  /** A new config (after membership took it): re-derive policies and checks, drop vanished clusters. */
  reload(config: Readonly<Config>): void {
    this.config = config;
    this.book.setProbeWindow(config.health.scoring.probeWindow);
    this.book.setNodeDetachAfter(nodeDetachAfter(config));
    const now = this.now();
    const wanted = new Set(config.clusters.map((c) => c.name));
    for (const name of [...this.assignments.keys()]) if (!wanted.has(name)) this.assignments.delete(name);
    for (const name of [...this.byCluster.keys()]) if (!wanted.has(name) && (this.byCluster.get(name)?.size ?? 0) === 0) this.byCluster.delete(name);
    // A removed cluster is never assigned again: hand its endpoints' removal to persistence now.
    for (const [name, removed] of [...this.removedKeys]) {
      if (wanted.has(name)) continue;
      this.removedKeys.delete(name);
      this.emit({ kind: 'assignment', at: now, cluster: name, changed: [], removed });
    }
    for (const cluster of config.clusters) {
      for (const m of this.opts.membership.members(cluster.name)) this.track(m, now);
      this.reconcileDependencies(cluster);
    }
    this.dirty.clear();
    for (const cluster of config.clusters) this.evaluateCluster(cluster.name, now, true);
    for (const id of [...this.depJobs]) {
      const cluster = id.slice(DEP_PREFIX.length, id.indexOf('/', DEP_PREFIX.length));
      if (!wanted.has(cluster)) {
        this.depJobs.delete(id);
        this.opts.prober.remove(id);
      }
    }
    if (this.timer) {
      clearInterval(this.timer);
      this.timer = setInterval(() => this.tick(), config.health.tickMs);
      this.timer.unref?.();
    }
  }

  /**
   * Assign the clusters whose membership changed. Runs shortly after a burst of registrations (one
   * assignment per cluster per burst, so N registrations cost O(N), not O(N²)) and before every read.
   */
  flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.dirty.size === 0) return;
    const now = this.now();
    const clusters = [...this.dirty];
    this.dirty.clear();
    const began = performance.now();
    for (const c of clusters) this.assign(c, now);
    this.lastFlushMs = performance.now() - began;
  }

  /** One endpoint joined, changed or left: decide that endpoint only, assign its cluster soon. */
  private onMembership(ch: MembershipChange): void {
    const now = this.now();
    if (ch.kind === 'removed') this.untrack(ch.member.key, now);
    else {
      this.track(ch.member, now);
      const t = this.tracked.get(ch.member.key);
      if (t) this.evaluate(t, now);
    }
    // Coalesce longer when assigning is costly (large clusters), so a burst stays O(N) overall.
    this.markDirty(ch.member.cluster);
  }

  private track(m: Member, now: number): void {
    const cluster = this.config.clusters.find((c) => c.name === m.cluster);
    if (!cluster) return;
    const check = effectiveHealthCheck(cluster, m.declared);
    const policy = endpointPolicy(this.config, check);
    const targetWeight = m.weight * WEIGHT_UNIT;
    this.book.ensure(m.key, check !== undefined);
    let t = this.tracked.get(m.key);
    if (t) {
      Object.assign(t, { member: m, policy, targetWeight });
    } else {
      const saved = this.restored.get(m.key);
      this.restored.delete(m.key);
      const owned = this.owns(m.key);
      const shared = this.external.get(m.key);
      // Replicated: the owner's last shared state wins over this replica's own journal.
      const memory = shared
        ? owned
          ? resumeMemory(shared.memory, Math.max(0, now - shared.at))
          : shared.memory
        : saved
          ? resumeMemory(saved.assignment.memory, Math.max(0, now - saved.savedAt))
          : initialMemory(now, { warming: check !== undefined });
      const rememberedScore = (shared?.decision ?? saved?.assignment.decision)?.score;
      const view = this.book.view(m.key, m.cluster, now)!;
      const decision =
        !owned && shared ? shared.decision : withRememberedScore(decideEndpoint(memory, view, policy, targetWeight, now).decision, view, rememberedScore);
      t = {
        key: m.key,
        cluster: m.cluster,
        member: m,
        targetWeight,
        policy,
        memory,
        decision,
        drained: saved?.assignment.drained ?? false,
        owned,
        rememberedScore,
      };
      this.tracked.set(m.key, t);
      if (owned) this.share(t, now);
      let keys = this.byCluster.get(m.cluster);
      if (!keys) this.byCluster.set(m.cluster, (keys = new Set()));
      keys.add(m.key);
    }
    const warming = t.memory.warming;
    t.job = check
      ? {
          id: m.key,
          target: { address: m.address, port: m.port },
          check: check.check,
          intervalMs: check.intervalMs,
          timeoutMs: check.timeoutMs,
          jitterPercent: check.jitterPercent,
          firstWithinMs: warming ? Math.min(check.intervalMs, WARM_FIRST_PROBE_MS) : undefined,
        }
      : undefined;
    if (t.job && t.owned) this.opts.prober.upsert(t.job);
    else this.opts.prober.remove(m.key);
    if (t.job && t.owned && warming && !t.decision.reasons[0]?.includes('(last:')) this.firstProbePending.add(m.key);
    else this.firstProbePending.delete(m.key);
  }

  private untrack(key: EndpointKey, now: number): void {
    const t = this.tracked.get(key);
    if (!t) return;
    this.tracked.delete(key);
    this.firstProbePending.delete(key);
    this.byCluster.get(t.cluster)?.delete(key);
    this.book.delete(key);
    this.opts.prober.remove(key);
    const removed = this.removedKeys.get(t.cluster) ?? [];
    removed.push(key);
    this.removedKeys.set(t.cluster, removed);
    this.emit({ kind: 'removed', at: now, key, cluster: t.cluster });
  }

  private reconcileDependencies(cluster: ClusterConfig): void {
    const wanted = new Set(cluster.dependencies.map((d) => d.name));
    for (const d of cluster.dependencies) {
      const id = `${DEP_PREFIX}${cluster.name}/${d.name}`;
      this.depJobs.add(id);
      const interval = cluster.healthCheck?.intervalMs ?? 5000;
      this.opts.prober.upsert({
        id,
        target: { address: d.address, port: d.port },
        check: d.check,
        intervalMs: interval,
        timeoutMs: Math.min(d.timeoutMs, interval),
        jitterPercent: 10,
      });
    }
    for (const id of [...this.depJobs]) {
      if (id.startsWith(`${DEP_PREFIX}${cluster.name}/`) && !wanted.has(id.slice(DEP_PREFIX.length + cluster.name.length + 1))) {
        this.depJobs.delete(id);
        this.opts.prober.remove(id);
      }
    }
    this.book.forgetDependencies(cluster.name, wanted);
  }

  /** A probe finished (wire as the scheduler's onResult). */
  onProbe(id: string, outcome: ProbeOutcome): void {
    const now = this.now();
    if (id.startsWith(DEP_PREFIX)) {
      const rest = id.slice(DEP_PREFIX.length);
      const cluster = rest.slice(0, rest.indexOf('/'));
      this.book.recordDependency(cluster, rest.slice(cluster.length + 1), outcome);
      this.evaluateCluster(cluster, now, false);
      return;
    }
    const t = this.tracked.get(id);
    if (!t || !t.owned) return;
    this.book.recordProbe(id, outcome);
    if (this.evaluate(t, now)) this.assign(t.cluster, now);
    if (this.firstProbePending.delete(id)) for (const w of [...this.warmupWaiters]) w();
  }

  /** A load report for one endpoint (from LRS). Unknown endpoints are ignored. */
  onTraffic(key: EndpointKey, sample: TrafficSample): void {
    const t = this.tracked.get(key);
    if (t && !t.owned) {
      this.opts.onForeignSignal?.(key, { traffic: sample });
      return;
    }
    if (!t || !this.book.recordTraffic(key, sample)) return;
    if (this.evaluate(t, this.now())) this.assign(t.cluster, this.now());
  }

  /** A node agent's heartbeat for the endpoints it hosts. Unknown clusters are refused, unknown endpoints skipped. */
  onHeartbeat(hb: { nodeId: string; endpoints: ReadonlyArray<{ cluster: string; address: string; port: number }>; sample: NodeSample }): { accepted: number } {
    let accepted = 0;
    const dirty = new Set<string>();
    for (const ep of hb.endpoints) {
      if (!this.opts.membership.hasCluster(ep.cluster)) throw new NotFoundError(`cluster "${ep.cluster}"`);
      const key = endpointKey(ep.cluster, ep.address, ep.port);
      const t = this.tracked.get(key);
      if (t && !t.owned) {
        this.opts.onForeignSignal?.(key, { node: hb.sample });
        accepted += 1;
        continue;
      }
      if (!t || !this.book.recordHeartbeat(key, hb.sample)) continue;
      accepted += 1;
      if (this.evaluate(t, this.now())) dirty.add(t.cluster);
    }
    for (const c of dirty) this.assign(c, this.now());
    return { accepted };
  }

  /** Replicated mode: a signal another replica received for an endpoint this one owns. Ignored when not owned here. */
  onForwardedSignal(key: EndpointKey, signal: ForwardedSignal): boolean {
    const t = this.tracked.get(key);
    if (!t || !t.owned) return false;
    const ok = 'traffic' in signal ? this.book.recordTraffic(key, signal.traffic) : this.book.recordHeartbeat(key, signal.node);
    const now = this.now();
    if (ok && this.evaluate(t, now)) this.assign(t.cluster, now);
    return ok;
  }

  /** Take an endpoint out of rotation (published DRAINING) or put it back. */
  setDrained(key: EndpointKey, drained: boolean): EndpointHealth {
    this.flush();
    const t = this.tracked.get(key);
    if (!t) throw new NotFoundError(`endpoint "${key}"`);
    if (t.drained !== drained) {
      t.drained = drained;
      this.log.info({ endpoint: key, drained }, drained ? 'endpoint drained by operator' : 'endpoint returned to rotation by operator');
      this.assign(t.cluster, this.now());
    }
    return this.view(t);
  }

  /** The endpoint's active check, if it has one. */
  probeJob(key: EndpointKey): ProbeJob | undefined {
    return this.tracked.get(key)?.job;
  }

  /** What a probe id checks, as the metrics label it: a cluster dependency, or the endpoint's check kind. */
  probeKind(id: string): ProbeKind {
    const check = id.startsWith(DEP_PREFIX) ? undefined : this.probeJob(id)?.check;
    if (!check) return 'dependency';
    return check.http ? 'http' : check.tcp ? 'tcp' : check.grpc ? 'grpc' : 'custom';
  }

  /** Endpoints still waiting for their first passing check. */
  warmingCount(): number {
    let n = 0;
    for (const t of this.tracked.values()) if (t.memory.warming && t.decision.warming) n++;
    return n;
  }

  /** Resolves once every warming endpoint has had its first check (passing or not), or after `timeoutMs`. */
  warmedUp(timeoutMs: number): Promise<void> {
    if (this.unprobedWarming() === 0 || timeoutMs <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.warmupWaiters.delete(waiter);
        resolve();
      };
      const waiter = (): void => {
        if (this.unprobedWarming() === 0) done();
      };
      const timer = setTimeout(done, timeoutMs);
      this.warmupWaiters.add(waiter);
    });
  }

  private unprobedWarming(): number {
    return this.firstProbePending.size;
  }

  /** Recent measurements behind the decision. */
  metrics(key: EndpointKey): EndpointMetrics | undefined {
    const t = this.tracked.get(key);
    if (!t) return undefined;
    const now = this.now();
    const s = this.book.view(key, t.cluster, now);
    if (!s) return undefined;
    const latencies = s.probes.filter((p) => p.ok).map((p) => p.latencyMs);
    let ok = 0;
    let errors = 0;
    for (const x of s.traffic) {
      ok += x.successes;
      errors += x.errors;
    }
    return {
      latencyMs: latencies.length ? latencies.reduce((a, b) => a + b, 0) / latencies.length : undefined,
      errorRate: ok + errors > 0 ? errors / (ok + errors) : undefined,
      cpuPercent: s.node?.cpuPercent,
      memoryPercent: s.node?.memoryPercent,
      diskPercent: s.node?.diskPercent,
      heartbeatAgeS: s.node ? Math.max(0, (now - s.node.at) / 1000) : undefined,
    };
  }

  endpoints(cluster?: string): EndpointHealth[] {
    this.flush();
    const out: EndpointHealth[] = [];
    const keys = cluster === undefined ? this.tracked.keys() : (this.byCluster.get(cluster) ?? []);
    for (const key of keys) {
      const t = this.tracked.get(key);
      if (t) out.push(this.view(t));
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : 1));
  }

  /** One endpoint (no flush: an endpoint not assigned yet shows its own decision). */
  endpoint(key: EndpointKey): EndpointHealth | undefined {
    const t = this.tracked.get(key);
    return t && this.view(t);
  }

  /** The cluster's current assignment (what EDS publishes for its members). */
  assignment(cluster: string): ClusterAssignment | undefined {
    this.flush();
    return this.assignments.get(cluster);
  }

  /** What is published for one endpoint (no flush: called while a snapshot is built). */
  published(key: EndpointKey): EndpointAssignment | undefined {
    const cluster = key.slice(0, key.indexOf('/'));
    return this.assignments.get(cluster)?.endpoints.get(key);
  }

  /** The endpoint's expected share (0..1) of its cluster's requests through Envoy, per the published assignment. */
  expectedShare(key: EndpointKey): number | undefined {
    const cluster = key.slice(0, key.indexOf('/'));
    return this.assignments.get(cluster)?.shares.get(key);
  }

  /** The cluster's verdict and counts from its current assignment (O(1)). */
  clusterSummary(cluster: string): { verdict: ClusterVerdict; total: number; healthy: number } | undefined {
    this.flush();
    const a = this.assignments.get(cluster);
    return a && { verdict: a.verdict, total: a.endpoints.size, healthy: a.healthy };
  }

  clusters(): Map<string, ClusterVerdict> {
    this.flush();
    const out = new Map<string, ClusterVerdict>();
    for (const [name, a] of this.assignments) out.set(name, a.verdict);
    return out;
  }

  onEvent(listener: (e: EngineEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Advance timers (open periods, ramps, heartbeat age, traffic windows) for every endpoint. */
  tick(): void {
    const now = this.now();
    for (const cluster of this.byCluster.keys()) this.evaluateCluster(cluster, now, false, true);
  }

  private evaluateCluster(cluster: string, now: number, force: boolean, onlyTimed = false): void {
    let changed = force;
    for (const key of this.byCluster.get(cluster) ?? []) {
      const t = this.tracked.get(key);
      if (t && (!onlyTimed || this.hasTimers(t, now)) && this.evaluate(t, now)) changed = true;
    }
    if (changed) this.assign(cluster, now);
  }

  /** Whether time alone can change this endpoint's decision (open period, ramp, heartbeat age, traffic window, forgiven trips). */
  private hasTimers(t: Tracked, now: number): boolean {
    const c = t.memory.circuit;
    if (c.state !== 'closed' || c.trips > 0) return true;
    if (c.closedAt !== undefined && now - c.closedAt < t.policy.recovery.windowMs + 1000) return true;
    return this.book.hasTimedSignals(t.key);
  }

  /** Re-decide one endpoint; true when its assignment may change (published fields or memory). */
  private evaluate(t: Tracked, now: number): boolean {
    // Replicated: another replica decides this endpoint; its decision arrives through setExternal.
    if (!t.owned) return false;
    const signals = this.book.view(t.key, t.cluster, now);
    if (!signals) return false;
    const next = decideEndpoint(t.memory, signals, t.policy, t.targetWeight, now);
    const { memory } = next;
    const decision = withRememberedScore(next.decision, signals, t.rememberedScore);
    if (hasEvidence(signals)) t.rememberedScore = undefined;
    const before = t.decision;
    const memoryChanged =
      memory.circuit !== t.memory.circuit ||
      memory.status !== t.memory.status ||
      memory.warming !== t.memory.warming ||
      memory.weightLevel !== t.memory.weightLevel;
    const okRate = this.config.health.scoring.passiveErrorRateWarn;
    const changed =
      memoryChanged ||
      // What real traffic says about a failing endpoint decides whether the guard trusts it.
      (decision.health === 'UNHEALTHY' && realTrafficEvidence(before, okRate) !== realTrafficEvidence(decision, okRate)) ||
      before.health !== decision.health ||
      before.weight !== decision.weight ||
      before.circuit !== decision.circuit ||
      before.status !== decision.status ||
      before.warming !== decision.warming;
    t.memory = memory;
    // Replicated: the guard's input is what was shared (score and reasons change with every probe and
    // are not shared), so every replica runs the same guard over the same decisions.
    if (changed || !this.replicated) t.decision = decision;
    if (changed) this.share(t, now);
    return changed;
  }

  private owns(key: EndpointKey): boolean {
    return this.opts.owns ? this.opts.owns(key) : true;
  }

  private share(t: Tracked, now: number): void {
    if (!this.opts.onOwnDecision) return;
    try {
      this.opts.onOwnDecision(t.key, { decision: t.decision, memory: t.memory, at: now });
    } catch (err) {
      this.log.error({ err, endpoint: t.key }, 'could not share a decision');
    }
  }

  /**
   * Replicated mode: the owner's shared decision for `key` as etcd has it now (undefined: deleted).
   * Applied at once to an endpoint this replica does not own; kept for when it becomes the owner.
   */
  setExternal(key: EndpointKey, shared: SharedDecision | undefined): void {
    if (shared) this.external.set(key, shared);
    else this.external.delete(key);
    const t = this.tracked.get(key);
    if (!t || t.owned || !shared) return;
    if (t.decision === shared.decision && t.memory === shared.memory) return;
    t.decision = shared.decision;
    t.memory = shared.memory;
    this.markDirty(t.cluster);
  }

  /**
   * Replicated mode: the set of live replicas changed; re-ask `owns` for every endpoint. An endpoint
   * this replica now owns continues from its previous owner's last shared state (like a restore: no
   * circuit reset, the ramp resumes where it was) and gets its probe job; one it no longer owns loses it.
   */
  reown(): { gained: number; lost: number } {
    const now = this.now();
    let gained = 0;
    let lost = 0;
    for (const t of this.tracked.values()) {
      const owned = this.owns(t.key);
      if (owned === t.owned) continue;
      t.owned = owned;
      const shared = this.external.get(t.key);
      if (owned) {
        gained++;
        if (shared) t.memory = resumeMemory(shared.memory, Math.max(0, now - shared.at));
        if (shared) t.rememberedScore = shared.decision.score;
        const view = this.book.view(t.key, t.cluster, now);
        if (view) t.decision = withRememberedScore(decideEndpoint(t.memory, view, t.policy, t.targetWeight, now).decision, view, t.rememberedScore);
        if (t.job) this.opts.prober.upsert(t.job);
        this.share(t, now);
      } else {
        lost++;
        this.opts.prober.remove(t.key);
        this.firstProbePending.delete(t.key);
        // Forget this replica's probes: if it owns the endpoint again later, it starts from the then
        // owner's state with empty windows (like a restore), never from stale probes of its own.
        this.book.delete(t.key);
        this.book.ensure(t.key, t.job !== undefined);
        if (shared) {
          t.decision = shared.decision;
          t.memory = shared.memory;
        }
      }
      this.markDirty(t.cluster);
    }
    if (lost > 0) for (const w of [...this.warmupWaiters]) w();
    return { gained, lost };
  }

  /** Whether this replica probes and decides `key` (always true without replication). */
  isOwned(key: EndpointKey): boolean {
    return this.tracked.get(key)?.owned ?? this.owns(key);
  }

  private markDirty(cluster: string): void {
    this.dirty.add(cluster);
    if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => this.flush(), Math.max(MEMBERSHIP_COALESCE_MS, 4 * this.lastFlushMs));
      this.flushTimer.unref?.();
    }
  }

  /** Assign the cluster from its endpoints' decisions; publish and persist what changed. */
  private assign(cluster: string, now: number): void {
    const keys = this.byCluster.get(cluster);
    if (!keys) return;
    const inputs: AssignmentInput[] = [];
    for (const key of keys) {
      const t = this.tracked.get(key);
      if (t) inputs.push({ key, decision: t.decision, memory: t.memory, drained: t.drained, override: t.member.declared?.health });
    }
    const previous = this.assignments.get(cluster);
    const cc = this.config.clusters.find((c) => c.name === cluster);
    const envoy = {
      lbPolicy: cc?.lbPolicy ?? 'ROUND_ROBIN',
      panicThresholdPercent: cc?.panicThresholdPercent ?? 0,
      overprovisioningFactor: DEFAULT_OVERPROVISIONING,
    } as const;
    const guard = { ...this.config.health.guard, realTrafficOkErrorRate: this.config.health.scoring.passiveErrorRateWarn };
    const next = assignCluster(cluster, inputs, { guard, minWeightPercent: this.config.health.recovery.minWeightPercent, envoy }, now, previous);
    if (next.correction && next.correction !== previous?.correction)
      this.log.warn({ cluster, correction: next.correction }, 'publish corrected: too much traffic would go to failing endpoints');
    this.assignments.set(cluster, next);
    const removed = this.removedKeys.get(cluster) ?? [];
    this.removedKeys.delete(cluster);
    const changed: EndpointAssignment[] = [];
    let publish = removed.length > 0 || !previous;
    for (const [key, a] of next.endpoints) {
      const prev = previous?.endpoints.get(key);
      const d = a.decision;
      const p = prev?.decision;
      if (
        prev &&
        prev.memory === a.memory &&
        prev.drained === a.drained &&
        p?.health === d.health &&
        p.weight === d.weight &&
        p.circuit === d.circuit &&
        p.status === d.status &&
        p.guarded === d.guarded &&
        p.warming === d.warming
      )
        continue;
      changed.push(a);
      if (!p || p.health !== d.health || p.weight !== d.weight) publish = true;
      if (p && (p.health !== d.health || p.circuit !== d.circuit || p.status !== d.status)) {
        this.log.info(
          { endpoint: key, from: `${p.status}/${p.circuit}`, to: `${d.status}/${d.circuit}`, score: d.score, weight: d.weight, reasons: d.reasons },
          'endpoint health changed',
        );
      } else if (p && p.weight !== d.weight) {
        this.log.info({ endpoint: key, from: p.weight, to: d.weight, score: d.score, reasons: d.reasons }, 'endpoint weight changed');
      }
      const t = this.tracked.get(key);
      if (t && (!p || p.health !== d.health || p.weight !== d.weight || p.circuit !== d.circuit || p.status !== d.status || p.guarded !== d.guarded)) {
        this.emit({ kind: 'endpoint', at: now, endpoint: this.view(t), previous: p });
      }
    }
    if (changed.length > 0 || removed.length > 0) this.emit({ kind: 'assignment', at: now, cluster, changed, removed });
    if (publish) this.opts.onPublish?.(cluster);
    const verdict = next.verdict;
    const pv = previous?.verdict;
    if (
      !pv ||
      pv.ejected !== verdict.ejected ||
      pv.guarded !== verdict.guarded ||
      pv.failing !== verdict.failing ||
      pv.total !== verdict.total ||
      pv.reason !== verdict.reason
    ) {
      if (verdict.guarded > 0 || verdict.allFailing) this.log.warn({ cluster, ...verdict }, 'mass failure: the guard keeps failing endpoints in rotation');
      this.emit({ kind: 'cluster', at: now, cluster, verdict, previous: pv });
    }
  }

  private view(t: Tracked): EndpointHealth {
    const a = this.assignments.get(t.cluster)?.endpoints.get(t.key);
    const m = t.member;
    return {
      drained: t.drained,
      key: t.key,
      cluster: t.cluster,
      address: m.address,
      port: m.port,
      zone: m.zone,
      decision: a?.decision ?? t.decision,
      changedAt: a?.changedAt ?? this.now(),
      expectedShare: this.assignments.get(t.cluster)?.shares.get(t.key),
    };
  }

  private emit(e: EngineEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch (err) {
        this.log.error({ err }, 'engine event listener failed');
      }
    }
  }
}
