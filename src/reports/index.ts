/** Reports: one model, five formats, admin routes, a CLI and scheduled files. */
export * from './model.js';
export { buildReport, knownClusters, trendSentence, DEFAULT_THRESHOLDS, type BuildOptions, type ReportSource } from './build.js';
export { toDocument, REPORT_TABLES, type ReportDocument, type DocumentOptions } from './document.js';
export { parseTime, parseType, parseFormat, validateQuery, resolveRange, MAX_RANGE_MS, DEFAULT_RANGE_MS } from './query.js';
export {
  renderReport,
  renderToBuffer,
  CONTENT_TYPES,
  EXTENSIONS,
  HTML_CSP,
  escapeHtml,
  escapeMarkdown,
  type RenderOptions,
  type RenderedReport,
} from './render/index.js';
export { createReportsHandler, reportFileName, type ReportsHandlerOptions } from './routes.js';
export { ReportScheduler, scheduledFileName, type ReportSchedulerOptions } from './scheduler.js';
export { reportsConfigSchema, reportScheduleEntrySchema, DEFAULT_REPORTS_CONFIG, type ReportsConfig, type ReportScheduleEntry } from './config.js';
export { reportSchemas, summaryReportSchema, detailedReportSchema, metricsReportSchema, alertsReportSchema, trendsReportSchema } from './schema.js';
