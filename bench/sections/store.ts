/**
 * store section: figures of the SQLite store (moved here from test/integration/store-figures.test.ts,
 * where they were printed and never asserted): batch append (history and its roll-ups), point
 * query, range streaming, durable vs normal write latency, bytes per history row, retention passes.
 * Timings depend on the machine and its load. ~30 s.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HistoryPoint } from '../../src/operations.js';
import { openSqliteStore } from '../../src/store/index.js';
import { hostInfo } from '../lib/stats.js';
import type { Section, SectionContext, SectionResult } from './types.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

function point(e: number, at: number): HistoryPoint {
  return {
    key: `cluster-${e % 10}/10.0.${e >> 8}.${e & 255}:8080`,
    cluster: `cluster-${e % 10}`,
    at,
    score: 87.5,
    status: 'HEALTHY',
    circuit: 'closed',
    health: 'HEALTHY',
    weight: 100,
    latencyMs: 12.3,
    errorRate: 0.01,
    cpuPercent: 41,
    memoryPercent: 63,
    diskPercent: 70,
    heartbeatAgeS: 2,
    reasons: [],
  };
}

function time<T>(fn: () => T): [T, number] {
  const t0 = performance.now();
  const r = fn();
  return [r, performance.now() - t0];
}

const rate = (n: number, ms: number) => Math.round(n / (ms / 1000)).toLocaleString('en');

function percentiles(samples: number[]): string {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
  return `median ${at(0.5).toFixed(3)} ms, p99 ${at(0.99).toFixed(3)} ms`;
}

function measure(dir: string): string[] {
  const path = join(dir, 'figures.db');
  const store = openSqliteStore(path);
  const out: string[] = [];
  const now = 1_000 * HOUR;

  // 1. One appendHistory of 10,000 points (one transaction): 1,000 endpoints x 10 samples.
  const start = now - 90 * MINUTE;
  const batch = Array.from({ length: 10_000 }, (_, i) => point(i % 1000, start + Math.floor(i / 1000) * 10_000));
  const [, appendMs] = time(() => store.appendHistory(batch));
  out.push(`appendHistory 10,000 points in one call: ${appendMs.toFixed(1)} ms (${rate(10_000, appendMs)} points/s)`);

  // Fill: 1,000 endpoints sampled every 10 s, in sampler-sized batches of 1,000, up to 300,000 rows.
  const sampler: number[] = [];
  for (let s = 10; s < 300; s++) {
    const pts = Array.from({ length: 1000 }, (_, e) => point(e, start + s * 10_000));
    sampler.push(time(() => store.appendHistory(pts))[1]);
  }
  const filled = 300_000;
  out.push(`appendHistory of 1,000 points (one sampler batch) while filling to 300,000 rows: ${percentiles(sampler)}`);

  // 2. history(): the newest 1,000 points of one endpoint.
  const busy = Array.from({ length: 2000 }, (_, i) => point(5000, start + i * 1000));
  store.appendHistory(busy);
  const q1000: number[] = [];
  for (let i = 0; i < 50; i++) {
    const [pts, ms] = time(() => store.history(busy[0]!.key, { limit: 1000 }));
    q1000.push(ms);
    if (i === 0 && pts.length !== 1000) throw new Error(`history(limit 1000) returned ${pts.length} points`);
  }
  const q300: number[] = [];
  for (let i = 0; i < 50; i++) q300.push(time(() => store.history(point(i, 0).key, { limit: 1000 }))[1]);
  out.push(`history(key, limit 1000), 1,000 points of a key written in bulk: ${percentiles(q1000)}`);
  out.push(`history(key, limit 1000), 300 points interleaved with 999 other keys: ${percentiles(q300)}`);

  // 3. historyRange over everything, streamed; historyKeys for one cluster.
  const heap0 = process.memoryUsage().heapUsed;
  let n = 0;
  const [, rangeMs] = time(() => {
    for (const _p of store.historyRange({ from: 0, to: now })) n++;
  });
  const heapMb = (process.memoryUsage().heapUsed - heap0) / 1e6;
  out.push(
    `historyRange streaming ${n.toLocaleString('en')} points: ${rangeMs.toFixed(0)} ms (${rate(n, rangeMs)} points/s, heap delta ${heapMb.toFixed(1)} MB)`,
  );
  const [keys, keysMs] = time(() => store.historyKeys({ from: now - 60 * MINUTE, to: now, cluster: 'cluster-3' }));
  out.push(`historyKeys(1 h, one cluster) among 1,001 keys: ${keysMs.toFixed(1)} ms (${keys.length} keys)`);

  // 4. Durable (FULL) vs normal writes.
  const regs: number[] = [];
  for (let i = 0; i < 300; i++)
    regs.push(time(() => store.saveRegistration({ cluster: 'c', address: `10.9.${i >> 8}.${i & 255}`, port: 80, weight: 1, registeredAt: i }))[1]);
  const floors: number[] = [];
  for (let i = 0; i < 300; i++) floors.push(time(() => store.saveVersionFloor(String(1_763_000_000_000_000 + i)))[1]);
  const alerts: number[] = [];
  for (let i = 0; i < 300; i++) {
    alerts.push(
      time(() =>
        store.saveAlert({ id: `a${i}`, rule: 'r', level: 'info', subject: 's', message: 'm', state: 'firing', firedAt: i, lastSeenAt: i, count: 1 }),
      )[1],
    );
  }
  out.push(`saveRegistration (synchronous=FULL): ${percentiles(regs)}`);
  out.push(`saveVersionFloor (synchronous=FULL): ${percentiles(floors)}`);
  out.push(`saveAlert (synchronous=NORMAL, similar row): ${percentiles(alerts)}`);

  // 5. Size on disk per history row, checkpointed.
  store.close();
  out.push(
    `file ${(statSync(path).size / 1e6).toFixed(1)} MB for ${(filled + 2000).toLocaleString('en')} history rows: ~${Math.round(statSync(path).size / (filled + 2000))} bytes/row with indexes`,
  );

  // 6. Retention: history 45 min, full resolution 15 min, over 50 min of samples. The first pass
  // catches up on 30 min of full-resolution rows; the next one, 10 minutes (and 60,000 new rows)
  // later, is the steady state: 10 minutes downsampled, 10 minutes deleted.
  const again = openSqliteStore(path);
  const retention = { historyMs: 45 * MINUTE, fullResolutionMs: 15 * MINUTE, alertsMs: HOUR };
  const [r1, c1] = time(() => again.cleanup(start + 60 * MINUTE, retention));
  out.push(`cleanup, first pass: ${c1.toFixed(0)} ms ${JSON.stringify(r1)}`);
  for (let s = 300; s < 360; s++) again.appendHistory(Array.from({ length: 1000 }, (_, e) => point(e, start + s * 10_000)));
  const [r2, c2] = time(() => again.cleanup(start + 70 * MINUTE, retention));
  out.push(`cleanup, steady state 10 min later: ${c2.toFixed(0)} ms ${JSON.stringify(r2)}`);
  again.close();

  return out;
}

async function run(ctx: SectionContext): Promise<SectionResult> {
  const dir = mkdtempSync(join(tmpdir(), 'healthmesh-bench-store-'));
  try {
    ctx.log('store: 1,000 endpoints sampled every 10 s, 300,000 rows');
    const lines = measure(dir);
    return { table: lines.join('\n'), ok: true, data: { host: hostInfo(), lines } };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const storeSection: Section = {
  name: 'store',
  description: 'SQLite store figures: appends, queries, durable writes, size per row, retention',
  run,
};
