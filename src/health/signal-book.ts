import type { EndpointKey, EndpointSignals, NodeSample, ProbeOutcome, TrafficSample } from '../core/model.js';
import { emptySignals } from '../core/model.js';
import { median } from '../core/score.js';

/** The cluster's peer latency is recomputed at most this often (it is a median: it moves slowly). */
const PEER_LATENCY_REFRESH_MS = 1000;
/** Fewer measured endpoints than this: no peer latency (a median of two says nothing about who is slow). */
const PEER_LATENCY_MIN_ENDPOINTS = 3;

const clusterOf = (key: EndpointKey): string => key.slice(0, key.indexOf('/'));

interface Mutable {
  probes: ProbeOutcome[];
  consecutiveOk: number;
  consecutiveFail: number;
  probeCount: number;
  traffic: TrafficSample[];
  node?: NodeSample | undefined;
  actively: boolean;
  /** Median latency of the passing probes in the window (undefined: none). */
  latencyMedian?: number | undefined;
}

interface PeerLatency {
  value: number | undefined;
  at: number;
  dirty: boolean;
}

/**
 * The recent signals per endpoint, bounded: the last `probeWindow` probes, load reports younger
 * than `trafficWindowMs`, the latest heartbeat (until it is older than `nodeDetachAfterMs`: a node
 * silent that long is detached and its last sample stops counting). Dependencies are kept per cluster.
 */
export class SignalBook {
  private readonly endpoints = new Map<EndpointKey, Mutable>();
  /** cluster → dependency name → last failure detail (absent: passing). */
  private readonly failingDeps = new Map<string, Map<string, string>>();
  private readonly byCluster = new Map<string, Set<EndpointKey>>();
  private readonly peerLatency = new Map<string, PeerLatency>();

  constructor(
    private probeWindow: number,
    private readonly trafficWindowMs: number,
    private nodeDetachAfterMs = Number.POSITIVE_INFINITY,
  ) {}

  setProbeWindow(n: number): void {
    this.probeWindow = n;
  }

  setNodeDetachAfter(ms: number): void {
    this.nodeDetachAfterMs = ms;
  }

  ensure(key: EndpointKey, actively: boolean): void {
    const e = this.endpoints.get(key);
    if (!e) {
      this.endpoints.set(key, { ...emptySignals(actively), probes: [], traffic: [] });
      const c = clusterOf(key);
      let keys = this.byCluster.get(c);
      if (!keys) this.byCluster.set(c, (keys = new Set()));
      keys.add(key);
    } else if (e.actively !== actively) {
      e.actively = actively;
      if (!actively) Object.assign(e, { probes: [], consecutiveOk: 0, consecutiveFail: 0 });
    }
  }

  delete(key: EndpointKey): void {
    this.endpoints.delete(key);
    const c = clusterOf(key);
    const keys = this.byCluster.get(c);
    keys?.delete(key);
    if (keys?.size === 0) {
      this.byCluster.delete(c);
      this.peerLatency.delete(c);
    } else this.markPeerLatency(c);
  }

  has(key: EndpointKey): boolean {
    return this.endpoints.has(key);
  }

  recordProbe(key: EndpointKey, outcome: ProbeOutcome): void {
    const e = this.endpoints.get(key);
    if (!e) return;
    e.probes.push(outcome);
    if (e.probes.length > this.probeWindow) e.probes.splice(0, e.probes.length - this.probeWindow);
    e.probeCount += 1;
    if (outcome.ok) {
      e.consecutiveOk += 1;
      e.consecutiveFail = 0;
    } else {
      e.consecutiveFail += 1;
      e.consecutiveOk = 0;
    }
    const before = e.latencyMedian;
    e.latencyMedian = median(e.probes.filter((p) => p.ok).map((p) => p.latencyMs));
    if (e.latencyMedian !== before) this.markPeerLatency(clusterOf(key));
  }

  private markPeerLatency(cluster: string): void {
    const p = this.peerLatency.get(cluster);
    if (p) p.dirty = true;
    else this.peerLatency.set(cluster, { value: undefined, at: Number.NEGATIVE_INFINITY, dirty: true });
  }

  /**
   * The cluster's typical probe latency: the median of its endpoints' median latencies (adaptive
   * latency compares each endpoint with it). Recomputed lazily, at most once per second.
   */
  clusterLatency(cluster: string, now: number): number | undefined {
    const p = this.peerLatency.get(cluster);
    if (!p) return undefined;
    if (p.dirty && now - p.at >= PEER_LATENCY_REFRESH_MS) {
      const medians: number[] = [];
      for (const k of this.byCluster.get(cluster) ?? []) {
        const m = this.endpoints.get(k)?.latencyMedian;
        if (m !== undefined) medians.push(m);
      }
      p.value = medians.length >= PEER_LATENCY_MIN_ENDPOINTS ? median(medians) : undefined;
      p.at = now;
      p.dirty = false;
    }
    return p.value;
  }

  recordTraffic(key: EndpointKey, sample: TrafficSample): boolean {
    const e = this.endpoints.get(key);
    if (!e) return false;
    e.traffic.push(sample);
    this.pruneTraffic(e, sample.at);
    return true;
  }

  recordHeartbeat(key: EndpointKey, sample: NodeSample): boolean {
    const e = this.endpoints.get(key);
    if (!e) return false;
    e.node = sample;
    return true;
  }

  recordDependency(cluster: string, name: string, outcome: ProbeOutcome): void {
    let deps = this.failingDeps.get(cluster);
    if (!deps) this.failingDeps.set(cluster, (deps = new Map()));
    if (outcome.ok) deps.delete(name);
    else deps.set(name, outcome.detail);
  }

  forgetDependencies(cluster: string, keep: ReadonlySet<string>): void {
    const deps = this.failingDeps.get(cluster);
    for (const name of deps?.keys() ?? []) if (!keep.has(name)) deps?.delete(name);
  }

  /** Signals that age: heartbeats (late/lost) and load reports (they leave the window). */
  hasTimedSignals(key: EndpointKey): boolean {
    const e = this.endpoints.get(key);
    return !!e && (e.node !== undefined || e.traffic.length > 0);
  }

  /** A read-only view for the core (cheap: arrays are shared, not copied). */
  view(key: EndpointKey, cluster: string, now: number): EndpointSignals | undefined {
    const e = this.endpoints.get(key);
    if (!e) return undefined;
    this.pruneTraffic(e, now);
    if (e.node && now - e.node.at > this.nodeDetachAfterMs) e.node = undefined;
    const deps = this.failingDeps.get(cluster);
    return {
      probes: e.probes,
      consecutiveOk: e.consecutiveOk,
      consecutiveFail: e.consecutiveFail,
      probeCount: e.probeCount,
      traffic: e.traffic,
      node: e.node,
      actively: e.actively,
      peerLatencyMs: this.clusterLatency(cluster, now),
      failingDependencies: deps ? [...deps].map(([name, detail]) => ({ name, detail })) : [],
    };
  }

  private pruneTraffic(e: Mutable, now: number): void {
    const cutoff = now - this.trafficWindowMs;
    let drop = 0;
    while (drop < e.traffic.length && (e.traffic[drop]?.at ?? 0) < cutoff) drop++;
    if (drop > 0) e.traffic.splice(0, drop);
  }
}
