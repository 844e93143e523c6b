/** A benchmark section: bench/run.ts runs the selected sections in order and stores each one's result. */
export interface SectionContext {
  quick: boolean;
  /** Progress lines (stderr), so stdout carries only the tables. */
  log: (msg: string) => void;
  /** Section-specific options from the command line (already parsed, possibly undefined). */
  options: Record<string, string | undefined>;
}

export interface SectionResult {
  /** Printed to stdout. */
  table: string;
  /** Written to bench/results/<name>-<timestamp>.json and <name>-latest.json. */
  data: Record<string, unknown>;
  /** false when something failed (the run exits non-zero, results are still written). */
  ok: boolean;
}

export interface Section {
  name: string;
  description: string;
  run(ctx: SectionContext): Promise<SectionResult>;
}
