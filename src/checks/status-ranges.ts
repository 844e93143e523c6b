import { InvalidArgumentError } from '../errors.js';

/** An inclusive range of HTTP status codes. */
export interface StatusRange {
  from: number;
  to: number;
}

const RANGE = /^\s*(\d{3})\s*(?:-\s*(\d{3})\s*)?$/;

/** Parses `"200-399"` / `"204"` entries; throws InvalidArgumentError naming the bad entry. */
export function parseStatusRanges(specs: readonly string[], field = 'expectedStatuses'): StatusRange[] {
  if (specs.length === 0) throw new InvalidArgumentError(field, 'at least one status code or range is needed');
  return specs.map((spec, i) => {
    const m = RANGE.exec(spec);
    if (!m) throw new InvalidArgumentError(`${field}[${i}]`, `"${spec}" is not a status code or range like "200" or "200-399"`);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (from < 100 || to > 599) throw new InvalidArgumentError(`${field}[${i}]`, `"${spec}" is outside 100-599`);
    if (to < from) throw new InvalidArgumentError(`${field}[${i}]`, `"${spec}" ends before it starts`);
    return { from, to };
  });
}

export function statusMatches(code: number, ranges: readonly StatusRange[]): boolean {
  return ranges.some((r) => code >= r.from && code <= r.to);
}
