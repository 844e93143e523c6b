import type { Checker, CheckerOptions } from './index.js';
import type { RunCheck } from './types.js';

export interface SwappableCheckerOptions extends CheckerOptions {
  /** Builds a checker (createChecker; a test may count or fail builds). */
  create: (opts: CheckerOptions) => Checker;
}

/**
 * The checker the running system uses, rebuilt when `health.allowTargets` changes on reload: the new
 * one is built first (a malformed list throws and changes nothing), then swapped in, and the old one
 * closes (its in-flight checks finish on their own connections).
 */
export class SwappableChecker implements Checker {
  private current: Checker;
  private allowTargets: readonly string[];

  constructor(private readonly opts: SwappableCheckerOptions) {
    this.allowTargets = opts.allowTargets;
    this.current = opts.create(opts);
  }

  readonly run: RunCheck = (target, check, runOpts) => this.current.run(target, check, runOpts);

  /** A new `allowTargets`: a new checker if it differs. Throws (before any change) if the list is malformed. */
  setAllowTargets(allowTargets: readonly string[]): void {
    if (JSON.stringify(allowTargets) === JSON.stringify(this.allowTargets)) return;
    const next = this.opts.create({ ...this.opts, allowTargets });
    const old = this.current;
    this.current = next;
    this.allowTargets = allowTargets;
    void old.close();
  }

  /** Closes the current checker. Idempotent. */
  close(): Promise<void> {
    return this.current.close();
  }
}
