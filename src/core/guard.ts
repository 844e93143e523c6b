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
 * best-scoring ones) are published DEGRADED at the minimum weight: Envoy then uses them only for
 * the share of traffic its healthy hosts cannot take. Warming endpoints (new, never seen passing)
 * are left out of both the count and the keeping. Pure; input order does not matter.
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
    reason = `${failingKeys.length} of ${total} endpoints failing; at most ${policy.maxEjectedPercent}% (${maxEjected}) may be ejected`;
    const keep = failingKeys.sort(([ka, a], [kb, b]) => b.score - a.score || (ka < kb ? -1 : ka > kb ? 1 : 0)).slice(0, excess);
    for (const [key, d] of keep) {
      const weight = weightFor(d.targetWeight, minWeightPercent / 100);
      out.set(key, {
        ...d,
        health: 'DEGRADED',
        weight,
        weightFraction: weight / d.targetWeight,
        guarded: true,
        reasons: [...d.reasons, `kept in rotation by the guard: ${reason}`],
      });
    }
  }
  const guarded = Math.max(0, excess);
  return {
    decisions: out,
    verdict: { total, failing: failingKeys.length, ejected: failingKeys.length - guarded, guarded, maxEjected, allFailing: total > 0 && failingKeys.length === total, reason },
  };
}
