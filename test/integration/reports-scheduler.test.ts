/** Scheduled reports into a real temporary directory: atomic writes, retention per group, start/stop. */
import { mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import type { ReportsConfig } from '../../src/reports/config.js';
import { fileStamp } from '../../src/reports/format.js';
import { reportSchemas } from '../../src/reports/schema.js';
import { ReportScheduler, scheduledFileName } from '../../src/reports/scheduler.js';
import type { Store } from '../../src/store/index.js';
import { HOUR, MINUTE, RANGE, seededOperations, seededStore } from '../support/report-fixtures.js';
import { waitFor } from '../support/wait.js';

let store: Store;
const dirs: string[] = [];
const schedulers: ReportScheduler[] = [];

beforeAll(() => {
  store = seededStore();
});
afterEach(async () => {
  await Promise.all(schedulers.splice(0).map((s) => s.stop()));
});
afterAll(() => {
  store.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'healthmesh-reports-'));
  dirs.push(d);
  return d;
}

function scheduler(config: ReportsConfig, now: () => number, logs?: string[]): ReportScheduler {
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs?.push(String(chunk));
      cb();
    },
  });
  const s = new ReportScheduler({ config, source: { store, ops: seededOperations() }, now, logger: createLogger('debug', sink) });
  schedulers.push(s);
  return s;
}

describe('ReportScheduler', () => {
  it('writes each entry atomically and keeps the newest `keep` per type / cluster / format', async () => {
    const directory = join(tempDir(), 'nested', 'reports');
    let now = RANGE.to;
    const config: ReportsConfig = {
      directory,
      keep: 2,
      schedule: [
        { type: 'summary', format: 'json', everyMs: HOUR, rangeMs: 6 * HOUR },
        { type: 'alerts', format: 'csv', everyMs: HOUR, rangeMs: 6 * HOUR, cluster: 'web' },
        { type: 'summary', format: 'html', everyMs: HOUR, rangeMs: 6 * HOUR },
      ],
    };
    const s = scheduler(config, () => now);
    const written: string[][] = [];
    for (let i = 0; i < 4; i++) {
      written.push(await s.runNow());
      now += 10 * MINUTE;
    }
    expect(written.every((w) => w.length === 3)).toBe(true);
    const files = readdirSync(directory).sort();
    // Two of each group remain, the newest; no temporary files.
    const expected = [2, 3].flatMap((i) => {
      const to = RANGE.to + i * 10 * MINUTE;
      return config.schedule.map((e) => scheduledFileName(e, to - 6 * HOUR, to));
    });
    expect(files).toEqual(expected.sort());
    expect(files.some((f) => f.includes('.tmp-'))).toBe(false);
    expect(files).toContain(`healthmesh-alerts-web-${fileStamp(RANGE.to + 30 * MINUTE - 6 * HOUR)}-${fileStamp(RANGE.to + 30 * MINUTE)}.csv`);

    const json = JSON.parse(readFileSync(written[3]![0]!, 'utf8')) as unknown;
    expect(reportSchemas.summary.parse(json).meta.to).toBe(RANGE.to + 30 * MINUTE);
    const csv = parseCsv(readFileSync(written[3]![1]!, 'utf8'), { columns: true }) as Array<Record<string, string>>;
    expect(csv.length).toBeGreaterThan(0);
    expect(csv.every((r) => r.Cluster === 'web')).toBe(true);
    expect(readFileSync(written[3]![2]!, 'utf8')).toMatch(/^<!DOCTYPE html>/);
  });

  it('runs on its timer until stopped; stop is idempotent and nothing is written after it', async () => {
    const directory = tempDir();
    let now = RANGE.to;
    const s = scheduler({ directory, keep: 100, schedule: [{ type: 'alerts', format: 'md', everyMs: 50, rangeMs: 6 * HOUR }] }, () => (now += MINUTE));
    await s.start();
    await s.start(); // idempotent
    await waitFor(() => readdirSync(directory).filter((f) => f.endsWith('.md')).length >= 3, { timeoutMs: 10_000, what: 'three scheduled reports' });
    await s.stop();
    await s.stop();
    const after = readdirSync(directory);
    // The positive marker: a twin scheduler on the same period, started now, writes three reports; by then the
    // stopped one would have written more had any timer survived stop().
    const twinDir = tempDir();
    let twinNow = RANGE.to;
    const twin = scheduler(
      { directory: twinDir, keep: 100, schedule: [{ type: 'alerts', format: 'md', everyMs: 50, rangeMs: 6 * HOUR }] },
      () => (twinNow += MINUTE),
    );
    await twin.start();
    await waitFor(() => readdirSync(twinDir).filter((f) => f.endsWith('.md')).length >= 3, { timeoutMs: 10_000, what: "the twin's three reports" });
    await twin.stop();
    expect(readdirSync(directory)).toEqual(after);
    expect(after.some((f) => f.includes('.tmp-'))).toBe(false);
  });

  it('removes stale temporary files at start, leaves other files alone', async () => {
    const directory = tempDir();
    const stale = join(directory, '.healthmesh-summary-x.json.tmp-1-abcd');
    const fresh = join(directory, '.healthmesh-summary-y.json.tmp-2-abcd');
    const mine = join(directory, 'notes.txt');
    for (const f of [stale, fresh, mine]) writeFileSync(f, 'x');
    const old = (Date.now() - 2 * HOUR) / 1000;
    utimesSync(stale, old, old);
    const s = scheduler({ directory, keep: 1, schedule: [] }, () => RANGE.to);
    await s.start();
    expect(readdirSync(directory).sort()).toEqual(['.healthmesh-summary-y.json.tmp-2-abcd', 'notes.txt']);
  });

  it('a failing entry is logged and writes nothing; the others still run', async () => {
    const directory = tempDir();
    const logs: string[] = [];
    const s = scheduler(
      {
        directory,
        keep: 3,
        schedule: [
          { type: 'summary', format: 'json', everyMs: HOUR, rangeMs: 6 * HOUR, cluster: 'gone' },
          { type: 'summary', format: 'md', everyMs: HOUR, rangeMs: 6 * HOUR },
        ],
      },
      () => RANGE.to,
      logs,
    );
    const written = await s.runNow();
    expect(written).toHaveLength(1);
    expect(readdirSync(directory)).toEqual([written[0]!.split('/').pop()]);
    expect(logs.join('')).toMatch(/scheduled report failed/);
    expect(logs.join('')).toMatch(/unknown cluster/);
  });
});
