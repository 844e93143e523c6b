import type { WeightingPolicy } from './weight.js';

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
  /** Adaptive latency: a host whose median probe latency is this many times its cluster's median loses score. */
  relativeLatencyFactor: number;
  /** ...but only when its own median is at least this (1 ms against 0.2 ms is not slow). */
  relativeLatencyMinMs: number;
  /** ...and only once it has this many passing probes in its window (one cold probe after a start is not a latency profile). */
  relativeLatencyMinSamples: number;
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
  /** How the score becomes a weight (src/core/weight.ts). */
  weighting: WeightingPolicy;
  check: CheckPolicy;
  node: NodePolicy;
  circuit: CircuitPolicy;
  recovery: RecoveryPolicy;
  degradedMode: 'weight' | 'status';
  degradedWeightPercent: number;
}

export interface GuardPolicy {
  maxEjectedPercent: number;
  /** At most this share (percent) of a cluster's traffic, as Envoy would split it, may go to failing endpoints. */
  maxFailingSharePercent?: number | undefined;
  /** A kept endpoint whose real traffic (LRS) errs at most this ratio is trusted over its checker (default 0.05). */
  realTrafficOkErrorRate?: number | undefined;
}

/** Published weight of a fully healthy endpoint per unit of configured weight. */
export const WEIGHT_UNIT = 100;
