/**
 * The small robust statistics behind `trend.ts`: selection, median, MAD, Theil–Sen and a Student t
 * quantile. Pure and deterministic (no Math.random): pivots are median-of-three and a selection
 * that degrades falls back to sorting its remaining range, so the worst case stays O(n log n).
 * Inputs are assumed finite; the callers guarantee it.
 */

/** Scale factor that turns a MAD into a standard deviation for normal data. */
export const MAD_TO_SIGMA = 1.4826;
/** Scale factor that turns a mean absolute deviation into a standard deviation for normal data (√(π/2)). */
export const MEAN_AD_TO_SIGMA = Math.sqrt(Math.PI / 2);
/** Pairs Theil–Sen evaluates before it switches to a fixed-stride subsample (all pairs up to 2,000 points). */
export const THEIL_SEN_MAX_PAIRS = 2_000_000;

function swap(a: Float64Array, i: number, j: number): void {
  const x = a[i]!;
  a[i] = a[j]!;
  a[j] = x;
}

/**
 * Floyd–Rivest selection on a[left..right]: for large ranges it first selects within a small sample
 * around the expected position, which brackets the k-th value tightly, then partitions (Hoare style,
 * so runs of equal values split evenly). Expected ~n comparisons. After `rounds` partitions of one
 * range without converging (never seen in practice) the range is sorted instead: O(n log n) worst case.
 */
function floydRivest(a: Float64Array, left: number, right: number, k: number): void {
  let rounds = 0;
  while (right > left) {
    if (++rounds > 64) {
      a.subarray(left, right + 1).sort();
      return;
    }
    if (right - left > 600) {
      const n = right - left + 1;
      const i = k - left + 1;
      const z = Math.log(n);
      const s = 0.5 * Math.exp((2 * z) / 3);
      const sd = 0.5 * Math.sqrt((z * s * (n - s)) / n) * Math.sign(i - n / 2);
      floydRivest(a, Math.max(left, Math.floor(k - (i * s) / n + sd)), Math.min(right, Math.floor(k + ((n - i) * s) / n + sd)), k);
    }
    const pivot = a[k]!;
    let i = left;
    let j = right;
    swap(a, left, k);
    if (a[right]! > pivot) swap(a, left, right);
    while (i < j) {
      swap(a, i, j);
      i++;
      j--;
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
    }
    if (a[left] === pivot) swap(a, left, j);
    else {
      j++;
      swap(a, j, right);
    }
    if (j <= k) left = j + 1;
    if (k <= j) right = j - 1;
  }
}

/**
 * Rearranges `a` so that `a[k]` holds the k-th smallest value (0-based), everything before it is <=
 * and everything after it is >=; returns that value.
 */
export function selectInPlace(a: Float64Array, k: number): number {
  floydRivest(a, 0, a.length - 1, k);
  return a[k]!;
}

/** Median of `a`, reordering it. 0 for an empty array. The two middle values of an even count are averaged. */
export function medianInPlace(a: Float64Array): number {
  const n = a.length;
  if (n === 0) return 0;
  const mid = n >> 1;
  if (n % 2 === 1) return selectInPlace(a, mid);
  const lower = selectInPlace(a, mid - 1);
  let upper = Infinity;
  for (let i = mid; i < n; i++) if (a[i]! < upper) upper = a[i]!;
  return lower / 2 + upper / 2;
}

/** Median of any array-like of numbers (copied, not reordered). */
export function median(values: ArrayLike<number>): number {
  return medianInPlace(Float64Array.from(values));
}

/** Mean that cannot overflow for finite inputs (running mean, each term divided before it is added). */
export function mean(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) m += values[i]! / (i + 1) - m / (i + 1);
  return m;
}

/**
 * Theil–Sen slope: the median of (y[j] - y[i]) / (x[j] - x[i]) over pairs i < j. `x` must be sorted
 * ascending. Pairs closer than `tieEps` in x (duplicate timestamps) are skipped. Up to `maxPairs`
 * pairs every pair is used; above that, every `stride`-th pair in lexicographic (i, j) order, with
 * the stride fixed so that about `maxPairs` remain: deterministic, O(n + maxPairs) time and memory.
 * Returns 0 when no pair has distinct x.
 */
export function theilSenSlope(x: Float64Array, y: Float64Array, tieEps = 0, maxPairs = THEIL_SEN_MAX_PAIRS): number {
  const n = x.length;
  if (n < 2) return 0;
  const total = (n * (n - 1)) / 2;
  const stride = total <= maxPairs ? 1 : Math.ceil(total / maxPairs);
  const slopes = new Float64Array(Math.ceil(total / stride));
  let m = 0;
  if (stride === 1) {
    for (let i = 0; i < n - 1; i++) {
      const xi = x[i]!;
      const yi = y[i]!;
      for (let j = i + 1; j < n; j++) {
        const dx = x[j]! - xi;
        if (dx > tieEps) slopes[m++] = (y[j]! - yi) / dx;
      }
    }
    return m === 0 ? 0 : medianInPlace(slopes.subarray(0, m));
  }
  let i = 0;
  let j = 1;
  while (i < n - 1) {
    const dx = x[j]! - x[i]!;
    if (dx > tieEps) slopes[m++] = (y[j]! - y[i]!) / dx;
    j += stride;
    // Past the end of row i: carry the overshoot into the following rows (row i holds j = i+1 .. n-1).
    while (j >= n && i < n - 1) {
      j = j - n + i + 2;
      i++;
    }
  }
  return m === 0 ? 0 : medianInPlace(slopes.subarray(0, m));
}

const T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228];

/**
 * Two-sided 95% quantile of Student's t with `df` degrees of freedom (the 0.975 quantile): a table
 * up to 10, then the Cornish–Fisher expansion around the normal quantile (error < 1e-4 there).
 */
export function tQuantile975(df: number): number {
  const d = Math.max(1, Math.floor(df));
  if (d <= T975.length) return T975[d - 1]!;
  const z = 1.959963984540054;
  const z3 = z ** 3;
  const z5 = z ** 5;
  const z7 = z ** 7;
  const z9 = z ** 9;
  return (
    z +
    (z3 + z) / (4 * d) +
    (5 * z5 + 16 * z3 + 3 * z) / (96 * d ** 2) +
    (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * d ** 3) +
    (79 * z9 + 776 * z7 + 1482 * z5 - 1920 * z3 - 945 * z) / (92160 * d ** 4)
  );
}
