/** Report queries: time parsing (ISO 8601 or ms) and validation; failures name the query field. */
import { InvalidArgumentError } from '../errors.js';
import { MAX_RANGE_MS } from '../config/reports-schema.js';
import { REPORT_FORMATS, REPORT_TYPES, type ReportFormat, type ReportQuery, type ReportType } from './model.js';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;
/** Longest range a report may cover. */
export { MAX_RANGE_MS };
/** Range when `from` is not given. */
export const DEFAULT_RANGE_MS = DAY_MS;

/** Same alphabet as resource names in the config schema. */
const CLUSTER = /^[A-Za-z0-9_.:-]{1,200}$/;
const MS = /^\d{1,15}$/;
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?([Zz]|[+-]\d{2}(?::?\d{2})?)?)?$/;
/** Year 1970 .. 9999 in ms. */
const MAX_MS = 253_402_300_799_999;

/**
 * Parses a point in time: milliseconds since the epoch (digits only) or ISO 8601 (`2026-11-25`,
 * `2026-11-25T10:00Z`, `2026-11-25T10:00:00.123+01:00`). A date-time without a zone is UTC.
 */
export function parseTime(value: string, field: string): number {
  const text = value.trim();
  if (MS.test(text)) {
    const n = Number(text);
    if (n > MAX_MS) throw new InvalidArgumentError(field, `must be a time up to the year 9999, got ${JSON.stringify(value.slice(0, 40))}`);
    return n;
  }
  const m = ISO.exec(text);
  if (m) {
    const [, y, mo, d, h, mi, s, frac, zone] = m;
    let iso = `${y}-${mo}-${d}T${h ?? '00'}:${mi ?? '00'}:${s ?? '00'}.${(frac ?? '0').padEnd(3, '0').slice(0, 3)}`;
    if (zone === undefined || zone === 'z' || zone === 'Z') iso += 'Z';
    else iso += zone.length === 3 ? `${zone}:00` : zone.includes(':') ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`;
    const t = Date.parse(iso);
    // Date.parse rolls 2026-02-30 over to March; refuse dates that do not exist.
    const day = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
    const real = day.getUTCFullYear() === Number(y) && day.getUTCMonth() === Number(mo) - 1 && day.getUTCDate() === Number(d);
    if (Number.isFinite(t) && real && t >= 0 && t <= MAX_MS && Number(h ?? 0) < 24 && Number(mi ?? 0) < 60 && Number(s ?? 0) < 60) return t;
  }
  throw new InvalidArgumentError(
    field,
    `must be ISO 8601 (e.g. 2026-11-25T10:00:00Z) or milliseconds since the epoch, got ${JSON.stringify(value.slice(0, 40))}`,
  );
}

export function parseType(value: string, field = 'type'): ReportType {
  if (!(REPORT_TYPES as readonly string[]).includes(value))
    throw new InvalidArgumentError(field, `must be one of ${REPORT_TYPES.join(', ')}, got ${JSON.stringify(value.slice(0, 40))}`);
  return value as ReportType;
}

export function parseFormat(value: string, field = 'format'): ReportFormat {
  const v = value === 'markdown' ? 'md' : value;
  if (!(REPORT_FORMATS as readonly string[]).includes(v))
    throw new InvalidArgumentError(field, `must be one of ${REPORT_FORMATS.join(', ')}, got ${JSON.stringify(value.slice(0, 40))}`);
  return v as ReportFormat;
}

export function parseCluster(value: string, field = 'cluster'): string {
  if (!CLUSTER.test(value)) throw new InvalidArgumentError(field, 'must be 1-200 letters, digits, "_", ".", ":" or "-"');
  return value;
}

/** from/to as given (strings) or defaults: `to` = now, `from` = to − 24 h. */
export function resolveRange(raw: { from?: string | undefined; to?: string | undefined }, now: number): { from: number; to: number } {
  const to = raw.to === undefined ? now : parseTime(raw.to, 'to');
  const from = raw.from === undefined ? to - DEFAULT_RANGE_MS : parseTime(raw.from, 'from');
  return { from, to };
}

/**
 * Checks a query against the rules every report follows: from < to, at most 31 days, a known cluster.
 * `knownClusters` is consulted only when a cluster is named.
 */
export function validateQuery(q: ReportQuery, knownClusters: () => Iterable<string>): ReportQuery {
  if (!Number.isFinite(q.from) || q.from < 0) throw new InvalidArgumentError('from', 'must be a time since the epoch');
  if (!Number.isFinite(q.to) || q.to < 0) throw new InvalidArgumentError('to', 'must be a time since the epoch');
  if (q.from >= q.to) throw new InvalidArgumentError('from', `must be before to (from ${new Date(q.from).toISOString()}, to ${new Date(q.to).toISOString()})`);
  if (q.to - q.from > MAX_RANGE_MS) throw new InvalidArgumentError('from', `the range is ${((q.to - q.from) / DAY_MS).toFixed(1)} days; at most 31 days`);
  if (q.cluster !== undefined) {
    parseCluster(q.cluster);
    const known = [...knownClusters()];
    if (!known.includes(q.cluster))
      throw new InvalidArgumentError(
        'cluster',
        `unknown cluster ${JSON.stringify(q.cluster)}${known.length ? `; known: ${known.slice(0, 20).join(', ')}` : ''}`,
      );
  }
  return { from: q.from, to: q.to, ...(q.cluster !== undefined ? { cluster: q.cluster } : {}) };
}
