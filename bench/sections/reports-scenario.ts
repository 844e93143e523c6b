/**
 * One report type, measured alone in a fresh process (forked by reports.ts): build it from the SQLite
 * file, then render it in every format to a byte-counting sink. Time and memory per phase: heap and
 * RSS are sampled every 5 ms (the builder yields to the event loop every 5,000 points) and the
 * process' lifetime peak RSS (getrusage maxrss) is read after each phase.
 */
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { buildReport } from '../../src/reports/build.js';
import { REPORT_FORMATS, type ReportFormat, type ReportType } from '../../src/reports/model.js';
import { renderReport } from '../../src/reports/render/index.js';
import { openSqliteStore } from '../../src/store/index.js';
import { settledMemory } from '../lib/stats.js';

export interface ReportScenario {
  dbPath: string;
  type: ReportType;
  from: number;
  to: number;
}

export interface PhaseResult {
  phase: 'build' | ReportFormat;
  ms: number;
  /** Output bytes (render phases). */
  bytes?: number;
  /** Peak of heapUsed + external + arrayBuffers above the settled baseline before the phase. */
  peakHeapDeltaBytes: number;
  /** Highest RSS sampled during the phase. */
  peakRssBytes: number;
  /** getrusage max RSS of the process so far. */
  maxRssBytes: number;
}

export interface ReportScenarioResult {
  type: ReportType;
  points: number;
  baselineRssBytes: number;
  phases: PhaseResult[];
}

const used = (m: NodeJS.MemoryUsage): number => m.heapUsed + m.external + m.arrayBuffers;

async function measure(phase: PhaseResult['phase'], body: () => Promise<number | undefined>): Promise<PhaseResult> {
  const base = used(await settledMemory());
  let peakUsed = base;
  let peakRss = process.memoryUsage.rss();
  const sample = (): void => {
    const m = process.memoryUsage();
    peakUsed = Math.max(peakUsed, used(m));
    peakRss = Math.max(peakRss, m.rss);
  };
  const timer = setInterval(sample, 5);
  const t0 = performance.now();
  let bytes: number | undefined;
  try {
    bytes = await body();
  } finally {
    clearInterval(timer);
  }
  const ms = performance.now() - t0;
  sample();
  return {
    phase,
    ms,
    ...(bytes !== undefined ? { bytes } : {}),
    peakHeapDeltaBytes: peakUsed - base,
    peakRssBytes: peakRss,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
  };
}

export async function runScenario(s: ReportScenario): Promise<ReportScenarioResult> {
  const store = openSqliteStore(s.dbPath);
  try {
    const baselineRssBytes = (await settledMemory()).rss;
    let report: Awaited<ReturnType<typeof buildReport>> | undefined;
    const phases: PhaseResult[] = [];
    phases.push(
      await measure('build', async () => {
        report = await buildReport({ store }, s.type, { from: s.from, to: s.to });
        return undefined;
      }),
    );
    for (const format of REPORT_FORMATS) {
      phases.push(
        await measure(format, async () => {
          let n = 0;
          const sink = new Writable({
            write(chunk: Buffer, _enc, cb) {
              n += chunk.length;
              cb();
            },
          });
          await pipeline(renderReport(report!, format).body, sink);
          return n;
        }),
      );
    }
    return { type: s.type, points: report!.meta.points, baselineRssBytes, phases };
  } finally {
    store.close();
  }
}

// Forked by reports.ts: one scenario per process, over IPC.
if (process.send) {
  process.once('message', (m: { scenario: ReportScenario }) => {
    runScenario(m.scenario).then(
      (result) => process.send!({ result }, () => process.exit(0)),
      (err: unknown) => process.send!({ error: (err as Error).stack ?? String(err) }, () => process.exit(1)),
    );
  });
}
