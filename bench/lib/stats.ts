/** Small helpers shared by bench sections: distributions, memory, formatting. */
import { execSync } from 'node:child_process';
import os from 'node:os';

export interface Dist {
  n: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile (p in 0..100) of an ascending-sorted array. With 20 samples, p99 is the maximum. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1]!;
}

export function dist(values: readonly number[]): Dist {
  const s = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  const sum = s.reduce((a, b) => a + b, 0);
  return {
    n: s.length,
    min: s[0] ?? NaN,
    p50: percentile(s, 50),
    p90: percentile(s, 90),
    p99: percentile(s, 99),
    max: s[s.length - 1] ?? NaN,
    mean: s.length ? sum / s.length : NaN,
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

const gcFn = (globalThis as { gc?: () => void }).gc;
export const gcAvailable = typeof gcFn === 'function';

/** Full GC (when --expose-gc), then memoryUsage(). */
export async function settledMemory(): Promise<NodeJS.MemoryUsage> {
  if (gcFn) {
    for (let i = 0; i < 3; i++) {
      gcFn();
      await new Promise((r) => setImmediate(r));
    }
  }
  return process.memoryUsage();
}

export function hostInfo(): Record<string, unknown> {
  const cpus = os.cpus();
  let commit: string | undefined;
  try {
    commit = execSync('git rev-parse --short HEAD', { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
    const dirty = execSync('git status --porcelain', { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
    if (dirty) commit += '+dirty';
  } catch {
    /* not a git checkout */
  }
  return {
    node: process.version,
    platform: `${process.platform} ${os.release()} ${process.arch}`,
    cpu: cpus[0]?.model,
    cpus: cpus.length,
    totalMemMiB: Math.round(os.totalmem() / 2 ** 20),
    commit,
  };
}

// ---- formatting

export function fmtMs(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '—';
  if (v >= 10_000) return `${(v / 1000).toFixed(1)} s`;
  if (v >= 100) return v.toFixed(0);
  if (v >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

export function fmtBytes(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '—';
  const a = Math.abs(v);
  if (a >= 10 * 2 ** 20) return `${(v / 2 ** 20).toFixed(1)} MiB`;
  if (a >= 10 * 2 ** 10) return `${(v / 2 ** 10).toFixed(1)} KiB`;
  return `${Math.round(v)} B`;
}

export function fmtNum(v: number | undefined, digits = 0): string {
  if (v === undefined || !Number.isFinite(v)) return '—';
  return v.toFixed(digits);
}

/** Plain-text table; the first column is left-aligned, the others right-aligned. Header rows may be several. */
export function table(headers: string[][], rows: Array<string[] | null>): string {
  const all = [...headers, ...rows.filter((r): r is string[] => r !== null)];
  const cols = Math.max(...all.map((r) => r.length));
  const width = Array.from({ length: cols }, (_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]): string =>
    r
      .map((cell, c) => (c === 0 ? cell.padEnd(width[c]!) : cell.padStart(width[c]!)))
      .join('  ')
      .trimEnd();
  const sep = width.map((w) => '-'.repeat(w)).join('  ');
  const out = headers.map(line);
  out.push(sep);
  for (const r of rows) out.push(r === null ? sep : line(r));
  return out.join('\n');
}
