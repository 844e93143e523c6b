import type { ClusterConfig, Config, EndpointConfig, HealthCheckConfig } from '../config/schema.js';
import type { EndpointPolicy } from '../core/policy.js';

/** The cluster's check with an endpoint's overrides applied (undefined: not actively checked). */
export function effectiveHealthCheck(cluster: ClusterConfig, endpoint?: Pick<EndpointConfig, 'healthCheck'>): HealthCheckConfig | undefined {
  const base = cluster.healthCheck;
  if (!base) return undefined;
  const o = endpoint?.healthCheck;
  if (!o) return base;
  return {
    ...base,
    check: o.check ?? base.check,
    intervalMs: o.intervalMs ?? base.intervalMs,
    timeoutMs: o.timeoutMs ?? base.timeoutMs,
    latencyThresholdMs: o.latencyThresholdMs ?? base.latencyThresholdMs,
  };
}

/** The pure core's policy for one endpoint, from the validated config. */
export function endpointPolicy(config: Readonly<Config>, check: HealthCheckConfig | undefined): EndpointPolicy {
  const h = config.health;
  return {
    scoring: h.scoring,
    weighting: { ...h.weighting, floor: h.recovery.minWeightPercent / 100 },
    check: {
      healthyThreshold: check?.healthyThreshold ?? 1,
      unhealthyThreshold: check?.unhealthyThreshold ?? 1,
      latencyThresholdMs: check?.latencyThresholdMs,
    },
    node: config.agents,
    // Probation needs at least the check's healthy threshold of consecutive passes.
    circuit: { ...h.circuit, probationSuccesses: Math.max(h.circuit.probationSuccesses, check?.healthyThreshold ?? 1) },
    recovery: h.recovery,
    degradedMode: h.degradedMode,
    degradedWeightPercent: h.degradedWeightPercent,
  };
}
