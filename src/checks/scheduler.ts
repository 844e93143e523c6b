import type { CheckConfig } from '../config/schema.js';
import type { ProbeOutcome } from '../core/model.js';
import { InvalidArgumentError } from '../errors.js';
import type { Logger } from '../log.js';
import { MinHeap } from './heap.js';
import { describeError, timeoutDetail } from './outcome.js';
import type { CheckResult, CheckTarget, RunCheck } from './types.js';

export interface ProbeJob {
  id: string;
  target: CheckTarget;
  check: CheckConfig;
  intervalMs: number;
  timeoutMs: number;
  /** Each interval is drawn from intervalMs × (1 ± jitterPercent/100). */
  jitterPercent: number;
  /** The first run falls within this many ms of being added (default: within one interval). */
  firstWithinMs?: number | undefined;
}

export interface ProbeSchedulerOptions {
  run: RunCheck;
  /** Called once per completed probe of a job that still exists; `at` is the completion time from `now()`. */
  onResult: (id: string, outcome: ProbeOutcome) => void;
  /** At most this many probes in flight; due probes beyond it wait in a FIFO queue (by due time). */
  concurrency: number;
  /** Milliseconds since the epoch; must move with the timers (Date.now, or vitest fake timers). */
  now?: () => number;
  /** Uniform in [0, 1). */
  random?: () => number;
  logger?: Logger;
  /** A run that overstays its timeout by this much is given up on (the RunCheck contract was broken). Default 1000. */
  graceMs?: number;
}

export interface SchedulerStats {
  jobs: number;
  inFlight: number;
  queued: number;
  completed: number;
  /** Largest start time − due time seen, over all runs. */
  maxLagMs: number;
  /** Runs whose lag exceeded 10% of their interval. */
  lateRuns: number;
  /** Ticks skipped because the job's previous probe was still queued or running. */
  skipped: number;
}

export interface JobStats {
  runs: number;
  maxLagMs: number;
  lastLagMs: number;
  lateRuns: number;
  skipped: number;
}

interface Entry {
  job: ProbeJob;
  due: number;
  heapIndex: number;
  state: 'idle' | 'queued' | 'running';
  /** Bumped when the job's target/check changes or it is removed: results of older runs are dropped. */
  generation: number;
  /** Identifies the entry's current place in the queue; stale queue items are skipped. */
  queueToken: number;
  abort: AbortController | undefined;
  stats: JobStats;
  /** Its last probe timed out: it may hold at most half of the concurrency cap (see drain). */
  suspect: boolean;
}

interface Queued {
  entry: Entry;
  due: number;
  token: number;
}

const LATE_SHARE = 0.1;

/**
 * Runs many probe jobs on their intervals with jitter, under a global concurrency cap.
 * One timer for the whole scheduler (armed for the earliest due job in a min-heap), so
 * thousands of jobs cost one timer, not thousands.
 */
export class ProbeScheduler {
  private readonly entries = new Map<string, Entry>();
  private readonly heap = new MinHeap<Entry>((e) => e.due);
  private queue: Queued[] = [];
  private queueHead = 0;
  private queuedCount = 0;
  /** Runs of jobs whose last probe timed out, waiting for one of their (half of the cap) slots. */
  private suspectQueue: Queued[] = [];
  private suspectInFlight = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly concurrency: number;
  private readonly graceMs: number;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private running = false;
  private stopping: Promise<void> | undefined;
  private completed = 0;
  private maxLagMs = 0;
  private lateRuns = 0;
  private skipped = 0;

  constructor(private readonly opts: ProbeSchedulerOptions) {
    if (!Number.isInteger(opts.concurrency) || opts.concurrency < 1) {
      throw new InvalidArgumentError('concurrency', `must be a positive integer, got ${opts.concurrency}`);
    }
    this.concurrency = opts.concurrency;
    this.now = opts.now ?? (() => Date.now());
    this.random = opts.random ?? Math.random;
    this.graceMs = opts.graceMs ?? 1000;
  }

  /** Starts firing jobs; existing jobs get a random first run within their first interval. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopping = undefined;
    const now = this.now();
    for (const e of this.entries.values()) {
      e.due = now + this.random() * e.job.intervalMs;
      this.heap.update(e);
    }
    this.arm();
  }

  /** Stops the timer, drops queued runs and waits for in-flight probes (their results are still delivered). Idempotent. */
  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    this.running = false;
    this.clearTimer();
    for (const q of [...this.queue.slice(this.queueHead), ...this.suspectQueue]) {
      if (this.isLive(q)) q.entry.state = 'idle';
    }
    this.resetQueue();
    this.stopping = Promise.all([...this.inFlight]).then(() => undefined);
    return this.stopping;
  }

  /** Adds a job or replaces the one with the same id (a changed target or check drops in-flight results). */
  upsert(job: ProbeJob): void {
    validate(job);
    const now = this.now();
    const existing = this.entries.get(job.id);
    if (!existing) {
      const entry: Entry = {
        job,
        due: now + this.random() * Math.min(job.intervalMs, job.firstWithinMs ?? job.intervalMs),
        heapIndex: -1,
        state: 'idle',
        generation: 0,
        queueToken: 0,
        abort: undefined,
        stats: { runs: 0, maxLagMs: 0, lastLagMs: 0, lateRuns: 0, skipped: 0 },
        suspect: false,
      };
      this.entries.set(job.id, entry);
      this.heap.push(entry);
      this.arm();
      return;
    }
    const old = existing.job;
    existing.job = job;
    if (!sameProbe(old, job)) existing.generation++;
    if (job.intervalMs !== old.intervalMs && existing.due > now + job.intervalMs) {
      existing.due = now + this.random() * job.intervalMs;
      this.heap.update(existing);
      this.arm();
    }
  }

  /** Removes a job: a queued run is dropped, an in-flight probe aborted and its result discarded. */
  remove(id: string): boolean {
    const entry = this.entries.get(id);
    if (!entry) return false;
    this.entries.delete(id);
    this.heap.remove(entry);
    entry.generation++;
    if (entry.state === 'queued') {
      entry.queueToken++;
      entry.state = 'idle';
      this.queuedCount--;
    }
    entry.abort?.abort(new Error('probe job removed'));
    this.arm();
    return true;
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  stats(): SchedulerStats {
    return {
      jobs: this.entries.size,
      inFlight: this.inFlight.size,
      queued: this.queuedCount,
      completed: this.completed,
      maxLagMs: this.maxLagMs,
      lateRuns: this.lateRuns,
      skipped: this.skipped,
    };
  }

  jobStats(id: string): JobStats | undefined {
    const e = this.entries.get(id);
    return e ? { ...e.stats } : undefined;
  }

  // ---- timer and due jobs ----

  private arm(): void {
    if (!this.running) return;
    const top = this.heap.peek();
    if (!top) {
      this.clearTimer();
      return;
    }
    if (this.timer && this.timerAt <= top.due) return; // fires early enough; it re-arms itself
    this.clearTimer();
    this.timerAt = top.due;
    this.timer = setTimeout(() => this.onTimer(), Math.max(0, Math.ceil(top.due - this.now())));
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  private onTimer(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    if (!this.running) return;
    const now = this.now();
    for (let top = this.heap.peek(); top && top.due <= now; top = this.heap.peek()) {
      const due = top.due;
      top.due = this.nextDue(top.job, due, now);
      this.heap.update(top);
      if (top.state !== 'idle') {
        // Never overlap a job with itself: its previous probe is still queued or running.
        top.stats.skipped++;
        this.skipped++;
        continue;
      }
      top.state = 'queued';
      top.queueToken++;
      (top.suspect ? this.suspectQueue : this.queue).push({ entry: top, due, token: top.queueToken });
      this.queuedCount++;
    }
    this.drain();
    this.arm();
  }

  private nextDue(job: ProbeJob, due: number, now: number): number {
    const next = due + this.jittered(job);
    // Fallen behind (a stall, a long queue): resume from now rather than firing a burst of catch-up runs.
    return next > now ? next : now + this.jittered(job);
  }

  private jittered(job: ProbeJob): number {
    const spread = (job.jitterPercent / 100) * (2 * this.random() - 1);
    return Math.max(1, job.intervalMs * (1 + spread));
  }

  // ---- queue and runs ----

  private isLive(q: Queued): boolean {
    return q.token === q.entry.queueToken && q.entry.state === 'queued' && this.entries.get(q.entry.job.id) === q.entry;
  }

  /**
   * Start queued runs up to the cap, oldest first. Jobs whose last probe timed out (hanging targets)
   * may hold at most half of the cap, so they can never starve the probes of healthy endpoints.
   */
  private drain(): void {
    const suspectCap = Math.max(1, Math.floor(this.concurrency / 2));
    while (this.running && this.inFlight.size < this.concurrency) {
      let q: Queued | undefined;
      if (this.queueHead < this.queue.length) {
        const head = this.queue[this.queueHead]!;
        const suspectFirst = this.suspectQueue[0] && this.suspectInFlight < suspectCap && this.suspectQueue[0].due < head.due;
        q = suspectFirst ? this.suspectQueue.shift() : this.queue[this.queueHead++];
      } else if (this.suspectQueue.length > 0 && this.suspectInFlight < suspectCap) {
        q = this.suspectQueue.shift();
      } else break;
      if (!q || !this.isLive(q)) continue;
      this.queuedCount--;
      this.begin(q.entry, q.due);
    }
    if (this.queueHead === this.queue.length) {
      this.queue = [];
      this.queueHead = 0;
    } else if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.queueHead);
      this.queueHead = 0;
    }
  }

  private resetQueue(): void {
    this.queue = [];
    this.queueHead = 0;
    this.suspectQueue = [];
    this.queuedCount = 0;
  }

  private begin(entry: Entry, due: number): void {
    const started = this.now();
    const lag = Math.max(0, started - due);
    const job = entry.job;
    const late = lag > LATE_SHARE * job.intervalMs;
    entry.stats.runs++;
    entry.stats.lastLagMs = lag;
    entry.stats.maxLagMs = Math.max(entry.stats.maxLagMs, lag);
    this.maxLagMs = Math.max(this.maxLagMs, lag);
    if (late) {
      entry.stats.lateRuns++;
      this.lateRuns++;
    }
    entry.state = 'running';
    const suspect = entry.suspect;
    if (suspect) this.suspectInFlight++;
    const generation = entry.generation;
    const abort = new AbortController();
    entry.abort = abort;
    const p = this.guardedRun(job, abort.signal).then((result) => {
      this.inFlight.delete(p);
      if (suspect) this.suspectInFlight--;
      entry.suspect = result.timedOut === true;
      this.completed++;
      if (entry.abort === abort) entry.abort = undefined;
      if (entry.state === 'running') entry.state = 'idle';
      if (entry.generation === generation && this.entries.get(job.id) === entry) this.deliver(job.id, result);
      this.drain();
    });
    this.inFlight.add(p);
  }

  /** The RunCheck never throws nor overstays; this is a backstop in case one does. */
  private guardedRun(job: ProbeJob, signal: AbortSignal): Promise<CheckResult> {
    let timer: NodeJS.Timeout | undefined;
    const backstop = new Promise<CheckResult>((resolve) => {
      timer = setTimeout(
        () => resolve({ ok: false, timedOut: true, detail: timeoutDetail(job.timeoutMs), latencyMs: job.timeoutMs + this.graceMs }),
        job.timeoutMs + this.graceMs,
      );
    });
    const run = Promise.resolve()
      .then(() => this.opts.run(job.target, job.check, { timeoutMs: job.timeoutMs, signal }))
      .catch((err: unknown): CheckResult => ({ ok: false, detail: describeError(err), latencyMs: 0 }));
    return Promise.race([run, backstop]).finally(() => clearTimeout(timer));
  }

  private deliver(id: string, r: CheckResult): void {
    const outcome: ProbeOutcome = { at: this.now(), ok: r.ok, latencyMs: r.latencyMs, detail: r.detail };
    if (r.timedOut) outcome.timedOut = true;
    try {
      this.opts.onResult(id, outcome);
    } catch (err) {
      this.opts.logger?.error({ err, job: id }, 'probe result handler threw');
    }
  }
}

function validate(job: ProbeJob): void {
  if (!job.id) throw new InvalidArgumentError('id', 'a probe job needs an id');
  if (!(job.intervalMs > 0)) throw new InvalidArgumentError('intervalMs', `must be > 0, got ${job.intervalMs}`);
  if (!(job.timeoutMs > 0)) throw new InvalidArgumentError('timeoutMs', `must be > 0, got ${job.timeoutMs}`);
  if (!(job.jitterPercent >= 0 && job.jitterPercent <= 100)) throw new InvalidArgumentError('jitterPercent', `must be 0..100, got ${job.jitterPercent}`);
}

function sameProbe(a: ProbeJob, b: ProbeJob): boolean {
  return (
    a.target.address === b.target.address &&
    a.target.port === b.target.port &&
    a.timeoutMs === b.timeoutMs &&
    (a.check === b.check || JSON.stringify(a.check) === JSON.stringify(b.check))
  );
}
