import type { Decision } from './decide.js';
import type { GuardPolicy } from './policy.js';
import { weightFor } from './recovery.js';

export interface ClusterVerdict {
  total: number;
  /** Endpoints whose own decision is UNHEALTHY. */
  failing: number;
  /** Endpoints actually published UNHEALTHY. */
  ejected: number;
  /** Failing endpoints kept in rotation because ejecting them would pass the cap. */
  guarded: number;
  maxEjected: number;
  /** Every endpoint fails: reported, never emptied. */
  allFailing: boolean;
  reason?: string | undefined;
}

/**
 * Never eject more than `maxEjectedPercent` of a cluster. Failing endpoints beyond the cap (the
 * best-scoring ones) are kept in rotation, published HEALTHY (not Envoy's DEGRADED: Envoy's priority
 * spillover would give a degraded host about the share the healthy hosts cannot take, 48% with one
 * healthy host of four) so that Envoy's endpoint-weight arithmetic gives each the share healthmesh
 * says:
 * - at the minimum weight, when real traffic (LRS) confirms it fails or there is none to judge by;
 * - at its normal weight when its real traffic succeeds: the checker is what is wrong (a partition
 *   between healthmesh and the hosts), and the verdict's reason says so.
 * Warming endpoints (new, never seen passing) are left out of both the count and the keeping. Pure;
 * input order does not matter.
 */
export function guardCluster<K extends string>(
  decisions: ReadonlyMap<K, Decision>,
  policy: GuardPolicy,
  minWeightPercent: number,
): { decisions: Map<K, Decision>; verdict: ClusterVerdict } {
  const out = new Map(decisions);
  // Warming endpoints (never seen passing) are neither counted nor kept: they were never serving.
  const counted = [...decisions].filter(([, d]) => !d.warming);
  const total = counted.length;
  const failingKeys = counted.filter(([, d]) => d.health === 'UNHEALTHY');
  const maxEjected = Math.floor((total * policy.maxEjectedPercent) / 100 + 1e-9);
  const excess = failingKeys.length - maxEjected;
  let reason: string | undefined;
  if (excess > 0) {
    const head = `${failingKeys.length} of ${total} endpoints failing; at most ${policy.maxEjectedPercent}% (${maxEjected}) may be ejected`;
    const keep = failingKeys.sort(([ka, a], [kb, b]) => b.score - a.score || (ka < kb ? -1 : ka > kb ? 1 : 0)).slice(0, excess);
    const kept: string[] = [];
    for (const [key, d] of keep) {
      const evidence = realTrafficEvidence(d, policy.realTrafficOkErrorRate);
      const fraction = evidence === 'succeeds' ? 1 : minWeightPercent / 100;
      const weight = weightFor(d.targetWeight, fraction);
      const why =
        evidence === 'succeeds'
          ? 'kept at its normal weight: its real traffic succeeds, the health checker may be wrong (e.g. a partition between healthmesh and the hosts)'
          : evidence === 'fails'
            ? 'kept at the minimum weight: its real traffic fails too'
            : 'kept at the minimum weight: no real traffic to judge by';
      kept.push(`${key.slice(key.indexOf('/') + 1)} ${why} (${d.reasons[0] ?? 'failing'})`);
      out.set(key, {
        ...d,
        health: 'HEALTHY',
        weight,
        weightFraction: weight / d.targetWeight,
        guarded: true,
        vouched: evidence === 'succeeds',
        reasons: [...d.reasons, `kept in rotation by the guard (${head}): ${why}`],
      });
    }
    reason = `${head}; ${kept.join('; ')}`;
  }
  const guarded = Math.max(0, excess);
  return {
    decisions: out,
    verdict: {
      total,
      failing: failingKeys.length,
      ejected: failingKeys.length - guarded,
      guarded,
      maxEjected,
      allFailing: total > 0 && failingKeys.length === total,
      reason,
    },
  };
}

/** What real traffic says about an endpoint: enough requests with few errors, many errors, or nothing to judge by. */
export function realTrafficEvidence(d: Pick<Decision, 'facts'>, okErrorRate = 0.05): 'succeeds' | 'fails' | 'unknown' {
  const rate = d.facts.trafficErrorRate;
  if (rate === undefined) return 'unknown';
  return rate <= okErrorRate ? 'succeeds' : 'fails';
}
