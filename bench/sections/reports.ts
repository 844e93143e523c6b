/**
 * reports section: how long a report takes and how much memory it needs over a large history.
 *
 * Target size: 1,000 endpoints (10 clusters) × 24 h at 10 s resolution = 8.64 M history points, written
 * once through the real store into a temporary SQLite file (one batch per sampling round, as a running
 * healthmesh writes), plus 2,000 alerts. `--quick` scales the endpoints down to 100 (0.864 M points,
 * factor 1/10, printed with the results); HEALTHMESH_BENCH_REPORT_ENDPOINTS=N picks another size.
 * HEALTHMESH_BENCH_KEEP_DATA=1 keeps the file in the temp directory and reuses it next time.
 *
 * Each report type then runs in a fresh process (reports-scenario.ts): build from the file (offline,
 * as `healthmesh report --store` does), then render json, html, csv, md and xlsx.
 */
import { fork } from 'node:child_process';
import { existsSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPORT_TYPES } from '../../src/reports/model.js';
import { SCHEMA_VERSION } from '../../src/store/schema.js';
import { fmtBytes, fmtMs, hostInfo, table } from '../lib/stats.js';
import { generateHistory, type GeneratedHistory, type HistorySpec } from './reports-data.js';
import type { ReportScenario, ReportScenarioResult } from './reports-scenario.js';
import type { Section, SectionContext, SectionResult } from './types.js';

const TARGET_ENDPOINTS = 1000;
const DAY_MS = 86_400_000;
/** A fixed end time: the generated file is the same every run. */
const TO = Date.UTC(2026, 0, 1);

function spec(quick: boolean): HistorySpec {
  const env = Number(process.env.HEALTHMESH_BENCH_REPORT_ENDPOINTS);
  const endpoints = Number.isInteger(env) && env > 0 ? env : quick ? 100 : TARGET_ENDPOINTS;
  return { endpoints, clusters: Math.max(1, Math.round(endpoints / 100)), rangeMs: DAY_MS, stepMs: 10_000, to: TO, alerts: 2000 };
}

function runInChild(s: ReportScenario, ctx: SectionContext): Promise<ReportScenarioResult | { error: string }> {
  const file = fileURLToPath(new URL('./reports-scenario.ts', import.meta.url));
  const child = fork(file, [], {
    execArgv: ['--expose-gc', '--import', import.meta.resolve('tsx')],
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve) => {
    let settled = false;
    const finish = (r: ReportScenarioResult | { error: string }): void => {
      if (settled) return;
      settled = true;
      resolve(r);
    };
    child.on('message', (m: { result?: ReportScenarioResult; error?: string }) => {
      if (m.result) finish(m.result);
      if (m.error !== undefined) {
        ctx.log(`reports: ${s.type}: ${m.error}`);
        finish({ error: m.error.split('\n')[0] ?? m.error });
      }
    });
    child.on('exit', (code, signal) => finish({ error: `scenario process exited (code ${code}, signal ${signal}) without a result` }));
    child.send({ scenario: s });
  });
}

const mib = (b: number): string => `${(b / 2 ** 20).toFixed(0)} MiB`;

async function run(ctx: SectionContext): Promise<SectionResult> {
  const sp = spec(ctx.quick);
  const points = sp.endpoints * (sp.rangeMs / sp.stepMs);
  const factor = sp.endpoints / TARGET_ENDPOINTS;
  const keep = process.env.HEALTHMESH_BENCH_KEEP_DATA === '1';
  const path = join(tmpdir(), `healthmesh-bench-reports-${sp.endpoints}x${sp.rangeMs / sp.stepMs}-s${SCHEMA_VERSION}.db`);
  const done = `${path}.complete`;
  let data: GeneratedHistory;
  if (keep && existsSync(path) && existsSync(done)) {
    data = { path, points, alerts: sp.alerts, ms: 0, bytes: statSync(path).size };
    ctx.log(`reports: reusing ${path}`);
  } else {
    for (const f of [path, `${path}-wal`, `${path}-shm`, done]) rmSync(f, { force: true });
    ctx.log(`reports: writing ${points.toLocaleString('en')} history points (${sp.endpoints} endpoints × 24 h at 10 s) into ${path}`);
    data = generateHistory(path, sp, ctx.log);
    writeFileSync(done, '');
    ctx.log(`reports: generated in ${(data.ms / 1000).toFixed(1)} s, ${fmtBytes(data.bytes)}`);
  }
  const results: Array<ReportScenarioResult | { type: string; error: string }> = [];
  try {
    for (const type of REPORT_TYPES) {
      ctx.log(`reports: ${type}`);
      const r = await runInChild({ dbPath: path, type, from: TO - sp.rangeMs, to: TO }, ctx);
      results.push('error' in r ? { type, error: r.error } : r);
    }
  } finally {
    if (!keep) for (const f of [path, `${path}-wal`, `${path}-shm`, done]) rmSync(f, { force: true });
  }

  const scale =
    factor === 1
      ? ''
      : `   SCALED: ${sp.endpoints} endpoints = ${factor} × the target of ${TARGET_ENDPOINTS} (multiply build time and build memory by about ${(1 / factor).toFixed(1)})`;
  const head = [
    `${sp.endpoints.toLocaleString('en')} endpoints × 24 h at 10 s = ${points.toLocaleString('en')} points (+ ${sp.alerts} alerts); SQLite file ${fmtBytes(data.bytes)}${data.ms ? `, written in ${(data.ms / 1000).toFixed(1)} s (${Math.round(points / (data.ms / 1000)).toLocaleString('en')} points/s)` : ' (reused)'}`,
    ...(scale ? [scale] : []),
    'Offline build from the store file (the admin route adds only the live state); each type in a fresh process.',
    'peak heap: heapUsed + external + arrayBuffers above the settled baseline, sampled every 5 ms; max RSS: getrusage, lifetime of the process so far.',
    '',
  ];
  const rows: Array<string[] | null> = [];
  for (const r of results) {
    if ('error' in r) {
      rows.push([r.type, 'error', r.error, '', '', '', '']);
      rows.push(null);
      continue;
    }
    for (const p of r.phases) {
      const rate = p.phase === 'build' && r.points > 0 ? `${Math.round(r.points / (p.ms / 1000)).toLocaleString('en')} pts/s` : '';
      rows.push([
        p.phase === 'build' ? r.type : '',
        p.phase,
        fmtMs(p.ms),
        p.bytes === undefined ? rate : fmtBytes(p.bytes),
        mib(p.peakHeapDeltaBytes),
        mib(p.peakRssBytes),
        mib(p.maxRssBytes),
      ]);
    }
    rows.push(null);
  }
  rows.pop();
  const text = head.join('\n') + table([['report', 'phase', 'time (ms)', 'output / rate', 'peak heap Δ', 'peak RSS', 'max RSS']], rows);
  const ok = results.every((r) => !('error' in r));
  return {
    table: text,
    ok,
    data: {
      host: hostInfo(),
      spec: sp,
      targetEndpoints: TARGET_ENDPOINTS,
      scaleFactor: factor,
      points,
      generated: { ms: data.ms, bytes: data.bytes },
      results,
    },
  };
}

export const reportsSection: Section = {
  name: 'reports',
  description: 'report generation over 1,000 endpoints × 24 h at 10 s (8.64 M points): build and render time, peak memory per format',
  run,
};
