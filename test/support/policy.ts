import { validateConfig } from '../../src/config/load.js';
import type { EndpointPolicy } from '../../src/core/policy.js';
import { endpointPolicy } from '../../src/health/policy.js';

/** The policy of a small, fast cluster: 1 s checks, healthy 2 / unhealthy 3, 10 s ramp in 5 steps. */
export function testPolicy(): EndpointPolicy {
  const config = validateConfig({
    health: {
      circuit: { baseOpenMs: 1000, maxOpenMs: 8000, flapWindowMs: 60_000, flapThreshold: 3, resetAfterMs: 30_000 },
      recovery: { windowMs: 10_000, steps: 5, minWeightPercent: 10 },
    },
    clusters: [{ name: 'c', healthCheck: { intervalMs: 1000, timeoutMs: 500, healthyThreshold: 2, unhealthyThreshold: 3, latencyThresholdMs: 500 } }],
  });
  return endpointPolicy(config, config.clusters[0]!.healthCheck);
}
