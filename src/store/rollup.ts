/**
 * History roll-ups: one row per endpoint per 5-minute window, kept up to date as history is written,
 * so that a report over a day of 1,000 endpoints reads 288 k roll-up rows instead of 8.64 M points.
 *
 * A window holds what the report builder needs from its points: counts, first/last time, the last
 * point (status, health, circuit, score, weight, reasons), min/max/sum per metric, reasons seen
 * (count, first, last), entries into UNHEALTHY, circuit trips, and the time each point held until
 * the next point of the same endpoint, by status and by published health.
 *
 * Held time is charged to the window of the point that held. It is known only when the next point
 * arrives, so the writer keeps each endpoint's open (latest) window in memory; a window is written
 * when it closes, open ones at most once a minute (one row write per endpoint per window, not per
 * point).
 * A gap is capped at max(30 s, 3 × the median of the endpoint's last 9 gaps) — the report builder's
 * rule (3 × the median spacing over the range) applied with the spacing known at write time.
 *
 * Pure: no I/O. The store persists what `add` returns.
 */
import type { CircuitState, Status } from '../core/model.js';
import type { HistoryPoint, PublishedHealth } from '../operations.js';

export const ROLLUP_MS = 300_000;
export const MIN_GAP_CAP_MS = 30_000;
/** Distinct reasons kept per window (the rest are only counted). */
export const MAX_WINDOW_REASONS = 20;
const RECENT_GAPS = 9;
/** Open windows are written at least this often (in history time), not on every point. */
export const FLUSH_MS = 60_000;

export const ROLLUP_METRICS = ['score', 'latencyMs', 'errorRate', 'cpuPercent', 'memoryPercent', 'diskPercent'] as const;
export type RollupMetric = (typeof ROLLUP_METRICS)[number];

export interface MetricAgg {
  n: number;
  sum: number;
  min: number;
  max: number;
}

export interface Rollup {
  key: string;
  cluster: string;
  /** Window start (ms, a multiple of ROLLUP_MS). */
  bucket: number;
  n: number;
  firstAt: number;
  lastAt: number;
  lastStatus: Status;
  lastHealth: PublishedHealth;
  lastCircuit: CircuitState;
  lastScore: number;
  lastWeight: number;
  lastReasons: string[] | undefined;
  heldStatus: Record<Status, number>;
  heldHealth: Record<PublishedHealth, number>;
  /** Gaps to the next point (uncapped), for the median spacing. */
  gapN: number;
  gapSum: number;
  incidents: number;
  trips: number;
  /** reason → [count, firstAt, lastAt] */
  reasons: Record<string, [number, number, number]>;
  otherReasons: number;
  metrics: Record<RollupMetric, MetricAgg | null>;
}

export const rollupBucket = (at: number): number => Math.floor(at / ROLLUP_MS) * ROLLUP_MS;

function metricOf(p: HistoryPoint, m: RollupMetric): number | undefined {
  return m === 'score' ? p.score : p[m];
}

/** A window starting at point `p`, with nothing counted yet. */
export function emptyRollup(p: HistoryPoint, bucket: number): Rollup {
  return {
    key: p.key,
    cluster: p.cluster,
    bucket,
    n: 0,
    firstAt: p.at,
    lastAt: p.at,
    lastStatus: p.status,
    lastHealth: p.health,
    lastCircuit: p.circuit,
    lastScore: p.score,
    lastWeight: p.weight,
    lastReasons: undefined,
    heldStatus: { HEALTHY: 0, DEGRADED: 0, UNHEALTHY: 0 },
    heldHealth: { HEALTHY: 0, DEGRADED: 0, UNHEALTHY: 0, DRAINING: 0 },
    gapN: 0,
    gapSum: 0,
    incidents: 0,
    trips: 0,
    reasons: {},
    otherReasons: 0,
    metrics: { score: null, latencyMs: null, errorRate: null, cpuPercent: null, memoryPercent: null, diskPercent: null },
  };
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)] ?? 0;
}

/** What the writer needs to resume an endpoint after a restart. */
export interface RollupResume {
  /** The endpoint's newest stored window. */
  window: Rollup | undefined;
  /** History points written after it (its open window was not stored when the process stopped). */
  replay: readonly HistoryPoint[];
}

interface OpenState {
  rollup: Rollup | undefined;
  gaps: number[];
  /** Changed since it was last returned for writing. */
  dirty: boolean;
}

/**
 * Keeps each endpoint's open window. `add` returns the windows to write: every window that closed
 * (its endpoint's next point is in a later window), and every changed open window once per
 * FLUSH_MS of history time, so a stored open window is at most that far behind. The store writes
 * the rest on close (`flush`); after a crash, `resume` replays what the store did not write.
 */
export class RollupWriter {
  private readonly open = new Map<string, OpenState>();
  private lastFlushAt = -Infinity;
  private latestAt = -Infinity;

  /** `resume(key)` is called once per endpoint, on its first point in this process. */
  constructor(private readonly resume: (key: string) => RollupResume) {}

  add(points: readonly HistoryPoint[]): Rollup[] {
    const out = new Set<Rollup>();
    for (const p of points) {
      let st = this.open.get(p.key);
      if (!st) {
        const r = this.resume(p.key);
        st = { rollup: r.window, gaps: [], dirty: false };
        this.open.set(p.key, st);
        for (const q of r.replay) this.step(st, q, out);
      }
      this.step(st, p, out);
      if (p.at > this.latestAt) this.latestAt = p.at;
    }
    if (this.latestAt - this.lastFlushAt >= FLUSH_MS) {
      this.lastFlushAt = this.latestAt;
      for (const r of this.flush()) out.add(r);
    }
    return [...out];
  }

  /** Every open window changed since it was last returned (the store writes them on close). */
  flush(): Rollup[] {
    const out: Rollup[] = [];
    for (const st of this.open.values()) {
      if (!st.dirty || !st.rollup) continue;
      st.dirty = false;
      out.push(st.rollup);
    }
    return out;
  }

  private step(st: OpenState, p: HistoryPoint, out: Set<Rollup>): void {
    let r = st.rollup;
    if (r) {
      const gap = Math.max(0, p.at - r.lastAt);
      st.gaps.push(gap);
      if (st.gaps.length > RECENT_GAPS) st.gaps.shift();
      const held = Math.min(gap, Math.max(MIN_GAP_CAP_MS, 3 * median(st.gaps)));
      r.heldStatus[r.lastStatus] += held;
      r.heldHealth[r.lastHealth] += held;
      r.gapN++;
      r.gapSum += gap;
    }
    const prevStatus = r?.lastStatus;
    const prevCircuit = r?.lastCircuit;
    // A point from before the open window (a clock step back) is counted in the open window.
    const bucket = rollupBucket(p.at);
    if (!r || bucket > r.bucket) {
      if (r) out.add(r); // closed: final
      r = emptyRollup(p, bucket);
      st.rollup = r;
    }
    this.addPoint(r, p, prevStatus, prevCircuit);
    st.dirty = true;
  }

  private addPoint(r: Rollup, p: HistoryPoint, prevStatus: Status | undefined, prevCircuit: CircuitState | undefined): void {
    if (r.n === 0) r.firstAt = p.at;
    r.n++;
    r.lastAt = p.at;
    r.lastStatus = p.status;
    r.lastHealth = p.health;
    r.lastCircuit = p.circuit;
    r.lastScore = p.score;
    r.lastWeight = p.weight;
    r.lastReasons = p.reasons && p.reasons.length ? [...p.reasons] : undefined;
    if (p.status === 'UNHEALTHY' && prevStatus !== 'UNHEALTHY') r.incidents++;
    if (p.circuit === 'open' && prevCircuit !== undefined && prevCircuit !== 'open') r.trips++;
    for (const m of ROLLUP_METRICS) {
      const v = metricOf(p, m);
      if (v === undefined || !Number.isFinite(v)) continue;
      const a = r.metrics[m];
      if (a) {
        a.n++;
        a.sum += v;
        if (v < a.min) a.min = v;
        if (v > a.max) a.max = v;
      } else r.metrics[m] = { n: 1, sum: v, min: v, max: v };
    }
    for (const reason of p.reasons ?? []) {
      const seen = r.reasons[reason];
      if (seen) {
        seen[0]++;
        seen[2] = p.at;
      } else if (Object.keys(r.reasons).length < MAX_WINDOW_REASONS) r.reasons[reason] = [1, p.at, p.at];
      else r.otherReasons++;
    }
  }
}
