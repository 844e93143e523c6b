/** Small numeric helpers for the report builder: summary statistics, median spacing, bucket sizes. */
import type { Point, Stats } from './model.js';

/** min / mean / p95 (nearest rank) / max of the values; null when there are none. */
export function summarize(values: ArrayLike<number>): Stats | null {
  const n = values.length;
  if (n === 0) return null;
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i]!;
  return { n, min: sorted[0]!, mean: sum / n, p95: sorted[Math.max(0, Math.ceil(0.95 * n) - 1)]!, max: sorted[n - 1]! };
}

/** Median of the gaps between consecutive times (0 with fewer than two). */
export function medianSpacing(times: ArrayLike<number>): number {
  if (times.length < 2) return 0;
  const gaps = new Float64Array(times.length - 1);
  for (let i = 1; i < times.length; i++) gaps[i - 1] = times[i]! - times[i - 1]!;
  gaps.sort();
  return gaps[Math.floor((gaps.length - 1) / 2)]!;
}

const NICE_BUCKETS_MS = [
  1_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 180_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000, 7_200_000, 10_800_000, 21_600_000,
  43_200_000, 86_400_000,
];

/** The smallest round bucket size that cuts `rangeMs` into at most `maxBuckets` buckets. */
export function niceBucket(rangeMs: number, maxBuckets: number): number {
  const want = rangeMs / Math.max(1, maxBuckets);
  return NICE_BUCKETS_MS.find((b) => b >= want) ?? Math.ceil(want / 86_400_000) * 86_400_000;
}

/**
 * Running per-bucket sums: the mean over several series of their values in each bucket. Used for
 * cluster series, fed one endpoint's (already bucketed) series at a time so that no cluster holds
 * all of its endpoints' points at once.
 */
export class BucketMean {
  private readonly sums = new Map<number, { sum: number; n: number }>();

  add(points: readonly Point[]): void {
    for (const p of points) {
      const b = this.sums.get(p.t);
      if (b) {
        b.sum += p.v;
        b.n += 1;
      } else this.sums.set(p.t, { sum: p.v, n: 1 });
    }
  }

  get size(): number {
    return this.sums.size;
  }

  points(): Point[] {
    return [...this.sums.entries()].sort((a, b) => a[0] - b[0]).map(([t, { sum, n }]) => ({ t, v: sum / n }));
  }
}

/** Rounds for presentation without turning 0.1 + 0.2 into noise. */
export const round = (v: number, digits = 3): number => {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
};
