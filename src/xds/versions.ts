/**
 * Versions are decimal strings of a hybrid clock: max(previous + 1, now in microseconds).
 * They increase strictly within a run and, as long as the wall clock does not jump back,
 * across restarts too; `floor` lets persistence carry the last version over a restart.
 */
export class VersionClock {
  private last: number;

  constructor(
    private readonly now: () => number = Date.now,
    floor = 0,
  ) {
    this.last = floor;
  }

  next(): string {
    this.last = Math.max(this.last + 1, Math.floor(this.now() * 1000));
    return String(this.last);
  }

  /** Raise the floor (e.g. to the last version seen before a restart). */
  observe(version: string): void {
    const n = Number(version);
    if (Number.isFinite(n) && n > this.last) this.last = n;
  }
}

/** Compare two versions produced by VersionClock. */
export function compareVersions(a: string, b: string): number {
  return Number(a) - Number(b);
}
