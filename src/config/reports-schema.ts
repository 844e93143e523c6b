/**
 * Configuration of scheduled reports. A plain object; `reportsConfigSchema` is the zod schema the
 * config file's `reports:` section can use (strict, with defaults), so that it is validated once at
 * the edge like the rest of the configuration.
 */
import { z } from 'zod';

/** The report types and formats (the reports module builds and renders them). */
export const REPORT_TYPES = ['summary', 'detailed', 'metrics', 'alerts', 'trends'] as const;
export type ReportType = (typeof REPORT_TYPES)[number];
export const REPORT_FORMATS = ['json', 'html', 'csv', 'md', 'xlsx'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];
/** The longest range one report may cover. */
export const MAX_RANGE_MS = 31 * 86_400_000;

export interface ReportScheduleEntry {
  type: ReportType;
  format: ReportFormat;
  /** How often to write it. */
  everyMs: number;
  /** The range each one covers, ending at the time it is written. */
  rangeMs: number;
  /** Only this cluster. */
  cluster?: string | undefined;
  /** CSV only: which table (default the report's primary table). */
  table?: string | undefined;
}

export interface ReportsConfig {
  /** Where reports are written (created when missing). */
  directory: string;
  schedule: ReportScheduleEntry[];
  /** Newest files kept per type / cluster / format; older ones are deleted. */
  keep: number;
}

export const DEFAULT_REPORTS_CONFIG: Readonly<ReportsConfig> = Object.freeze({ directory: 'data/reports', schedule: [], keep: 10 });

const CLUSTER = /^[A-Za-z0-9_.:-]{1,200}$/;

export const reportScheduleEntrySchema = z
  .object({
    type: z.enum(REPORT_TYPES),
    format: z.enum(REPORT_FORMATS),
    everyMs: z
      .number()
      .int()
      .min(1000)
      .max(31 * 86_400_000),
    rangeMs: z.number().int().min(1000).max(MAX_RANGE_MS),
    cluster: z.string().regex(CLUSTER, 'must be 1-200 letters, digits, "_", ".", ":" or "-"').optional(),
    table: z
      .string()
      .regex(/^[a-z-]{1,40}$/)
      .optional(),
  })
  .strict();

export const reportsConfigSchema = z
  .object({
    directory: z.string().min(1).default(DEFAULT_REPORTS_CONFIG.directory),
    schedule: z.array(reportScheduleEntrySchema).max(100).default([]),
    keep: z.number().int().min(1).max(10_000).default(DEFAULT_REPORTS_CONFIG.keep),
  })
  .strict();
