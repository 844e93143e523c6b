/**
 * A model of how Envoy splits a cluster's requests over the endpoints healthmesh publishes, so that
 * healthmesh can say (and check, before publishing) what share each endpoint will get. Pure.
 *
 * It follows Envoy's load-balancing documentation (arch_overview/upstream/load_balancing):
 * - Priority levels (…/priority): a level's health is the percent of its hosts that are healthy times
 *   the overprovisioning factor (1.4 by default, …/overprovisioning), capped at 100, in integers.
 *   healthmesh publishes every endpoint at priority 0, so there is one level.
 * - Degraded endpoints (…/degraded): DEGRADED hosts are used like a lower priority: they get
 *   min(100 − healthy load, 1.4 × percent degraded); when healthy + degraded < 100 the loads are
 *   normalised to 100 (e.g. 1 healthy and 1 degraded host of 4: 35 and 35 → 50% / 50%; 25/65/10% →
 *   35% / 65%, the table in Envoy's docs).
 * - Panic threshold (…/panic_threshold): when the percent of available (healthy + degraded) hosts is
 *   below the cluster's healthy_panic_threshold, Envoy ignores health and balances over all hosts.
 * - Endpoint weights (…/load_balancers): ROUND_ROBIN and LEAST_REQUEST are weighted (a host's share
 *   within its set is proportional to its weight; least-request approximately); RANDOM ignores weights.
 * - Locality weights (…/locality_weight) only apply with locality_weighted_lb_config, which healthmesh
 *   does not set: localities do not change the split, so they are not modelled.
 * UNHEALTHY and DRAINING hosts receive nothing outside panic; UNKNOWN counts as healthy.
 */
export type ShareHealth = 'UNKNOWN' | 'HEALTHY' | 'DEGRADED' | 'UNHEALTHY' | 'DRAINING';
export type LbPolicyName = 'ROUND_ROBIN' | 'LEAST_REQUEST' | 'RANDOM';

export interface ShareInput<K extends string = string> {
  key: K;
  health: ShareHealth;
  weight: number;
}

export interface EnvoyLbModel {
  lbPolicy: LbPolicyName;
  /** Cluster's healthy_panic_threshold in percent (healthmesh's default: 0, never panic). */
  panicThresholdPercent: number;
  /** ClusterLoadAssignment.policy.overprovisioning_factor / 100 (Envoy's default 1.4). */
  overprovisioningFactor: number;
}

export const DEFAULT_OVERPROVISIONING = 1.4;

/** Each endpoint's expected share of the cluster's requests (0..1, summing to 1, or all 0 when nothing can serve). */
export function predictShares<K extends string>(endpoints: readonly ShareInput<K>[], model: EnvoyLbModel): Map<K, number> {
  const out = new Map<K, number>();
  for (const e of endpoints) out.set(e.key, 0);
  const total = endpoints.length;
  if (total === 0) return out;
  const healthy = endpoints.filter((e) => e.health === 'HEALTHY' || e.health === 'UNKNOWN');
  const degraded = endpoints.filter((e) => e.health === 'DEGRADED');
  const availablePercent = (100 * (healthy.length + degraded.length)) / total;
  if (availablePercent < model.panicThresholdPercent) {
    spread(out, endpoints, 1, model.lbPolicy);
    return out;
  }
  const factor = model.overprovisioningFactor * 100;
  const healthScore = Math.min(100, Math.floor((factor * healthy.length) / total));
  const degradedScore = Math.min(100, Math.floor((factor * degraded.length) / total));
  const sum = Math.min(100, healthScore + degradedScore);
  if (sum === 0) return out;
  // Healthy first, degraded take the spill-over, then both are normalised to 100.
  const healthyLoad = Math.min(100, healthScore) / sum;
  spread(out, healthy, Math.min(1, healthyLoad), model.lbPolicy);
  spread(out, degraded, Math.max(0, 1 - Math.min(1, healthyLoad)), model.lbPolicy);
  return out;
}

function spread<K extends string>(out: Map<K, number>, set: readonly ShareInput<K>[], load: number, policy: LbPolicyName): void {
  if (set.length === 0 || load <= 0) return;
  const weightOf = (e: ShareInput<K>): number => (policy === 'RANDOM' ? 1 : Math.max(1, e.weight));
  const sum = set.reduce((n, e) => n + weightOf(e), 0);
  for (const e of set) out.set(e.key, (out.get(e.key) ?? 0) + (load * weightOf(e)) / sum);
}

/**
 * Cap the share going to endpoints believed failing: when Envoy would send them more than
 * `maxShare` (0..1) of the requests, scale their weights down (never below 1) until it would not.
 * Returns the corrected weights (only of the failing endpoints) and why, or undefined when the
 * publish is within the cap or cannot be corrected by weights (nothing else serving; RANDOM ignores weights).
 */
export function capFailingShare<K extends string>(
  endpoints: readonly ShareInput<K>[],
  failing: ReadonlySet<K>,
  maxShare: number,
  model: EnvoyLbModel,
): { weights: Map<K, number>; before: number; after: number } | undefined {
  const shares = predictShares(endpoints, model);
  const failingShare = (s: Map<K, number>): number => [...failing].reduce((n, k) => n + (s.get(k) ?? 0), 0);
  const before = failingShare(shares);
  if (before <= maxShare + 1e-9 || model.lbPolicy === 'RANDOM') return undefined;
  const serving = (e: ShareInput<K>): boolean => (shares.get(e.key) ?? 0) > 0;
  const others = endpoints.filter((e) => serving(e) && !failing.has(e.key));
  if (others.length === 0) return undefined;
  // Within one set the shares are proportional to weights: scale the failing ones by the ratio needed.
  const scale = (maxShare * (1 - before)) / (before * (1 - maxShare));
  const weights = new Map<K, number>();
  const next = endpoints.map((e) => {
    if (!failing.has(e.key) || !serving(e)) return e;
    const w = Math.max(1, Math.floor(e.weight * scale));
    weights.set(e.key, w);
    return { ...e, weight: w };
  });
  const after = failingShare(predictShares(next, model));
  return { weights, before, after };
}
