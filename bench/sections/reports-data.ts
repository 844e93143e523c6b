/**
 * Synthetic history for the reports benchmark, written through the real store into a SQLite file the
 * way a running healthmesh writes it (one batch per sampling round, all endpoints, time order).
 * Deterministic: the same parameters give the same file.
 */
import { statSync } from 'node:fs';
import type { AlertRecord, HistoryPoint } from '../../src/operations.js';
import { openSqliteStore } from '../../src/store/index.js';
import { mulberry32 } from '../../test/support/prng.js';

export interface HistorySpec {
  endpoints: number;
  clusters: number;
  /** Range covered, ending at `to`. */
  rangeMs: number;
  stepMs: number;
  to: number;
  alerts: number;
}

export interface GeneratedHistory {
  path: string;
  points: number;
  alerts: number;
  ms: number;
  bytes: number;
}

const rng = mulberry32;

export function generateHistory(path: string, spec: HistorySpec, log: (msg: string) => void): GeneratedHistory {
  const started = Date.now();
  const store = openSqliteStore(path);
  const r = rng(7);
  const perCluster = Math.ceil(spec.endpoints / spec.clusters);
  const eps = Array.from({ length: spec.endpoints }, (_, i) => {
    const cluster = `c${String(Math.floor(i / perCluster)).padStart(2, '0')}`;
    const address = `10.${Math.floor(i / 250) % 250}.${i % 250}.1`;
    return {
      key: `${cluster}/${address}:8080`,
      cluster,
      agent: i % 2 === 0,
      passive: i % 3 === 0,
      // ~5% of endpoints have trouble: a degraded hour and an unhealthy stretch.
      troubleAt: r() < 0.05 ? Math.floor(r() * 20) : -1,
      memSlope: r() * 2,
    };
  });
  const steps = Math.floor(spec.rangeMs / spec.stepMs);
  const from = spec.to - steps * spec.stepMs;
  const roundsPerBatch = Math.max(1, Math.floor(10_000 / spec.endpoints));
  let batch: HistoryPoint[] = [];
  let points = 0;
  for (let s = 0; s < steps; s++) {
    const at = from + s * spec.stepMs;
    const h = (at - from) / 3_600_000;
    for (const e of eps) {
      const trouble = e.troubleAt >= 0 && h >= e.troubleAt && h < e.troubleAt + 1.5;
      const down = trouble && h >= e.troubleAt + 1;
      const p: HistoryPoint = {
        key: e.key,
        cluster: e.cluster,
        at,
        score: down ? 5 : trouble ? 55 + r() * 5 : 95 + r() * 5,
        status: down ? 'UNHEALTHY' : trouble ? 'DEGRADED' : 'HEALTHY',
        circuit: down ? 'open' : 'closed',
        health: down ? 'UNHEALTHY' : 'HEALTHY',
        weight: down ? 0 : trouble ? 30 : 100,
        latencyMs: (trouble ? 800 : 20) + r() * 10,
      };
      if (e.passive) p.errorRate = Math.max(0, (trouble ? 0.3 : 0.01) + (r() - 0.5) * 0.01);
      if (e.agent) {
        p.cpuPercent = 30 + r() * 20;
        p.memoryPercent = 50 + e.memSlope * h + r();
        p.diskPercent = 60 + r() * 0.5;
        p.heartbeatAgeS = 2;
      }
      if (trouble) p.reasons = down ? ['3 consecutive failed checks (last: HTTP 503)'] : ['p99 1.8 s > 500 ms'];
      batch.push(p);
    }
    if ((s + 1) % roundsPerBatch === 0 || s === steps - 1) {
      store.appendHistory(batch);
      points += batch.length;
      batch = [];
    }
    if (s % Math.max(1, Math.floor(steps / 10)) === 0 && s > 0)
      log(
        `reports: generating history: ${Math.round((100 * s) / steps)}% (${points.toLocaleString('en')} points, ${((Date.now() - started) / 1000).toFixed(0)} s)`,
      );
  }
  const rules = ['endpointUnhealthy', 'endpointDegraded', 'endpointFlapping', 'clusterGuarded', 'proxyNack'];
  const levels = ['critical', 'warning', 'warning', 'critical', 'info'] as const;
  for (let i = 0; i < spec.alerts; i++) {
    const e = eps[i % eps.length]!;
    const k = i % rules.length;
    const firedAt = from + Math.floor(r() * (spec.rangeMs - 3_600_000));
    const resolved = r() < 0.9;
    const a: AlertRecord = {
      id: `bench-${i}`,
      rule: rules[k]!,
      level: levels[k]!,
      subject: e.key,
      cluster: e.cluster,
      message: `${e.key} ${rules[k]} (bench)`,
      state: resolved ? 'resolved' : 'firing',
      firedAt,
      lastSeenAt: firedAt + 60_000,
      count: 1 + (i % 4),
    };
    if (resolved) a.resolvedAt = firedAt + Math.floor(r() * 3_600_000);
    store.saveAlert(a);
  }
  store.close();
  const bytes = ['', '-wal', '-shm'].reduce((n, suffix) => {
    try {
      return n + statSync(path + suffix).size;
    } catch {
      return n;
    }
  }, 0);
  return { path, points, alerts: spec.alerts, ms: Date.now() - started, bytes };
}
