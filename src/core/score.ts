import type { EndpointSignals, ProbeOutcome } from './model.js';
import type { CheckPolicy, NodePolicy, ScoringPolicy } from './policy.js';

/** Structured facts behind the reasons, for alert rules (reasons are for humans). */
export interface ScoreFacts {
  /** The node agent reporting for this endpoint, and how stale its last heartbeat is. */
  nodeId?: string | undefined;
  heartbeat?: 'late' | 'lost' | undefined;
  /** Node resources above their limits. */
  pressure: Array<'cpu' | 'memory' | 'disk'>;
  /** Median latency of the passing probes in the window, and the cluster's median it was compared with. */
  latencyMs?: number | undefined;
  peerLatencyMs?: number | undefined;
  /** Real traffic (LRS) in the window: requests and error ratio (only with enough requests to judge). */
  trafficRequests?: number | undefined;
  trafficErrorRate?: number | undefined;
}

export interface ScoreResult {
  facts: ScoreFacts;
  /** 0..100, integer. */
  score: number;
  /** Human-readable causes, worst first: "3 consecutive failed checks (last: HTTP 503)". */
  reasons: string[];
  /** A signal that alone makes the endpoint fail (threshold of failed checks, dead dependency, lost node). */
  hardFail: boolean;
  /** Enough consecutive passing checks (or no active check at all). */
  hardPass: boolean;
  /** A hard failure that no probe can clear: a failing dependency or a node that stopped heartbeating. */
  externalFail: boolean;
}

interface Component {
  score: number;
  weight: number;
}

const round = (n: number): number => Math.round(Math.max(0, Math.min(100, n)));
const pct = (n: number): string => `${Math.round(n)}%`;
const secs = (ms: number): string => (ms >= 10_000 ? `${Math.round(ms / 1000)} s` : `${(ms / 1000).toFixed(1)} s`);
const fmtMs = (ms: number): string => (ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`);

/** Fuse active, passive and node signals into one score with its reasons. Pure. */
export function scoreEndpoint(s: EndpointSignals, policy: { scoring: ScoringPolicy; check: CheckPolicy; node: NodePolicy }, now: number): ScoreResult {
  const reasons: string[] = [];
  const facts: ScoreFacts = { pressure: [] };
  const components: Component[] = [];
  let hardFail = false;
  let externalFail = false;

  if (s.actively && s.probes.length > 0) {
    const active = activeScore(s, policy.scoring, policy.check, reasons, facts);
    components.push({ score: active.score, weight: policy.scoring.weights.active });
    hardFail ||= active.hardFail;
  }
  for (const dep of s.failingDependencies) {
    reasons.unshift(`dependency ${dep.name} failing: ${dep.detail}`);
    hardFail = true;
    externalFail = true;
  }
  const passive = passiveScore(s, policy.scoring, reasons, facts);
  if (passive !== undefined) {
    components.push({ score: passive, weight: policy.scoring.weights.passive });
    hardFail ||= passive === 0;
  }
  const node = nodeScore(s, policy.node, now, reasons, facts);
  if (node) {
    components.push({ score: node.score, weight: policy.scoring.weights.node });
    hardFail ||= node.hardFail;
    externalFail ||= node.hardFail;
  }

  const totalWeight = components.reduce((n, c) => n + c.weight, 0);
  const fused = totalWeight > 0 ? components.reduce((n, c) => n + c.score * c.weight, 0) / totalWeight : 100;
  const score = hardFail ? Math.min(round(fused), policy.scoring.unhealthyBelow > 0 ? policy.scoring.unhealthyBelow - 1 : 0) : round(fused);
  const hardPass = !s.actively || s.consecutiveOk >= policy.check.healthyThreshold;
  return { score: Math.max(0, score), reasons, hardFail, hardPass, externalFail, facts };
}

function activeScore(
  s: EndpointSignals,
  scoring: ScoringPolicy,
  check: CheckPolicy,
  reasons: string[],
  facts: ScoreFacts,
): { score: number; hardFail: boolean } {
  const window = s.probes.slice(-scoring.probeWindow);
  const failed = window.filter((p) => !p.ok);
  const last = s.probes[s.probes.length - 1] as ProbeOutcome;
  // Missing history counts as passing: a single early failure is not a 100% failure ratio.
  let score = 100 * (1 - failed.length / Math.max(window.length, scoring.probeWindow));
  const hardFail = s.consecutiveFail >= check.unhealthyThreshold;
  if (hardFail) {
    reasons.push(`${s.consecutiveFail} consecutive failed checks (last: ${last.detail})`);
  } else if (failed.length > 0) {
    reasons.push(`${failed.length} of the last ${window.length} checks failed (last failure: ${failed[failed.length - 1]?.detail})`);
  }
  const latencies = window
    .filter((p) => p.ok)
    .map((p) => p.latencyMs)
    .sort((a, b) => a - b);
  let latencyPenalty = 0;
  if (latencies.length > 0) {
    const median = medianOfSorted(latencies);
    facts.latencyMs = median;
    if (check.latencyThresholdMs !== undefined) {
      const p99 = latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))] as number;
      if (p99 > check.latencyThresholdMs) {
        latencyPenalty = Math.min(60, 30 * (p99 / check.latencyThresholdMs));
        reasons.push(`p99 ${fmtMs(p99)} > ${fmtMs(check.latencyThresholdMs)}`);
      }
    }
    // A single (e.g. the first, cold) probe is no latency profile: judge relative to peers only with enough samples.
    const relative = latencies.length >= scoring.relativeLatencyMinSamples ? relativeLatencyPenalty(median, s.peerLatencyMs, scoring) : 0;
    if (relative > 0) {
      facts.peerLatencyMs = s.peerLatencyMs;
      reasons.push(
        `median latency ${fmtMs(median)} is ${(median / (s.peerLatencyMs as number)).toFixed(1)}x the cluster's ${fmtMs(s.peerLatencyMs as number)}`,
      );
    }
    // Latency counts once: the worse of the absolute and the relative judgement.
    latencyPenalty = Math.max(latencyPenalty, relative);
  }
  score -= latencyPenalty;
  // Failed checks degrade; only the consecutive-failure threshold fails an endpoint on checks alone.
  return { score: hardFail ? round(score) : Math.max(round(score), scoring.unhealthyBelow), hardFail };
}

function passiveScore(s: EndpointSignals, scoring: ScoringPolicy, reasons: string[], facts: ScoreFacts): number | undefined {
  let ok = 0;
  let errors = 0;
  for (const t of s.traffic) {
    ok += t.successes;
    errors += t.errors;
  }
  const total = ok + errors;
  if (total < scoring.passiveMinRequests) return undefined;
  const rate = errors / total;
  facts.trafficRequests = total;
  facts.trafficErrorRate = rate;
  if (rate <= scoring.passiveErrorRateWarn) return 100;
  if (rate >= scoring.passiveErrorRateFail) {
    reasons.unshift(`error rate ${pct(rate * 100)} (${errors}/${total}) >= ${pct(scoring.passiveErrorRateFail * 100)} in real traffic`);
    return 0;
  }
  reasons.push(`error rate ${pct(rate * 100)} (${errors}/${total}) > ${pct(scoring.passiveErrorRateWarn * 100)}`);
  return round(100 * (1 - (rate - scoring.passiveErrorRateWarn) / (scoring.passiveErrorRateFail - scoring.passiveErrorRateWarn)));
}

function nodeScore(s: EndpointSignals, node: NodePolicy, now: number, reasons: string[], facts: ScoreFacts): { score: number; hardFail: boolean } | undefined {
  const n = s.node;
  if (!n) return undefined;
  facts.nodeId = n.nodeId;
  const age = now - n.at;
  if (age > node.failAfterMs) {
    facts.heartbeat = 'lost';
    reasons.unshift(`no heartbeat from node ${n.nodeId} for ${secs(age)}`);
    return { score: 0, hardFail: true };
  }
  if (age > node.heartbeatTimeoutMs) {
    facts.heartbeat = 'late';
    reasons.push(`no heartbeat from node ${n.nodeId} for ${secs(age)}`);
    return { score: 40, hardFail: false };
  }
  let score = 100;
  const over = (label: 'cpu' | 'memory' | 'disk', value: number, max: number): void => {
    if (value > max) {
      score -= 35;
      facts.pressure.push(label);
      reasons.push(`${label} ${pct(value)} > ${pct(max)}`);
    }
  };
  over('cpu', n.cpuPercent, node.cpuPercentMax);
  over('memory', n.memoryPercent, node.memoryPercentMax);
  over('disk', n.diskPercent, node.diskPercentMax);
  return { score: round(score), hardFail: false };
}

function medianOfSorted(sorted: readonly number[]): number {
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** The median of some numbers (undefined for none). */
export function median(values: readonly number[]): number | undefined {
  return values.length === 0 ? undefined : medianOfSorted([...values].sort((a, b) => a - b));
}

/**
 * Adaptive latency: score points lost for a median latency `ratio = median / peers` times the cluster's,
 * `min(50, 25 * log2(ratio / factor))` once ratio >= factor (continuous: 0 at the factor, 25 at twice
 * it, 50 at four times it). Nothing when the host is fast in absolute terms or the cluster is slow as a whole.
 */
export function relativeLatencyPenalty(
  medianMs: number,
  peerMs: number | undefined,
  scoring: Pick<ScoringPolicy, 'relativeLatencyFactor' | 'relativeLatencyMinMs'>,
): number {
  if (peerMs === undefined || medianMs < scoring.relativeLatencyMinMs) return 0;
  const ratio = medianMs / Math.max(peerMs, 0.1);
  if (ratio < scoring.relativeLatencyFactor) return 0;
  return Math.min(50, 25 * Math.log2(ratio / scoring.relativeLatencyFactor));
}
