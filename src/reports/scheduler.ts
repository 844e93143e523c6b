/**
 * Scheduled reports: each configured entry is built every `everyMs` over the `rangeMs` that ends
 * then, and written into `directory` atomically (a temporary file in the same directory, fsync,
 * rename), so a reader never sees a half-written report. After each write only the newest `keep`
 * files of that entry's type / cluster / format stay; older ones are deleted.
 *
 * Runs never overlap (each entry re-arms its timer when its run ends); `stop()` is idempotent,
 * aborts a report being built and waits for it.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { silentLogger, type Logger } from '../log.js';
import { buildReport, type BuildOptions, type ReportSource } from './build.js';
import type { ReportScheduleEntry, ReportsConfig } from './config.js';
import { fileStamp } from './format.js';
import { EXTENSIONS, renderReport } from './render/index.js';

export interface ReportSchedulerOptions {
  config: ReportsConfig;
  source: ReportSource;
  logger?: Logger | undefined;
  now?: (() => number) | undefined;
  build?: Omit<BuildOptions, 'signal' | 'now'> | undefined;
  /** Also write every entry once right at start(). Default false (the first run is everyMs after start). */
  runAtStart?: boolean | undefined;
}

const TEMP_PREFIX = '.healthmesh-';
const TEMP_MARK = '.tmp-';
/** Leftover temp files older than this (a crash mid-write) are removed. */
const STALE_TEMP_MS = 3_600_000;

/** The file name prefix shared by every report of an entry's group. */
export function groupPrefix(e: Pick<ReportScheduleEntry, 'type' | 'cluster'>): string {
  return `healthmesh-${e.type}-${e.cluster ? `${e.cluster}-` : ''}`;
}

/** healthmesh-<type>[-<cluster>]-<from>-<to>.<ext> */
export function scheduledFileName(e: Pick<ReportScheduleEntry, 'type' | 'cluster' | 'format'>, from: number, to: number): string {
  return `${groupPrefix(e)}${fileStamp(from)}-${fileStamp(to)}.${EXTENSIONS[e.format]}`;
}

const STAMP = '\\d{8}T\\d{6}Z';
const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export class ReportScheduler {
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly running = new Set<Promise<unknown>>();
  private readonly abort = new AbortController();
  private started = false;
  private stopped = false;

  constructor(private readonly opts: ReportSchedulerOptions) {
    this.log = (opts.logger ?? silentLogger()).child({ component: 'report-scheduler' });
    this.now = opts.now ?? Date.now;
  }

  get directory(): string {
    return this.opts.config.directory;
  }

  async start(): Promise<void> {
    if (this.started || this.stopped) return;
    this.started = true;
    await mkdir(this.directory, { recursive: true });
    await this.removeStaleTemps();
    this.opts.config.schedule.forEach((entry, i) => {
      if (this.opts.runAtStart) this.track(this.runEntry(entry, i).then(() => this.arm(entry, i)));
      else this.arm(entry, i);
    });
    this.log.info({ directory: this.directory, entries: this.opts.config.schedule.length }, 'scheduled reports started');
  }

  /** Idempotent: no new runs; a report being built is aborted; resolves when in-flight work is done. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.abort.abort(new Error('report scheduler stopped'));
    while (this.running.size) await Promise.allSettled([...this.running]);
  }

  /** Writes entry `index` now (or every entry); resolves with the paths written. */
  async runNow(index?: number): Promise<string[]> {
    await mkdir(this.directory, { recursive: true });
    const entries = this.opts.config.schedule.map((e, i) => [e, i] as const).filter(([, i]) => index === undefined || i === index);
    const out: string[] = [];
    for (const [e, i] of entries) {
      const p = await this.track(this.runEntry(e, i));
      if (p) out.push(p);
    }
    return out;
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.running.add(p);
    void p.finally(() => this.running.delete(p)).catch(() => undefined);
    return p;
  }

  private arm(entry: ReportScheduleEntry, index: number): void {
    if (this.stopped) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      void this.track(this.runEntry(entry, index)).then(() => this.arm(entry, index));
    }, entry.everyMs);
    t.unref();
    this.timers.add(t);
  }

  /** Builds, writes and prunes one entry; logs failures (never throws). Resolves with the path written. */
  private async runEntry(entry: ReportScheduleEntry, index: number): Promise<string | undefined> {
    if (this.stopped) return undefined;
    const to = this.now();
    const from = to - entry.rangeMs;
    const name = scheduledFileName(entry, from, to);
    const path = join(this.directory, name);
    const temp = join(this.directory, `${TEMP_PREFIX}${name}${TEMP_MARK}${process.pid}-${randomBytes(4).toString('hex')}`);
    const started = Date.now();
    try {
      const report = await buildReport(
        this.opts.source,
        entry.type,
        { from, to, cluster: entry.cluster },
        { ...this.opts.build, now: this.now, signal: this.abort.signal },
      );
      const rendered = renderReport(report, entry.format, { table: entry.table });
      await pipeline(rendered.body, createWriteStream(temp, { flags: 'wx', mode: 0o644 }));
      const fh = await open(temp, 'r');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(temp, path);
      await this.syncDirectory();
      this.log.info({ file: path, type: entry.type, format: entry.format, points: report.meta.points, ms: Date.now() - started }, 'scheduled report written');
      await this.prune(entry);
      return path;
    } catch (err) {
      await rm(temp, { force: true }).catch(() => undefined);
      if (this.abort.signal.aborted) return undefined;
      this.log.error({ err, entry: index, type: entry.type, format: entry.format }, 'scheduled report failed');
      return undefined;
    }
  }

  private async syncDirectory(): Promise<void> {
    try {
      const dir = await open(this.directory, 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
    } catch {
      // Not every platform can fsync a directory; the rename itself is still atomic.
    }
  }

  /** Deletes all but the newest `keep` files of the entry's group (by the end time in their names). */
  private async prune(entry: ReportScheduleEntry): Promise<void> {
    const pattern = new RegExp(`^${escapeRe(groupPrefix(entry))}(${STAMP})-(${STAMP})\\.${escapeRe(EXTENSIONS[entry.format])}$`);
    const files = (await readdir(this.directory))
      .map((f) => ({ f, m: pattern.exec(f) }))
      .filter((x): x is { f: string; m: RegExpExecArray } => x.m !== null)
      .sort((a, b) => (b.m[2]! < a.m[2]! ? -1 : b.m[2]! > a.m[2]! ? 1 : b.f < a.f ? -1 : 1));
    for (const { f } of files.slice(this.opts.config.keep)) {
      await rm(join(this.directory, f), { force: true });
      this.log.debug({ file: f }, 'old scheduled report removed');
    }
  }

  private async removeStaleTemps(): Promise<void> {
    for (const f of await readdir(this.directory)) {
      if (!f.startsWith(TEMP_PREFIX) || !f.includes(TEMP_MARK)) continue;
      const p = join(this.directory, f);
      const s = await stat(p).catch(() => undefined);
      if (s && Date.now() - s.mtimeMs > STALE_TEMP_MS) await rm(p, { force: true });
    }
  }
}
