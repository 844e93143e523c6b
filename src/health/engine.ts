import type { CheckConfig, ClusterConfig, Config } from '../config/schema.js';
import { decideEndpoint, initialMemory, type Decision, type EndpointMemory } from '../core/decide.js';
import { guardCluster, type ClusterVerdict } from '../core/guard.js';
import { endpointKey, type EndpointKey, type NodeSample, type ProbeOutcome, type TrafficSample } from '../core/model.js';
import { WEIGHT_UNIT, type EndpointPolicy } from '../core/policy.js';
import { NotFoundError } from '../errors.js';
import type { Logger } from '../log.js';
import type { HistoryPoint } from '../operations.js';
import type { Topology } from '../xds/topology.js';
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
}

export interface Prober {
  upsert(job: ProbeJob): void;
  remove(id: string): void;
}

export interface EndpointHealth {
  drained: boolean;
  key: EndpointKey;
  cluster: string;
  address: string;
  port: number;
  zone?: string | undefined;
  decision: Decision;
  /** When the published health or weight last changed. */
  changedAt: number;
}

export type EngineEvent =
  | { kind: 'endpoint'; at: number; endpoint: EndpointHealth; previous: Decision | undefined }
  | { kind: 'removed'; at: number; key: EndpointKey; cluster: string }
  | { kind: 'cluster'; at: number; cluster: string; verdict: ClusterVerdict; previous: ClusterVerdict | undefined };

export interface HealthEngineOptions {
  config: Readonly<Config>;
  topology: Topology;
  prober: Prober;
  logger: Logger;
  now?: () => number;
  /** Configured weight of endpoints registered at run time (config endpoints carry theirs). */
  runtimeWeight?: (key: EndpointKey) => number | undefined;
}

/** Recent measurements behind an endpoint's decision, for history and reports. */
export type EndpointMetrics = Pick<HistoryPoint, 'latencyMs' | 'errorRate' | 'cpuPercent' | 'memoryPercent' | 'diskPercent' | 'heartbeatAgeS'>;

interface Tracked {
  key: EndpointKey;
  cluster: string;
  address: string;
  port: number;
  zone?: string | undefined;
  targetWeight: number;
  policy: EndpointPolicy;
  memory: EndpointMemory;
  /** The endpoint's own decision (before the cluster guard). */
  decision: Decision;
  /** The guard's overlay when it keeps this failing endpoint in rotation. */
  guard?: Pick<Decision, 'health' | 'weight' | 'weightFraction' | 'reasons'> | undefined;
  /** What was last published (health, weight) and reported (status, circuit). */
  published: Decision;
  changedAt: number;
  /** Taken out of rotation by an operator: published DRAINING whatever its health. */
  drained: boolean;
  /** The active check, when there is one (for on-demand re-checks). */
  job?: ProbeJob | undefined;
}

const DEP_PREFIX = 'dep:';

/** A node silent this long is detached from its endpoints (its last heartbeat stops counting). */
const nodeDetachAfter = (c: Readonly<Config>): number => c.agents.failAfterMs + c.agents.detachGraceMs;

/**
 * Turns signals into published endpoint health. Signals come in (probe results, load reports,
 * heartbeats), the pure core decides, the guard caps ejections per cluster, and only a change in
 * the quantised output (health or weight) reaches the topology, which coalesces the push.
 */
export class HealthEngine {
  private config: Readonly<Config>;
  private readonly book: SignalBook;
  private readonly tracked = new Map<EndpointKey, Tracked>();
  private readonly byCluster = new Map<string, Set<EndpointKey>>();
  private readonly verdicts = new Map<string, ClusterVerdict>();
  private readonly depJobs = new Set<string>();
  private readonly listeners = new Set<(e: EngineEvent) => void>();
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  private readonly log: Logger;

  constructor(private readonly opts: HealthEngineOptions) {
    this.config = opts.config;
    this.now = opts.now ?? Date.now;
    this.log = opts.logger;
    this.book = new SignalBook(opts.config.health.scoring.probeWindow, 3 * opts.config.lrs.reportIntervalMs + 1000, nodeDetachAfter(opts.config));
  }

  start(): void {
    this.reconcile();
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), this.config.health.tickMs);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  reload(config: Readonly<Config>): void {
    this.config = config;
    this.book.setProbeWindow(config.health.scoring.probeWindow);
    this.book.setNodeDetachAfter(nodeDetachAfter(config));
    this.reconcile();
    if (this.timer) {
      clearInterval(this.timer);
      this.timer = setInterval(() => this.tick(), config.health.tickMs);
      this.timer.unref?.();
    }
  }

  /** Sync tracked endpoints and probe jobs with the topology (after start, reload, registration). */
  reconcile(): void {
    const now = this.now();
    const seen = new Set<EndpointKey>();
    for (const cluster of this.config.clusters) {
      const keys = this.byCluster.get(cluster.name) ?? new Set<EndpointKey>();
      this.byCluster.set(cluster.name, keys);
      for (const ep of this.opts.topology.endpoints(cluster.name)) {
        const key = endpointKey(cluster.name, ep.address, ep.port);
        seen.add(key);
        keys.add(key);
        const declared = cluster.endpoints.find((e) => e.address === ep.address && e.port === ep.port);
        const check = effectiveHealthCheck(cluster, declared);
        const policy = endpointPolicy(this.config, check);
        const targetWeight = (declared?.weight ?? this.opts.runtimeWeight?.(key) ?? 1) * WEIGHT_UNIT;
        this.book.ensure(key, check !== undefined);
        const existing = this.tracked.get(key);
        if (existing) {
          existing.policy = policy;
          existing.targetWeight = targetWeight;
          existing.zone = ep.zone;
        } else {
          const memory = initialMemory(now);
          const { decision } = decideEndpoint(memory, this.book.view(key, cluster.name, now)!, policy, targetWeight, now);
          this.tracked.set(key, { key, cluster: cluster.name, address: ep.address, port: ep.port, zone: ep.zone, targetWeight, policy, memory, decision, published: { ...decision, weight: -1 }, changedAt: now, drained: false });
        }
        const t = this.tracked.get(key)!;
        t.job = check ? { id: key, target: { address: ep.address, port: ep.port }, check: check.check, intervalMs: check.intervalMs, timeoutMs: check.timeoutMs, jitterPercent: check.jitterPercent } : undefined;
        if (t.job) this.opts.prober.upsert(t.job);
        else this.opts.prober.remove(key);
      }
      this.reconcileDependencies(cluster);
    }
    for (const [key, t] of this.tracked) {
      if (seen.has(key)) continue;
      this.tracked.delete(key);
      this.byCluster.get(t.cluster)?.delete(key);
      this.book.delete(key);
      this.opts.prober.remove(key);
      this.emit({ kind: 'removed', at: now, key, cluster: t.cluster });
    }
    for (const name of [...this.byCluster.keys()]) {
      if (!this.config.clusters.some((c) => c.name === name)) {
        this.byCluster.delete(name);
        this.verdicts.delete(name);
      }
    }
    for (const cluster of this.byCluster.keys()) this.evaluateCluster(cluster, now, true);
  }

  private reconcileDependencies(cluster: ClusterConfig): void {
    const wanted = new Set(cluster.dependencies.map((d) => d.name));
    for (const d of cluster.dependencies) {
      const id = `${DEP_PREFIX}${cluster.name}/${d.name}`;
      this.depJobs.add(id);
      const interval = cluster.healthCheck?.intervalMs ?? 5000;
      this.opts.prober.upsert({ id, target: { address: d.address, port: d.port }, check: d.check, intervalMs: interval, timeoutMs: Math.min(d.timeoutMs, interval), jitterPercent: 10 });
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
    if (!t) return;
    this.book.recordProbe(id, outcome);
    if (this.evaluate(t, now)) this.publishCluster(t.cluster, now);
  }

  /** A load report for one endpoint (from LRS). Unknown endpoints are ignored. */
  onTraffic(key: EndpointKey, sample: TrafficSample): void {
    const t = this.tracked.get(key);
    if (!t || !this.book.recordTraffic(key, sample)) return;
    if (this.evaluate(t, this.now())) this.publishCluster(t.cluster, this.now());
  }

  /** A node agent's heartbeat for the endpoints it hosts. Unknown clusters are refused, unknown endpoints skipped. */
  onHeartbeat(hb: { nodeId: string; endpoints: ReadonlyArray<{ cluster: string; address: string; port: number }>; sample: NodeSample }): { accepted: number } {
    let accepted = 0;
    const dirty = new Set<string>();
    for (const ep of hb.endpoints) {
      if (!this.byCluster.has(ep.cluster)) throw new NotFoundError(`cluster "${ep.cluster}"`);
      const key = endpointKey(ep.cluster, ep.address, ep.port);
      const t = this.tracked.get(key);
      if (!t || !this.book.recordHeartbeat(key, hb.sample)) continue;
      accepted += 1;
      if (this.evaluate(t, this.now())) dirty.add(t.cluster);
    }
    for (const c of dirty) this.publishCluster(c, this.now());
    return { accepted };
  }

  /** Take an endpoint out of rotation (published DRAINING) or put it back. */
  setDrained(key: EndpointKey, drained: boolean): EndpointHealth {
    const t = this.tracked.get(key);
    if (!t) throw new NotFoundError(`endpoint "${key}"`);
    if (t.drained !== drained) {
      t.drained = drained;
      this.log.info({ endpoint: key, drained }, drained ? 'endpoint drained by operator' : 'endpoint returned to rotation by operator');
      this.publishCluster(t.cluster, this.now());
    }
    return this.view(t);
  }

  /** The endpoint's active check, if it has one. */
  probeJob(key: EndpointKey): ProbeJob | undefined {
    return this.tracked.get(key)?.job;
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
    const out: EndpointHealth[] = [];
    const keys = cluster === undefined ? this.tracked.keys() : (this.byCluster.get(cluster) ?? []);
    for (const key of keys) {
      const t = this.tracked.get(key);
      if (t) out.push(this.view(t));
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : 1));
  }

  endpoint(key: EndpointKey): EndpointHealth | undefined {
    const t = this.tracked.get(key);
    return t && this.view(t);
  }

  clusters(): Map<string, ClusterVerdict> {
    return new Map(this.verdicts);
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
    if (changed) this.publishCluster(cluster, now);
  }

  /** Whether time alone can change this endpoint's decision (open period, ramp, heartbeat age, traffic window, forgiven trips). */
  private hasTimers(t: Tracked, now: number): boolean {
    const c = t.memory.circuit;
    if (c.state !== 'closed' || c.trips > 0) return true;
    if (c.closedAt !== undefined && now - c.closedAt < t.policy.recovery.windowMs + 1000) return true;
    return this.book.hasTimedSignals(t.key);
  }

  /** Re-decide one endpoint; true when what would be published changed. */
  private evaluate(t: Tracked, now: number): boolean {
    const signals = this.book.view(t.key, t.cluster, now);
    if (!signals) return false;
    const { memory, decision } = decideEndpoint(t.memory, signals, t.policy, t.targetWeight, now);
    const before = t.decision;
    t.memory = memory;
    t.decision = decision;
    return before.health !== decision.health || before.weight !== decision.weight || before.circuit !== decision.circuit || before.status !== decision.status;
  }

  private publishCluster(cluster: string, now: number): void {
    const keys = this.byCluster.get(cluster);
    if (!keys) return;
    const decisions = new Map<EndpointKey, Decision>();
    const drained: EndpointKey[] = [];
    for (const key of keys) {
      const t = this.tracked.get(key);
      if (t?.drained) drained.push(key);
      else if (t) decisions.set(key, t.decision);
    }
    const minWeight = this.config.health.recovery.minWeightPercent;
    const { decisions: guarded, verdict } = guardCluster(decisions, this.config.health.guard, minWeight);
    for (const key of drained) {
      const t = this.tracked.get(key)!;
      guarded.set(key, { ...t.decision, health: 'DRAINING', weightFraction: 0, weight: t.targetWeight, reasons: [...t.decision.reasons, 'drained by an operator'] });
    }
    for (const [key, d] of guarded) {
      const t = this.tracked.get(key)!;
      const prev = t.published;
      t.guard = d.guarded || t.drained ? { health: d.health, weight: d.weight, weightFraction: d.weightFraction, reasons: d.reasons.slice(t.decision.reasons.length) } : undefined;
      if (prev.health === d.health && prev.weight === d.weight && prev.circuit === d.circuit && prev.status === d.status && prev.guarded === d.guarded) continue;
      t.published = d;
      if (prev.health !== d.health || prev.weight !== d.weight) {
        t.changedAt = now;
        this.opts.topology.setEndpoint(cluster, { address: t.address, port: t.port, health: d.health, weight: d.weight });
      }
      if (prev.weight !== -1 && (prev.health !== d.health || prev.circuit !== d.circuit || prev.status !== d.status)) {
        this.log.info({ endpoint: key, from: `${prev.status}/${prev.circuit}`, to: `${d.status}/${d.circuit}`, score: d.score, weight: d.weight, reasons: d.reasons }, 'endpoint health changed');
      }
      this.emit({ kind: 'endpoint', at: now, endpoint: this.view(t), previous: prev.weight === -1 ? undefined : prev });
    }
    const previous = this.verdicts.get(cluster);
    this.verdicts.set(cluster, verdict);
    if (!previous || previous.ejected !== verdict.ejected || previous.guarded !== verdict.guarded || previous.failing !== verdict.failing || previous.total !== verdict.total) {
      if (verdict.guarded > 0 || verdict.allFailing) this.log.warn({ cluster, ...verdict }, 'mass failure: the guard keeps failing endpoints in rotation');
      this.emit({ kind: 'cluster', at: now, cluster, verdict, previous });
    }
  }

  private view(t: Tracked): EndpointHealth {
    const g = t.guard;
    const decision = g ? { ...t.decision, health: g.health, weight: g.weight, weightFraction: g.weightFraction, guarded: !t.drained, reasons: [...t.decision.reasons, ...g.reasons] } : t.decision;
    return { drained: t.drained, key: t.key, cluster: t.cluster, address: t.address, port: t.port, zone: t.zone, decision, changedAt: t.changedAt };
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
