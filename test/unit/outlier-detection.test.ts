import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/load.js';
import { clusterResource } from '../../src/xds/resources.js';
import { decodeAny, packAny, TYPE } from '../../src/xds/protos.js';

const cluster = (outlierDetection?: Record<string, unknown>, guard = 50) =>
  validateConfig({ health: { guard: { maxEjectedPercent: guard } }, clusters: [{ name: 'c', ...(outlierDetection ? { outlierDetection } : {}) }] });

describe('clusters[].outlierDetection → CDS outlier_detection', () => {
  it('is absent unless configured', () => {
    const cfg = cluster();
    expect(clusterResource(cfg.clusters[0]!, { maxEjectionPercent: 50 }).message.outlier_detection).toBeUndefined();
  });

  it("survives Envoy's protobuf encoding, with max_ejection_percent from the guard unless set", () => {
    const cfg = cluster({ consecutive5xx: 3, baseEjectionTimeMs: 2500, failurePercentage: { threshold: 60 } }, 67);
    const spec = clusterResource(cfg.clusters[0]!, { maxEjectionPercent: cfg.health.guard.maxEjectedPercent });
    const decoded = decodeAny<Record<string, Record<string, unknown>>>(packAny(TYPE.cluster, spec.message));
    const od = decoded.outlier_detection as Record<string, { value?: number; seconds?: string; nanos?: number }>;
    expect(od).toMatchObject({
      consecutive_5xx: { value: 3 },
      enforcing_consecutive_5xx: { value: 100 },
      base_ejection_time: { seconds: '2', nanos: 500_000_000 },
      max_ejection_percent: { value: 67 },
      enforcing_failure_percentage: { value: 100 },
      failure_percentage_threshold: { value: 60 },
    });
    // 0 is protobuf's default: the wrapper is present and empty (success-rate ejection not enforced).
    expect(od.enforcing_success_rate?.value ?? 0).toBe(0);
    const own = cluster({ maxEjectionPercent: 20 });
    expect(clusterResource(own.clusters[0]!, { maxEjectionPercent: 50 }).message.outlier_detection).toMatchObject({ max_ejection_percent: { value: 20 } });
  });

  it('rejects bad values naming the field', () => {
    expect(() => cluster({ consecutive5xx: 0 })).toThrow(/clusters\[0\]\.outlierDetection\.consecutive5xx/);
    expect(() => cluster({ nope: 1 })).toThrow(/outlierDetection/);
  });
});
