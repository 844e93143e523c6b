/**
 * The core's output: one immutable value per cluster saying, for each endpoint, what to publish
 * (health, weight, reasons) and the state that decides its future (circuit with open-until and
 * trips, flap history, ramp start, warming, drain). EDS is built from membership × assignment and
 * nothing else; the assignment is persisted on change and restored before the first snapshot after
 * a restart. Pure: no I/O, time passed in.
 */
import type { Decision, EndpointMemory, PublishedHealth } from './decide.js';
import { guardCluster, type ClusterVerdict } from './guard.js';
import type { EndpointKey } from './model.js';
import type { GuardPolicy } from './policy.js';
import { weightFor } from './recovery.js';
import { capFailingShare, DEFAULT_OVERPROVISIONING, predictShares, type EnvoyLbModel, type ShareInput } from './share.js';

export interface EndpointAssignment {
  readonly key: EndpointKey;
  readonly cluster: string;
  /** What is published (after the guard, a drain or a configured override) and why. */
  readonly decision: Decision;
  /** The breaker, hysteresis and warming state behind it. */
  readonly memory: EndpointMemory;
  /** Taken out of rotation by an operator: published DRAINING whatever its health. */
  readonly drained: boolean;
  /** When the published health or weight last changed (ms since epoch). */
  readonly changedAt: number;
}

export interface ClusterAssignment {
  readonly cluster: string;
  readonly endpoints: ReadonlyMap<EndpointKey, EndpointAssignment>;
  readonly verdict: ClusterVerdict;
  /** Endpoints published HEALTHY (serving at some weight), guard-kept ones not counted. */
  readonly healthy: number;
  /** Each endpoint's expected share (0..1) of the cluster's requests through Envoy (src/core/share.ts). */
  readonly shares: ReadonlyMap<EndpointKey, number>;
  /** Set when the publish was corrected because it would have sent too much traffic to failing endpoints. */
  readonly correction?: string | undefined;
}

/** One endpoint's input to its cluster's assignment. */
export interface AssignmentInput {
  key: EndpointKey;
  /** The endpoint's own decision (before guard and overlays). */
  decision: Decision;
  memory: EndpointMemory;
  drained: boolean;
  /** Health set in the config file for this endpoint: an operator override. */
  override?: PublishedHealth | 'UNKNOWN' | undefined;
}

export interface AssignmentPolicy {
  guard: GuardPolicy;
  minWeightPercent: number;
  /** How Envoy balances this cluster (default: round robin, no panic, overprovisioning 1.4). */
  envoy?: EnvoyLbModel | undefined;
}

const DEFAULT_ENVOY: EnvoyLbModel = { lbPolicy: 'ROUND_ROBIN', panicThresholdPercent: 0, overprovisioningFactor: DEFAULT_OVERPROVISIONING };

/**
 * Assign a cluster: the guard over the endpoints' own decisions, then the operator's overlays.
 * Precedence, strongest first: drained (operator, run time) > `health` in config > guard > decision.
 * `changedAt` carries over from `previous` while the published health and weight stay the same.
 */
export function assignCluster(
  cluster: string,
  inputs: readonly AssignmentInput[],
  policy: AssignmentPolicy,
  now: number,
  previous?: ClusterAssignment,
): ClusterAssignment {
  // Endpoints whose health is fixed by the operator are not the guard's to count or keep.
  const judged = new Map<EndpointKey, Decision>();
  for (const i of inputs) if (!i.drained && i.override === undefined) judged.set(i.key, i.decision);
  const { decisions: guarded, verdict } = guardCluster(judged, policy.guard, policy.minWeightPercent);
  const decided = new Map<EndpointKey, Decision>();
  for (const i of inputs) {
    const guardedDecision = guarded.get(i.key) ?? i.decision;
    decided.set(i.key, i.drained || i.override !== undefined ? overlay(i, guardedDecision) : guardedDecision);
  }
  const envoy = policy.envoy ?? DEFAULT_ENVOY;
  const correction = capFailing(decided, policy, envoy);
  const endpoints = new Map<EndpointKey, EndpointAssignment>();
  let healthy = 0;
  for (const i of inputs) {
    const decision = decided.get(i.key) as Decision;
    if (decision.health === 'HEALTHY' && !decision.guarded) healthy++;
    const before = previous?.endpoints.get(i.key);
    // Unchanged input, unchanged output: keep the previous object (cheap re-assignment of large clusters).
    if (before && before.decision === decision && before.memory === i.memory && before.drained === i.drained) {
      endpoints.set(i.key, before);
      continue;
    }
    const same = before !== undefined && before.decision.health === decision.health && before.decision.weight === decision.weight;
    endpoints.set(i.key, Object.freeze({ key: i.key, cluster, decision, memory: i.memory, drained: i.drained, changedAt: same ? before.changedAt : now }));
  }
  const shares = predictShares(shareInputs(decided), envoy);
  return Object.freeze({
    cluster,
    endpoints,
    verdict: correction ? { ...verdict, reason: [verdict.reason, correction].filter(Boolean).join('; ') } : verdict,
    healthy,
    shares,
    correction,
  });
}

const shareInputs = (decided: ReadonlyMap<EndpointKey, Decision>): Array<ShareInput<EndpointKey>> =>
  [...decided].map(([key, d]) => ({ key, health: d.health, weight: d.weight }));

/**
 * Endpoints healthmesh believes failing but publishes serving (kept by the guard, not vouched for by
 * real traffic) must not get more than `maxFailingSharePercent` of the requests as Envoy splits them:
 * their weights are scaled down in `decided` and the reason returned.
 */
function capFailing(decided: Map<EndpointKey, Decision>, policy: AssignmentPolicy, envoy: EnvoyLbModel): string | undefined {
  const max = policy.guard.maxFailingSharePercent;
  if (max === undefined || max >= 100) return undefined;
  const failing = new Set<EndpointKey>();
  for (const [k, d] of decided) if (d.guarded && !d.vouched) failing.add(k);
  if (failing.size === 0) return undefined;
  const fix = capFailingShare(shareInputs(decided), failing, max / 100, envoy);
  if (!fix) return undefined;
  const pct = (x: number): string => `${Math.round(x * 1000) / 10}%`;
  const why = `expected share of failing endpoints ${pct(fix.before)} > ${max}%: their weights lowered (now ${pct(fix.after)})`;
  for (const [k, w] of fix.weights) {
    const d = decided.get(k) as Decision;
    const weight = weightFor(d.targetWeight, w / d.targetWeight);
    decided.set(k, { ...d, weight, weightFraction: weight / d.targetWeight, reasons: [...d.reasons, why] });
  }
  return why;
}

function overlay(i: AssignmentInput, d: Decision): Decision {
  if (i.drained)
    return { ...d, health: 'DRAINING', weight: d.targetWeight, weightFraction: 0, guarded: false, reasons: [...d.reasons, 'drained by an operator'] };
  if (i.override === undefined) return d;
  const health: PublishedHealth = i.override === 'UNKNOWN' ? 'HEALTHY' : i.override;
  const serving = health === 'HEALTHY' || health === 'DEGRADED';
  return {
    ...d,
    health,
    weight: d.targetWeight,
    weightFraction: serving ? 1 : 0,
    guarded: false,
    warming: false,
    reasons: [...d.reasons, `health set to ${i.override} in the config file`],
  };
}

/** Whether two assignments of an endpoint publish the same thing (EDS health and weight). */
export const samePublished = (a: EndpointAssignment | undefined, b: EndpointAssignment | undefined): boolean =>
  a !== undefined && b !== undefined && a.decision.health === b.decision.health && a.decision.weight === b.decision.weight;

/**
 * Continue from a persisted memory after `downtimeMs` without a control plane. Wall-clock state stays
 * as it was (an open circuit stays open until its time, flap history and backoff persist); the slow-start
 * ramp resumes where it was saved instead of jumping ahead by the downtime; probation counts the new
 * process's probes from zero (a half-open endpoint must pass its probation checks again).
 */
export function resumeMemory(memory: EndpointMemory, downtimeMs: number): EndpointMemory {
  const c = memory.circuit;
  const closedAt = c.state === 'closed' && c.closedAt !== undefined ? c.closedAt + Math.max(0, downtimeMs) : c.closedAt;
  return { ...memory, circuit: { ...c, probationFromProbe: 0, closedAt } };
}
