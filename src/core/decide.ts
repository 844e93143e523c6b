import { closedCircuit, isFlapping, stepCircuit, type Circuit } from './circuit.js';
import type { CircuitState, EndpointSignals, Status } from './model.js';
import type { EndpointPolicy } from './policy.js';
import { rampFraction, weightFor } from './recovery.js';
import { scoreEndpoint, type ScoreFacts } from './score.js';
import { stepWeightLevel, weightReason, type WeightLevel } from './weight.js';

/** What Envoy / gRPC clients are told about an endpoint; DRAINING marks one an operator took out of rotation. */
export type PublishedHealth = 'HEALTHY' | 'DEGRADED' | 'UNHEALTHY' | 'DRAINING';

export interface Decision {
  score: number;
  status: Status;
  circuit: CircuitState;
  health: PublishedHealth;
  weight: number;
  targetWeight: number;
  /** Share of the target weight currently granted (slow start, degradation, probation). */
  weightFraction: number;
  reasons: string[];
  facts: ScoreFacts;
  flapping: boolean;
  /** Kept in rotation by the cluster guard although failing. */
  guarded: boolean;
  /** Guard-kept, and its real traffic (LRS) succeeds: trusted over its checker, kept at its normal weight. */
  vouched?: boolean | undefined;
  /** New endpoint with an active check whose first passing check has not come yet: not served. */
  warming: boolean;
  openUntil?: number | undefined;
}

/** What decides an endpoint's future beyond its signals: persisted with the assignment, restored after a restart. */
export interface EndpointMemory {
  readonly circuit: Circuit;
  /** Status in the closed state, remembered for hysteresis. */
  readonly status: Exclude<Status, 'UNHEALTHY'>;
  /**
   * Never seen passing: an endpoint new to healthmesh (new in config, registered) with an active check is
   * not served until its first check passes, as Envoy's own active health checking does.
   */
  readonly warming: boolean;
  /** The weight level the score earned, with hysteresis and dwell (absent in memories saved before weighting). */
  readonly weightLevel?: WeightLevel | undefined;
}

export const initialMemory = (now: number, opts: { warming?: boolean } = {}): EndpointMemory => ({
  circuit: closedCircuit(now),
  status: 'HEALTHY',
  warming: opts.warming ?? false,
});

/** Whether any signal arrived at all (after a restart the signal windows are empty: no evidence, no change). */
export const hasEvidence = (s: EndpointSignals): boolean =>
  s.probeCount > 0 || s.traffic.length > 0 || s.node !== undefined || s.failingDependencies.length > 0;

/**
 * After a restart (or an ownership move) the signal windows are empty: the decision keeps its remembered
 * health and weight, and, with `rememberedScore` (the score published before), shows that score rather than
 * the 100 an empty window gives, until the first signal arrives.
 */
export function withRememberedScore(d: Decision, signals: EndpointSignals, rememberedScore: number | undefined): Decision {
  if (rememberedScore === undefined || hasEvidence(signals) || d.score === rememberedScore) return d;
  return { ...d, score: rememberedScore, reasons: [...d.reasons, `score ${rememberedScore} as before the restart (no signal since)`] };
}

const secs = (ms: number): string => `${Math.max(0, Math.round(ms / 1000))} s`;

/**
 * One evaluation of one endpoint: score the signals, step the breaker, apply hysteresis and the
 * slow-start ramp, and say what to publish and why. Pure: same inputs, same output.
 */
export function decideEndpoint(
  memory: EndpointMemory,
  signals: EndpointSignals,
  policy: EndpointPolicy,
  targetWeight: number,
  now: number,
): { memory: EndpointMemory; decision: Decision } {
  if (memory.warming) {
    const warm = warmingStep(memory, signals, policy, targetWeight, now);
    if (warm) return warm;
  }
  const prev = memory;
  // After a trip, only signals since probation began count: old failures do not haunt a healed host.
  const since = prev.circuit.state !== 'open' ? prev.circuit.probationStartedAt : undefined;
  const view =
    since === undefined ? signals : { ...signals, probes: signals.probes.filter((p) => p.at >= since), traffic: signals.traffic.filter((t) => t.at >= since) };
  const result = scoreEndpoint(view, policy, now);
  const failing = result.hardFail || result.score < policy.scoring.unhealthyBelow;
  const circuit = stepCircuit(
    prev.circuit,
    {
      now,
      failing,
      externalFail: result.externalFail,
      recovered: !failing && result.score >= policy.scoring.recoverAbove,
      actively: signals.actively,
      probeCount: signals.probeCount,
      consecutiveOk: signals.consecutiveOk,
    },
    policy.circuit,
  );
  const flapping = isFlapping(circuit, policy.circuit, now);
  const reasons = [...result.reasons];
  // The score's weight level, with hysteresis and dwell, while the circuit is closed. A circuit that just
  // closed starts afresh from the current score (the slow-start ramp does the gradual part; the level held
  // while failing is stale). Open and half-open keep the level they had. No signal since a restart (or
  // ever): keep the remembered level rather than judge an empty window.
  const weightLevel =
    circuit.state !== 'closed' && prev.weightLevel
      ? prev.weightLevel
      : prev.weightLevel && !hasEvidence(signals)
        ? prev.weightLevel
        : stepWeightLevel(prev.circuit.state !== 'closed' ? undefined : prev.weightLevel, result.score, result.reasons, policy.weighting, policy.scoring, now);
  const level = weightLevel.fraction;
  if (flapping) reasons.push(`flapping: ${circuit.tripTimes.length} trips within ${secs(policy.circuit.flapWindowMs)}, held down longer`);

  let status: Status;
  let memoryStatus = prev.status;
  let health: PublishedHealth;
  let fraction: number;
  switch (circuit.state) {
    case 'open':
      status = 'UNHEALTHY';
      health = 'UNHEALTHY';
      fraction = 0;
      reasons.push(`circuit open (trip ${circuit.trips}), probation not before ${secs(circuit.openUntil - now)} from now`);
      break;
    case 'half-open': {
      status = 'DEGRADED';
      health = 'HEALTHY';
      fraction = policy.recovery.minWeightPercent / 100;
      const passed = Math.max(0, Math.min(signals.consecutiveOk, signals.probeCount - circuit.probationFromProbe));
      reasons.push(`half-open: probation ${passed}/${policy.circuit.probationSuccesses} checks passed`);
      break;
    }
    case 'closed': {
      const justClosed = prev.circuit.state !== 'closed';
      // No signal since a restart (or ever): keep the remembered status rather than judge an empty window.
      memoryStatus = justClosed
        ? hysteresis('HEALTHY', result.score, policy)
        : hasEvidence(signals)
          ? hysteresis(prev.status, result.score, policy)
          : prev.status;
      status = memoryStatus;
      const ramp = rampFraction(circuit.closedAt === undefined ? undefined : now - circuit.closedAt, policy.recovery);
      if (ramp < 1)
        reasons.push(`slow start: ${Math.round(ramp * 100)}% of weight (${secs(now - (circuit.closedAt ?? now))} of ${secs(policy.recovery.windowMs)})`);
      const why = weightReason(weightLevel);
      if (why) reasons.push(why);
      if (status === 'DEGRADED' && policy.degradedMode === 'weight') {
        health = 'HEALTHY';
        fraction = ramp * Math.min(level, policy.degradedWeightPercent / 100);
        reasons.push(`degraded: at most ${policy.degradedWeightPercent}% of weight`);
      } else {
        health = status === 'DEGRADED' ? 'DEGRADED' : 'HEALTHY';
        fraction = ramp * level;
      }
      break;
    }
  }
  const weight = health === 'UNHEALTHY' ? targetWeight : weightFor(targetWeight, fraction);
  return {
    memory: unchangedMemory(prev, circuit, memoryStatus, weightLevel) ? prev : { circuit, status: memoryStatus, warming: false, weightLevel },
    decision: {
      score: result.score,
      status,
      circuit: circuit.state,
      health,
      weight,
      targetWeight,
      weightFraction: health === 'UNHEALTHY' ? 0 : weight / targetWeight,
      reasons,
      facts: result.facts,
      flapping,
      guarded: false,
      warming: false,
      openUntil: circuit.state === 'open' ? circuit.openUntil : undefined,
    },
  };
}

const unchangedMemory = (m: EndpointMemory, circuit: Circuit, status: EndpointMemory['status'], level: WeightLevel): boolean =>
  m.circuit === circuit && m.status === status && !m.warming && m.weightLevel === level;

/**
 * A warming endpoint stays out of rotation (UNHEALTHY, "awaiting its first passing check") until a
 * probe passes; enough consecutive failures trip its circuit like any other endpoint's. Returns
 * undefined when warming is over and the normal decision applies.
 */
function warmingStep(
  prev: EndpointMemory,
  signals: EndpointSignals,
  policy: EndpointPolicy,
  targetWeight: number,
  now: number,
): { memory: EndpointMemory; decision: Decision } | undefined {
  if (!signals.actively || signals.consecutiveOk >= 1 || signals.consecutiveFail >= policy.check.unhealthyThreshold) return undefined;
  const result = scoreEndpoint(signals, policy, now);
  const last = signals.probes[signals.probes.length - 1];
  const reasons = [
    last ? `new endpoint: awaiting its first passing check (last: ${last.detail})` : 'new endpoint: awaiting its first health check',
    ...result.reasons,
  ];
  return {
    memory: prev,
    decision: {
      score: result.score,
      status: 'UNHEALTHY',
      circuit: prev.circuit.state,
      health: 'UNHEALTHY',
      weight: targetWeight,
      targetWeight,
      weightFraction: 0,
      reasons,
      facts: result.facts,
      flapping: false,
      guarded: false,
      warming: true,
    },
  };
}

function hysteresis(prev: Exclude<Status, 'UNHEALTHY'>, score: number, policy: EndpointPolicy): Exclude<Status, 'UNHEALTHY'> {
  if (prev === 'HEALTHY') return score < policy.scoring.degradedBelow ? 'DEGRADED' : 'HEALTHY';
  return score >= policy.scoring.recoverAbove ? 'HEALTHY' : 'DEGRADED';
}
