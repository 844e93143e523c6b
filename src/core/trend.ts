/**
 * Trends over a metric's history: a robust line (Theil–Sen), its direction, a prediction with a
 * band, time to a threshold, and the points that do not fit. Pure: time comes in with the points.
 *
 * How it works (all of it documented here so the reports can explain a verdict):
 *
 * - Points with a non-finite `t` or `v` are dropped; the rest are sorted (by t, then v) on a copy.
 *   `n` counts the points used.
 * - The fit runs in normalised units (values divided by max |v|, time mapped onto 0..1 over the
 *   window) so that any finite input stays finite; results are scaled back and clamped to
 *   ±Number.MAX_VALUE. Timestamps closer than 1e-12 of the window are ties (skipped by Theil–Sen).
 * - slope: Theil–Sen (median of pairwise slopes; every pair up to 2,000 points, a fixed-stride
 *   subsample of about 2 M pairs above). intercept: median of v − slope·(t − from), i.e. the line's
 *   value at the first point. residual r = v − line(t).
 *   Residuals below rounding level (1e-13 of max |v|, scaled by the line's size) count as exactly 0.
 * - noise = 1.4826 × MAD(r). Where a scale is needed and the MAD is 0 (more than half the points sit
 *   exactly on the line) the spread falls back to √(π/2) × mean |r − median r| ("σ" below).
 * - stable threshold S (per hour) = `stableSlopePerHour`, default max(1e-9, 1% of median |v|).
 * - direction, in order:
 *     insufficient-data  n < max(2, minPoints), or all timestamps equal;
 *     volatile           noise > 4 × S × 1 h  AND  |slope| × window < 2 × noise
 *                        (noise is large against the stable drift of an hour, and the fitted change
 *                        over the whole window is inside the ±2·noise band, so the line is not visible);
 *     stable             |slope| < S (or slope exactly 0);
 *     improving/degrading by the slope's sign and `higherIsBetter`.
 * - confidence = R² × (n − 2) / n, clamped to 0..1, where R² = f² / (f² + σ²) is the robust share of
 *   variation the line explains: f² = slope² × Var(t) is the variance of the fitted values and σ²
 *   the residual variance. It is strictly decreasing in σ for a given slope and n, 0 for a flat line,
 *   1 × (n − 2)/n for a perfect fit (a constant series counts as a perfect fit), and 0 for
 *   insufficient data.
 * - prediction at `to + horizonMs`: the line's value, ± t₀.₉₇₅(0.37 (n − 2)) × σ × √(1 + (π/2)/n +
 *   (x_h − x̄)² / (0.91 × Sxx)): the usual prediction interval with the robust σ, the median's
 *   efficiency (π/2) for the level, Theil–Sen's (≈ 0.91) for the slope, and the MAD's (≈ 0.37) for
 *   the degrees of freedom of σ. Approximate: 94–96% coverage of a fresh observation under Gaussian
 *   noise, from 8 to 360 points.
 * - timeToThresholdMs: from the line's value at the last point; 0 when the line is already at or
 *   beyond the threshold and not moving back; (distance / slope) when it moves towards the
 *   threshold; undefined when it moves away or is flat, or when data are insufficient.
 * - anomalies: points with |r / σ| > anomalyZ (default 3.5), in time order (none when σ is 0 or data
 *   are insufficient).
 */
import { MAD_TO_SIGMA, MEAN_AD_TO_SIGMA, mean, median, medianInPlace, tQuantile975, theilSenSlope } from './trend-stats.js';

export interface Point {
  t: number;
  v: number;
}

export type Direction = 'improving' | 'stable' | 'degrading' | 'volatile' | 'insufficient-data';

export interface TrendOptions {
  /** true when larger values are better (score); false for error rate, latency, cpu, memory, disk, heartbeat gap. */
  higherIsBetter: boolean;
  /** Horizon for the prediction, ms after the last point. */
  horizonMs: number;
  /** Optional threshold for time-to-threshold (e.g. memory 90): crossing in the "bad" direction. */
  threshold?: number;
  /** Change per hour below which a series is "stable", in the metric's units (default: 1% of the series' median absolute value, min 1e-9). */
  stableSlopePerHour?: number;
  /** Anomaly cut-off in robust z-scores (default 3.5). */
  anomalyZ?: number;
  /** Fewer points than this (default 6, never below 2) give `insufficient-data`. */
  minPoints?: number;
}

export interface Trend {
  direction: Direction;
  /** Theil–Sen slope, units per hour. */
  slopePerHour: number;
  /** Value of the fitted line at the first point's time. */
  intercept: number;
  /** 0..1: R² × (n − 2)/n, see the module comment. */
  confidence: number;
  /** Robust spread of residuals (1.4826 × MAD). */
  noise: number;
  /** ~95% band from residual spread and slope uncertainty. */
  prediction: { at: number; value: number; low: number; high: number };
  /** Time until the fitted line crosses `threshold` in the bad direction, if it will (ms from the last point); undefined otherwise. */
  timeToThresholdMs?: number;
  /** Points far from the fit (robust z of residuals). */
  anomalies: Array<{ t: number; v: number; z: number }>;
  n: number;
  from: number;
  to: number;
}

const HOUR_MS = 3_600_000;
const DEFAULT_MIN_POINTS = 6;
const DEFAULT_ANOMALY_Z = 3.5;
const DEFAULT_STABLE_SHARE = 0.01;
const MIN_STABLE_SLOPE = 1e-9;
const VOLATILE_NOISE_HOURS = 4;
const VOLATILE_BAND = 2;
/** Timestamps closer than this share of the window are ties. */
const TIE_EPS = 1e-12;
/**
 * Efficiency of the MAD as a scale estimate relative to the standard deviation (normal data): a MAD
 * from ν residuals is about as uncertain as a standard deviation from 0.37 ν, so the band's t
 * quantile uses those degrees of freedom.
 */
const MAD_EFFICIENCY = 0.37;
/** Residuals smaller than this share of the data's scale are rounding error, taken as 0. */
const RESIDUAL_ROUNDING = 1e-13;
/** Asymptotic efficiency of Theil–Sen relative to least squares under normal errors. */
const THEIL_SEN_EFFICIENCY = 0.91;

/** Clamp to a finite number (NaN never reaches here by construction; mapped to 0 all the same). */
function fin(x: number): number {
  if (Number.isNaN(x)) return 0;
  return Math.max(-Number.MAX_VALUE, Math.min(Number.MAX_VALUE, x));
}

/** a × b, 0 when either is 0 (no 0 × ∞ = NaN). */
function mul(a: number, b: number): number {
  return a === 0 || b === 0 ? 0 : a * b;
}

function finiteOr(x: number | undefined, fallback: number): number {
  return typeof x === 'number' && Number.isFinite(x) ? x : fallback;
}

function byTime(a: Point, b: Point): number {
  return a.t - b.t || a.v - b.v;
}

/** Finite points only, copied and sorted by time (then value, so ties are deterministic). */
function cleanSorted(points: readonly Point[]): Point[] {
  const out: Point[] = [];
  for (const p of points) if (Number.isFinite(p.t) && Number.isFinite(p.v)) out.push({ t: p.t, v: p.v });
  return out.sort(byTime);
}

export function analyzeTrend(points: readonly Point[], opts: TrendOptions): Trend {
  const pts = cleanSorted(points);
  const n = pts.length;
  const horizonMs = finiteOr(opts.horizonMs, 0);
  const minPoints = Math.max(2, Math.ceil(finiteOr(opts.minPoints, DEFAULT_MIN_POINTS)));
  const anomalyZ = opts.anomalyZ !== undefined && Number.isFinite(opts.anomalyZ) && opts.anomalyZ > 0 ? opts.anomalyZ : DEFAULT_ANOMALY_Z;

  const first = pts[0];
  const last = pts[n - 1];
  if (!first || !last) {
    return {
      direction: 'insufficient-data',
      slopePerHour: 0,
      intercept: 0,
      confidence: 0,
      noise: 0,
      prediction: { at: fin(horizonMs), value: 0, low: 0, high: 0 },
      anomalies: [],
      n: 0,
      from: 0,
      to: 0,
    };
  }
  const from = first.t;
  const to = last.t;

  // Normalise: u = v / scale in [-1, 1]; x = (t - from) / window in [0, 1]. Halves avoid overflow.
  let scale = 0;
  for (const p of pts) scale = Math.max(scale, Math.abs(p.v));
  if (scale === 0) scale = 1;
  const halfSpan = to / 2 - from / 2;
  const hasSpan = halfSpan > 0;
  const spanHours = halfSpan / (HOUR_MS / 2);
  const u = new Float64Array(n);
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const p = pts[i]!;
    u[i] = p.v / scale;
    x[i] = hasSpan ? Math.min(1, (p.t / 2 - from / 2) / halfSpan) : 0;
  }

  // Fit.
  const slopeU = hasSpan ? theilSenSlope(x, u, TIE_EPS) : 0;
  const work = new Float64Array(n);
  for (let i = 0; i < n; i++) work[i] = u[i]! - slopeU * x[i]!;
  const interceptU = medianInPlace(work);
  const residuals = new Float64Array(n);
  // Residuals below rounding level are exact zeros (a point on the line must not read as noise).
  const roundingU = RESIDUAL_ROUNDING * (1 + Math.abs(interceptU) + Math.abs(slopeU));
  for (let i = 0; i < n; i++) {
    const r = u[i]! - (interceptU + slopeU * x[i]!);
    residuals[i] = Math.abs(r) < roundingU ? 0 : r;
  }

  // Spread of residuals.
  const medR = median(residuals);
  for (let i = 0; i < n; i++) work[i] = Math.abs(residuals[i]! - medR);
  const meanAbsDev = mean(work);
  const noiseU = MAD_TO_SIGMA * medianInPlace(work);
  const sigmaU = noiseU > 0 ? noiseU : MEAN_AD_TO_SIGMA * meanAbsDev;

  // Spread of time.
  const xBar = mean(x);
  let sxx = 0;
  for (let i = 0; i < n; i++) sxx += (x[i]! - xBar) ** 2;

  // Stable threshold, per hour in real units, then in normalised units per window.
  for (let i = 0; i < n; i++) work[i] = Math.abs(u[i]!);
  const medianAbsU = medianInPlace(work);
  const stablePerHour =
    opts.stableSlopePerHour !== undefined && Number.isFinite(opts.stableSlopePerHour) && opts.stableSlopePerHour >= 0
      ? opts.stableSlopePerHour
      : Math.max(MIN_STABLE_SLOPE, DEFAULT_STABLE_SHARE * medianAbsU * scale);
  const stablePerHourU = stablePerHour / scale;
  const stableU = mul(stablePerHourU, spanHours);
  const volatileNoiseU = VOLATILE_NOISE_HOURS * stablePerHourU;

  // Direction.
  const insufficient = n < minPoints || !hasSpan;
  let direction: Direction;
  if (insufficient) direction = 'insufficient-data';
  else if (noiseU > volatileNoiseU && Math.abs(slopeU) < VOLATILE_BAND * noiseU) direction = 'volatile';
  else if (slopeU === 0 || Math.abs(slopeU) < stableU) direction = 'stable';
  else direction = slopeU > 0 === opts.higherIsBetter ? 'improving' : 'degrading';

  // Confidence.
  const fitted = slopeU * slopeU * (sxx / n);
  const total = fitted + sigmaU * sigmaU;
  const r2 = total > 0 ? fitted / total : 1;
  const confidence = insufficient ? 0 : Math.min(1, Math.max(0, r2 * ((n - 2) / n)));

  // Prediction.
  const xh = hasSpan ? 1 + horizonMs / 2 / halfSpan : 0;
  const valueU = fin(interceptU + mul(slopeU, xh));
  const slopeTerm = hasSpan && sxx > 0 ? (xh - xBar) ** 2 / (THEIL_SEN_EFFICIENCY * sxx) : 0;
  const halfWidthU = fin(tQuantile975(MAD_EFFICIENCY * (n - 2)) * sigmaU * Math.sqrt(1 + Math.PI / 2 / n + slopeTerm));
  const prediction = {
    at: fin(to + horizonMs),
    value: fin(valueU * scale),
    low: fin(fin(valueU - halfWidthU) * scale),
    high: fin(fin(valueU + halfWidthU) * scale),
  };

  // Time to threshold, from the line's value at the last point (x = 1).
  let timeToThresholdMs: number | undefined;
  if (!insufficient && opts.threshold !== undefined && Number.isFinite(opts.threshold)) {
    const bad = opts.higherIsBetter ? -1 : 1;
    const remaining = (opts.threshold / scale - (interceptU + slopeU)) * bad; // > 0: not crossed yet
    const towards = slopeU * bad; // > 0: moving in the bad direction
    if (remaining <= 0 && towards >= 0) timeToThresholdMs = 0;
    else if (remaining > 0 && towards > 0) {
      const ms = (remaining / towards) * halfSpan * 2;
      if (Number.isFinite(ms)) timeToThresholdMs = ms;
    }
  }

  // Anomalies.
  const anomalies: Trend['anomalies'] = [];
  if (!insufficient && sigmaU > 0) {
    for (let i = 0; i < n; i++) {
      const z = residuals[i]! / sigmaU;
      if (Math.abs(z) > anomalyZ) anomalies.push({ t: pts[i]!.t, v: pts[i]!.v, z: fin(z) });
    }
  }

  const trend: Trend = {
    direction,
    slopePerHour: slopeU === 0 || !hasSpan ? 0 : fin((slopeU / spanHours) * scale),
    intercept: fin(interceptU * scale),
    confidence,
    noise: fin(noiseU * scale),
    prediction,
    anomalies,
    n,
    from,
    to,
  };
  if (timeToThresholdMs !== undefined) trend.timeToThresholdMs = timeToThresholdMs;
  return trend;
}

/**
 * Roll several endpoints' series up to one: each series is first averaged per bucket
 * (floor(t / bucketMs)), so an endpoint sampled more often does not weigh more, then the
 * per-endpoint bucket means are reduced across the series that have data in that bucket (missing
 * endpoints are not zeros). Each output point sits at its bucket's start; ascending time.
 * Non-finite points are skipped. Throws RangeError unless bucketMs is a positive finite number.
 */
export function rollUp(series: ReadonlyArray<readonly Point[]>, bucketMs: number, reduce: 'mean' | 'max' | 'min' = 'mean'): Point[] {
  if (!(Number.isFinite(bucketMs) && bucketMs > 0)) throw new RangeError(`rollUp: bucketMs must be a positive number, got ${bucketMs}`);
  const buckets = new Map<number, number[]>();
  for (const s of series) {
    const local = new Map<number, { mean: number; count: number }>();
    for (const p of s) {
      if (!Number.isFinite(p.t) || !Number.isFinite(p.v)) continue;
      const key = Math.floor(p.t / bucketMs);
      const acc = local.get(key) ?? { mean: 0, count: 0 };
      acc.count += 1;
      acc.mean += p.v / acc.count - acc.mean / acc.count;
      local.set(key, acc);
    }
    for (const [key, acc] of local) {
      const list = buckets.get(key);
      if (list) list.push(acc.mean);
      else buckets.set(key, [acc.mean]);
    }
  }
  const keys = [...buckets.keys()].sort((a, b) => a - b);
  return keys.map((key) => {
    const values = buckets.get(key)!;
    const v = reduce === 'max' ? Math.max(...values) : reduce === 'min' ? Math.min(...values) : mean(values);
    return { t: key * bucketMs, v };
  });
}

/**
 * Downsample to at most `n` points for charts: the (finite, time-sorted) points are cut into
 * min(n, length) consecutive groups of equal count (sizes differ by at most one) and each group
 * becomes the mean of its times and the mean of its values. Fewer than n points come back as a
 * sorted copy; n < 1 gives []. The output is in time order.
 */
export function downsample(points: readonly Point[], n: number): Point[] {
  const pts = cleanSorted(points);
  const groups = Math.floor(n);
  if (!(groups >= 1)) return [];
  if (pts.length <= groups) return pts;
  const out: Point[] = [];
  for (let g = 0; g < groups; g++) {
    const start = Math.floor((g * pts.length) / groups);
    const end = Math.floor(((g + 1) * pts.length) / groups);
    let t = 0;
    let v = 0;
    for (let i = start; i < end; i++) {
      const k = i - start + 1;
      const p = pts[i]!;
      t += p.t / k - t / k;
      v += p.v / k - v / k;
    }
    out.push({ t, v });
  }
  return out;
}

/**
 * "~3 h", "~12 min", "~45 s", "~2 d": rounded to the nearest unit; under 1 s "<1 s" (negatives too);
 * minutes up to 89, hours up to 47, then days. "∞" for +Infinity, "?" for NaN.
 */
export function humanDuration(ms: number): string {
  if (Number.isNaN(ms)) return '?';
  if (ms === Infinity) return '∞';
  if (!(ms >= 1000)) return '<1 s';
  const s = Math.round(ms / 1000);
  if (s < 60) return `~${s} s`;
  const min = Math.round(ms / 60_000);
  if (min < 90) return `~${min} min`;
  const h = Math.round(ms / HOUR_MS);
  if (h < 48) return `~${h} h`;
  return `~${Math.round(ms / (24 * HOUR_MS))} d`;
}
