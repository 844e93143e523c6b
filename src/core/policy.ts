/** The knobs the pure core needs, shaped like the validated config (core does not import config). */
export interface ScoringPolicy {
  weights: { active: number; passive: number; node: number };
  degradedBelow: number;
  unhealthyBelow: number;
  recoverAbove: number;
  probeWindow: number;
  passiveErrorRateWarn: number;
  passiveErrorRateFail: number;
  passiveMinRequests: number;
}

export interface CheckPolicy {
  healthyThreshold: number;
  unhealthyThreshold: number;
  latencyThresholdMs?: number | undefined;
}

export interface NodePolicy {
  heartbeatTimeoutMs: number;
  failAfterMs: number;
  cpuPercentMax: number;
  memoryPercentMax: number;
  diskPercentMax: number;
}

export interface CircuitPolicy {
  baseOpenMs: number;
  maxOpenMs: number;
  backoffMultiplier: number;
  probationSuccesses: number;
  flapWindowMs: number;
  flapThreshold: number;
  resetAfterMs: number;
}

export interface RecoveryPolicy {
  windowMs: number;
  aggression: number;
  minWeightPercent: number;
  steps: number;
}

export interface EndpointPolicy {
  scoring: ScoringPolicy;
  check: CheckPolicy;
  node: NodePolicy;
  circuit: CircuitPolicy;
  recovery: RecoveryPolicy;
  degradedMode: 'weight' | 'status';
  degradedWeightPercent: number;
}

export interface GuardPolicy {
  maxEjectedPercent: number;
}

/** Published weight of a fully healthy endpoint per unit of configured weight. */
export const WEIGHT_UNIT = 100;
