import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { downsample, humanDuration, rollUp, type Point } from '../../src/core/trend.js';
import { mean, median, medianInPlace, selectInPlace, tQuantile975, theilSenSlope } from '../../src/core/trend-stats.js';

const T0 = Date.UTC(2025, 0, 1);
const S = 1000;
const MIN = 60 * S;
const HOUR = 60 * MIN;

const finiteDouble = fc.double({ noNaN: true, noDefaultInfinity: true });
const pointArb = fc.record({ t: fc.integer({ min: T0, max: T0 + 48 * HOUR }), v: fc.double({ min: -1e6, max: 1e6, noNaN: true }) });

describe('rollUp', () => {
  const a: Point[] = [
    { t: T0 + 5 * S, v: 10 },
    { t: T0 + 35 * S, v: 20 }, // bucket 0: mean 15
    { t: T0 + 65 * S, v: 30 }, // bucket 1
  ];
  const b: Point[] = [
    { t: T0 + 10 * S, v: 1 }, // bucket 0
    { t: T0 + 130 * S, v: 7 }, // bucket 2 (a has nothing there)
  ];

  it.each([
    { reduce: 'mean', expected: [8, 30, 7] },
    { reduce: 'max', expected: [15, 30, 7] },
    { reduce: 'min', expected: [1, 30, 7] },
  ] as const)('$reduce of per-endpoint bucket means, missing endpoints skipped', ({ reduce, expected }) => {
    expect(rollUp([a, b], MIN, reduce)).toEqual(expected.map((v, i) => ({ t: T0 + i * MIN, v })));
  });

  it('defaults to the mean', () => {
    expect(rollUp([a, b], MIN)).toEqual(rollUp([a, b], MIN, 'mean'));
  });

  it('an endpoint sampled more often does not weigh more', () => {
    const dense = Array.from({ length: 60 }, (_, i) => ({ t: T0 + i * S, v: 100 }));
    const sparse = [{ t: T0, v: 0 }];
    expect(rollUp([dense, sparse], MIN)).toEqual([{ t: T0, v: 50 }]);
  });

  it('sorts unordered input, puts points at their bucket start and skips non-finite points', () => {
    const pts = [
      { t: T0 + 3 * MIN + 1, v: 3 },
      { t: T0 + 1, v: 1 },
      { t: T0 + 2 * MIN, v: NaN },
      { t: Infinity, v: 1 },
    ];
    expect(rollUp([pts], MIN)).toEqual([
      { t: T0, v: 1 },
      { t: T0 + 3 * MIN, v: 3 },
    ]);
  });

  it('handles negative times (floor, not truncation)', () => {
    expect(rollUp([[{ t: -1, v: 2 }]], 10)).toEqual([{ t: -10, v: 2 }]);
  });

  it.each([[[]], [[[]]], [[[], []]]])('no data → no points (%j)', (series) => {
    expect(rollUp(series as Point[][], MIN)).toEqual([]);
  });

  it.each([0, -1, NaN, Infinity])('rejects bucketMs %s', (bucketMs) => {
    expect(() => rollUp([a], bucketMs)).toThrow(RangeError);
  });

  it('property: ascending distinct bucket starts; every value within the inputs range for each reducer', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(pointArb, { maxLength: 40 }), { maxLength: 5 }),
        fc.integer({ min: 1, max: 6 * HOUR }),
        fc.constantFrom('mean', 'max', 'min'),
        (series, bucketMs, reduce) => {
          const out = rollUp(series, bucketMs, reduce);
          const all = series.flat();
          const lo = Math.min(...all.map((p) => p.v));
          const hi = Math.max(...all.map((p) => p.v));
          for (let i = 0; i < out.length; i++) {
            const p = out[i]!;
            expect(p.t % bucketMs === 0 || Math.abs(p.t / bucketMs - Math.round(p.t / bucketMs)) < 1e-9).toBe(true);
            if (i > 0) expect(p.t).toBeGreaterThan(out[i - 1]!.t);
            expect(p.v).toBeGreaterThanOrEqual(lo - 1e-6);
            expect(p.v).toBeLessThanOrEqual(hi + 1e-6);
          }
          expect(out.length).toBe(new Set(all.map((p) => Math.floor(p.t / bucketMs))).size);
        },
      ),
    );
  });
});

describe('downsample', () => {
  const series = Array.from({ length: 1000 }, (_, i) => ({ t: T0 + i * 10 * S, v: i }));

  it('1,000 points to 100: groups of 10, means of time and value', () => {
    const out = downsample(series, 100);
    expect(out).toHaveLength(100);
    expect(out[0]).toEqual({ t: T0 + 45 * S, v: 4.5 });
    expect(out[99]).toEqual({ t: T0 + 9945 * S, v: 994.5 });
  });

  it('uneven split: 10 points to 3 groups of 3, 3, 4', () => {
    const out = downsample(series.slice(0, 10), 3);
    expect(out.map((p) => p.v)).toEqual([1, 4, 7.5]);
  });

  it.each([
    { n: 1000, len: 1000 },
    { n: 5000, len: 1000 },
    { n: 0, len: 0 },
    { n: -3, len: 0 },
    { n: NaN, len: 0 },
    { n: 1, len: 1 },
    { n: 2.9, len: 2 },
  ])('n = $n → $len points', ({ n, len }) => {
    expect(downsample(series, n)).toHaveLength(len);
  });

  it('returns a sorted copy when nothing needs to go', () => {
    const pts = [
      { t: 3, v: 1 },
      { t: 1, v: 2 },
    ];
    const out = downsample(pts, 10);
    expect(out).toEqual([
      { t: 1, v: 2 },
      { t: 3, v: 1 },
    ]);
    expect(out[1]).not.toBe(pts[0]);
  });

  it('property: at most n points, in time order, inside the input span, mean preserved', () => {
    fc.assert(
      fc.property(fc.array(pointArb, { maxLength: 400 }), fc.integer({ min: 1, max: 120 }), (pts, n) => {
        const out = downsample(pts, n);
        expect(out.length).toBeLessThanOrEqual(n);
        expect(out.length).toBe(Math.min(n, pts.length));
        for (let i = 1; i < out.length; i++) expect(out[i]!.t).toBeGreaterThanOrEqual(out[i - 1]!.t);
        if (pts.length === 0) return;
        const ts = pts.map((p) => p.t);
        for (const p of out) {
          expect(p.t).toBeGreaterThanOrEqual(Math.min(...ts));
          expect(p.t).toBeLessThanOrEqual(Math.max(...ts));
        }
        // Groups differ in size by at most one, so the mean of the group means is within
        // range × groups / (2 × points) of the true mean (exact when the sizes are equal).
        const vs = pts.map((p) => p.v);
        const range = Math.max(...vs) - Math.min(...vs);
        const bound = (range * out.length) / (2 * pts.length) + 1e-9 * (1 + Math.max(...vs.map(Math.abs)));
        expect(Math.abs(mean(out.map((p) => p.v)) - mean(vs))).toBeLessThanOrEqual(bound);
        if (pts.length % out.length === 0)
          expect(Math.abs(mean(out.map((p) => p.v)) - mean(vs))).toBeLessThanOrEqual(1e-9 * (1 + range + Math.max(...vs.map(Math.abs))));
      }),
    );
  });

  it('property: never NaN for any finite input', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ t: finiteDouble, v: finiteDouble }), { maxLength: 100 }), fc.integer({ min: 1, max: 30 }), (pts, n) => {
        for (const p of downsample(pts, n)) {
          expect(Number.isFinite(p.t)).toBe(true);
          expect(Number.isFinite(p.v)).toBe(true);
        }
      }),
    );
  });
});

describe('humanDuration', () => {
  it.each([
    [0, '<1 s'],
    [-5, '<1 s'],
    [999, '<1 s'],
    [1000, '~1 s'],
    [45_000, '~45 s'],
    [59_400, '~59 s'],
    [59_600, '~1 min'],
    [12 * MIN, '~12 min'],
    [89 * MIN, '~89 min'],
    [90 * MIN, '~2 h'],
    [3 * HOUR, '~3 h'],
    [2.6 * HOUR, '~3 h'],
    [47 * HOUR, '~47 h'],
    [48 * HOUR, '~2 d'],
    [10 * 24 * HOUR, '~10 d'],
    [Infinity, '∞'],
    [NaN, '?'],
  ])('%s ms → %s', (ms, text) => {
    expect(humanDuration(ms)).toBe(text);
  });
});

describe('trend statistics', () => {
  it.each([
    { values: [], m: 0 },
    { values: [3], m: 3 },
    { values: [3, 1], m: 2 },
    { values: [5, 1, 3], m: 3 },
    { values: [4, 1, 3, 2], m: 2.5 },
    { values: [7, 7, 7, 7, 7], m: 7 },
    { values: [Number.MAX_VALUE, Number.MAX_VALUE], m: Number.MAX_VALUE },
  ])('median of $values is $m', ({ values, m }) => {
    expect(median(values)).toBe(m);
  });

  it('property: select and median agree with sorting', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(finiteDouble, fc.integer({ min: -3, max: 3 })), { minLength: 1, maxLength: 3000 }), fc.nat(), (values, kRaw) => {
        const sorted = [...values].sort((x, y) => x - y);
        const k = kRaw % values.length;
        const a = Float64Array.from(values);
        expect(selectInPlace(a, k) === sorted[k]).toBe(true); // === so that -0 and 0 match
        for (let i = 0; i < k; i++) expect(a[i]!).toBeLessThanOrEqual(a[k]!);
        for (let i = k + 1; i < a.length; i++) expect(a[i]!).toBeGreaterThanOrEqual(a[k]!);
        const mid = values.length >> 1;
        const expected = values.length % 2 ? sorted[mid]! : sorted[mid - 1]! / 2 + sorted[mid]! / 2;
        expect(medianInPlace(Float64Array.from(values)) === expected).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('selection stays fast on awkward orders (sorted, reversed, organ pipe, all equal)', () => {
    const n = 200_001;
    const shapes = [
      Float64Array.from({ length: n }, (_, i) => i),
      Float64Array.from({ length: n }, (_, i) => n - i),
      Float64Array.from({ length: n }, (_, i) => Math.min(i, n - i)),
      new Float64Array(n).fill(1),
      Float64Array.from({ length: n }, (_, i) => i % 3),
    ];
    for (const a of shapes) {
      const sorted = Float64Array.from(a).sort();
      expect(medianInPlace(a)).toBe(sorted[n >> 1]);
    }
  });

  it('mean does not overflow', () => {
    expect(mean([Number.MAX_VALUE, Number.MAX_VALUE])).toBe(Number.MAX_VALUE);
    expect(mean([])).toBe(0);
    expect(mean([1, 2, 3, 4])).toBeCloseTo(2.5, 12);
  });

  it('Theil–Sen: exact on a line, ignores ties, 0 without distinct x, same line when subsampled', () => {
    const x = Float64Array.from({ length: 50 }, (_, i) => i);
    const y = Float64Array.from(x, (v) => 3 * v - 2);
    expect(theilSenSlope(x, y)).toBeCloseTo(3, 12);
    expect(theilSenSlope(x, y, 0, 100)).toBeCloseTo(3, 12);
    expect(theilSenSlope(x, y, 0, 1)).toBeCloseTo(3, 12);
    expect(theilSenSlope(Float64Array.of(1, 1, 1), Float64Array.of(1, 2, 3))).toBe(0);
    expect(theilSenSlope(Float64Array.of(0, 0, 1), Float64Array.of(0, 100, 1))).toBe(-49); // pairs (0,2): 1 and (1,2): -99; the tie is skipped
    expect(theilSenSlope(new Float64Array(0), new Float64Array(0))).toBe(0);
  });

  it('Theil–Sen: the stride subsample covers short and long gaps alike', () => {
    // A line plus a slow sine: short gaps see the sine's slope, long gaps the line's. A sample
    // biased to short or long gaps would pull the median away from the all-pairs value.
    const n = 2500;
    const x = Float64Array.from({ length: n }, (_, i) => i / n);
    const y = Float64Array.from(x, (v) => v + 0.3 * Math.sin(40 * v));
    const exact = theilSenSlope(x, y, 0, Infinity);
    for (const budget of [10_000, 100_000, 1_000_000]) expect(Math.abs(theilSenSlope(x, y, 0, budget) - exact)).toBeLessThan(0.05);
  });

  it('t quantiles: table, expansion, limit', () => {
    expect(tQuantile975(1)).toBeCloseTo(12.706, 3);
    expect(tQuantile975(4)).toBeCloseTo(2.776, 3);
    expect(tQuantile975(0)).toBeCloseTo(12.706, 3);
    expect(tQuantile975(11)).toBeCloseTo(2.201, 3);
    expect(tQuantile975(30)).toBeCloseTo(2.042, 3);
    expect(tQuantile975(120)).toBeCloseTo(1.98, 3);
    expect(tQuantile975(1e9)).toBeCloseTo(1.96, 3);
    for (let d = 2; d < 200; d++) expect(tQuantile975(d)).toBeLessThan(tQuantile975(d - 1));
  });
});
