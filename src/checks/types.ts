import type { CheckConfig } from '../config/schema.js';

/** Where a probe goes. `address` is an IP literal or a hostname (resolved and vetted by the target policy). */
export interface CheckTarget {
  address: string;
  port: number;
}

/** What one probe saw. Details are short and human: "HTTP 503", "connection refused", "timeout after 500 ms". */
export interface CheckResult {
  ok: boolean;
  detail: string;
  latencyMs: number;
  timedOut?: boolean;
}

export interface RunCheckOptions {
  /** Hard bound: the returned promise settles within this (plus a few ms of slack). */
  timeoutMs: number;
  /** Aborting resolves the probe at once as `{ ok: false, detail: 'aborted' }`. */
  signal?: AbortSignal;
}

/**
 * Runs one active check. Never throws (every failure is a failing result) and never takes
 * longer than `timeoutMs` plus a little slack: a hang resolves as
 * `{ ok: false, timedOut: true, detail: 'timeout after 500 ms' }`.
 */
export type RunCheck = (target: CheckTarget, check: CheckConfig, opts: RunCheckOptions) => Promise<CheckResult>;

/** The verdict of a probe body, before latency and the deadline are applied. */
export interface Verdict {
  ok: boolean;
  detail: string;
}
