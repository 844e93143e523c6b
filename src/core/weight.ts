/**
 * Weights follow the score. The share of its target weight an endpoint is granted is a continuous
 * function of its fused score,
 *
 *   f(score) = floor + (1 - floor) * clamp((score - unhealthyBelow) / (fullAbove - unhealthyBelow), 0, 1) ^ curve
 *
 * (floor = recovery.minWeightPercent / 100), quantised DOWN to `levels` even steps (1/levels, 2/levels,
 * …, 1; never below the floor), with hysteresis (a level is left upwards only once the score minus
 * `hysteresisPoints` reaches the next level, downwards only once the score plus `hysteresisPoints`
 * falls below it) and a minimum dwell time between level changes, so noise in the score does not
 * cause EDS pushes. A level falls at once to what the score is worth but rises one level per dwell.
 * Pure: no I/O, time passed in.
 */
import type { ScoringPolicy } from './policy.js';

export interface WeightingPolicy {
  /** Score at and above which the full target weight is granted. */
  fullAbove: number;
  /** Exponent of the curve between unhealthyBelow and fullAbove (1 linear; 2 costs a middling score more). */
  curve: number;
  /** Number of weight levels the curve is quantised to. */
  levels: number;
  /** Score points of hysteresis around each level boundary. */
  hysteresisPoints: number;
  /** A level is held at least this long before it changes again (the first level is immediate). */
  minDwellMs: number;
  /** Lowest fraction granted to a serving endpoint (recovery.minWeightPercent / 100). */
  floor: number;
}

/** The weight level an endpoint holds: persisted in its memory (dwell and hysteresis survive a restart). */
export interface WeightLevel {
  readonly fraction: number;
  /** When this level was taken. */
  readonly since: number;
  /** The score that set it and why (the score's reasons at that time). */
  readonly score: number;
  readonly reasons: readonly string[];
}

/** The continuous curve: the fraction of its target weight a score is worth, in [floor, 1]. Monotone. */
export function weightCurve(score: number, p: WeightingPolicy, scoring: Pick<ScoringPolicy, 'unhealthyBelow'>): number {
  const lo = scoring.unhealthyBelow;
  const hi = Math.max(lo + 1, p.fullAbove);
  const x = Math.max(0, Math.min(1, (score - lo) / (hi - lo)));
  return Math.min(1, p.floor + (1 - p.floor) * x ** p.curve);
}

/** `fraction` quantised down to the policy's levels, never below the floor. */
export function quantise(fraction: number, p: WeightingPolicy): number {
  const q = Math.floor(fraction * p.levels + 1e-9) / p.levels;
  return Math.min(1, Math.max(p.floor, q));
}

/** The level a score is worth without memory. */
export const levelFor = (score: number, p: WeightingPolicy, scoring: Pick<ScoringPolicy, 'unhealthyBelow'>): number =>
  quantise(weightCurve(score, p, scoring), p);

/**
 * Step the held level by one evaluation: moves only when the score is past the boundary by the
 * hysteresis and the current level has been held for the dwell time. Returns `prev` itself when
 * nothing changes (callers compare by identity).
 */
export function stepWeightLevel(
  prev: WeightLevel | undefined,
  score: number,
  reasons: readonly string[],
  p: WeightingPolicy,
  scoring: Pick<ScoringPolicy, 'unhealthyBelow'>,
  now: number,
): WeightLevel {
  if (!prev) return Object.freeze({ fraction: levelFor(score, p, scoring), since: now, score, reasons: [...reasons] });
  const up = levelFor(score - p.hysteresisPoints, p, scoring);
  const down = levelFor(score + p.hysteresisPoints, p, scoring);
  // Down at once (to the level the score is worth); up one level per dwell, so a host whose score
  // recovers without a circuit trip climbs back gradually (10% → 25% → 50% → 75% → 100%), like a ramp.
  const oneUp = Math.min(1, (Math.floor(prev.fraction * p.levels + 1e-9) + 1) / p.levels);
  const next = up > prev.fraction ? Math.min(up, oneUp) : down < prev.fraction ? down : prev.fraction;
  if (next === prev.fraction || now - prev.since < p.minDwellMs) return prev;
  return Object.freeze({ fraction: next, since: now, score, reasons: [...reasons] });
}

/** Why an endpoint holds its level, for the decision's reasons. Empty at full weight. */
export function weightReason(level: WeightLevel): string | undefined {
  if (level.fraction >= 1) return undefined;
  return `weight ${Math.round(level.fraction * 100)}% of target for score ${level.score}`;
}
