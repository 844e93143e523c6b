/**
 * Admin routes for reports (read-only, no token):
 *
 *   GET /reports                 the types, their tables, the formats and the query parameters
 *   GET /reports/:type?format=json|html|csv|md|xlsx&from=&to=&cluster=&table=&download=0|1
 *
 * from/to are ISO 8601 or ms since the epoch (default: the last 24 h); bad values are 400
 * INVALID_ARGUMENT naming the field (the admin server's error handler writes the JSON body). The
 * body streams; the download is `Content-Disposition: attachment` unless `download=0` (inline).
 * At most `maxConcurrent` reports are built at once (more: 503), and a report whose client goes away
 * stops being built.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ReportsHandler } from '../admin/server.js';
import { HealthmeshError, InvalidArgumentError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import type { Operations } from '../operations.js';
import type { Store } from '../store/types.js';
import { buildReport, type BuildOptions, type ReportSource } from './build.js';
import { REPORT_TABLES, type DocumentOptions } from './document.js';
import { fileStamp } from './format.js';
import { REPORT_FORMATS, REPORT_TYPES, type ReportFormat, type ReportType } from './model.js';
import { DEFAULT_RANGE_MS, MAX_RANGE_MS, parseCluster, parseFormat, parseType, resolveRange } from './query.js';
import { CONTENT_TYPES, EXTENSIONS, HTML_CSP, renderReport } from './render/index.js';

export interface ReportsHandlerOptions extends Omit<BuildOptions, 'signal'>, DocumentOptions {
  logger?: Logger | undefined;
  /** Reports built at the same time; more are answered 503. Default 2. */
  maxConcurrent?: number | undefined;
}

const QUERY = ['format', 'from', 'to', 'cluster', 'table', 'download'] as const;
type QueryKey = (typeof QUERY)[number];

/** The query string as single string values; unknown or repeated parameters are refused. */
function readQuery(raw: unknown): Partial<Record<QueryKey, string>> {
  const out: Partial<Record<QueryKey, string>> = {};
  if (raw === null || typeof raw !== 'object') return out;
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    if (!(QUERY as readonly string[]).includes(key)) throw new InvalidArgumentError(key.slice(0, 50), `unknown query parameter; known: ${QUERY.join(', ')}`);
    if (typeof value !== 'string') throw new InvalidArgumentError(key, 'must be given once');
    out[key as QueryKey] = value;
  }
  return out;
}

function parseDownload(value: string | undefined): boolean {
  if (value === undefined || value === '1' || value === 'true') return true;
  if (value === '0' || value === 'false') return false;
  throw new InvalidArgumentError('download', 'must be 0 or 1');
}

/** healthmesh-<type>-<from>-<to>.<ext>, e.g. healthmesh-summary-20261124T100000Z-20261125T100000Z.html */
export function reportFileName(type: ReportType, from: number, to: number, format: ReportFormat): string {
  return `healthmesh-${type}-${fileStamp(from)}-${fileStamp(to)}.${EXTENSIONS[format]}`;
}

/**
 * The reports module as the admin server mounts it. `ops` gives the current state (omit it to build
 * from the store alone); the store gives history and alerts.
 */
export function createReportsHandler(
  ops: Pick<Operations, 'clusters' | 'endpoints'> | undefined,
  store: Pick<Store, 'historyRange' | 'historyKeys' | 'alerts'>,
  opts: ReportsHandlerOptions = {},
): ReportsHandler {
  const source: ReportSource = { store, ops };
  const log = (opts.logger ?? silentLogger()).child({ component: 'reports' });
  const now = opts.now ?? Date.now;
  const maxConcurrent = Math.max(1, opts.maxConcurrent ?? 2);
  let building = 0;

  return {
    registerRoutes(app: FastifyInstance): void {
      app.get('/reports', async () => ({
        types: REPORT_TYPES.map((type) => ({ type, tables: REPORT_TABLES[type], path: `/reports/${type}` })),
        formats: REPORT_FORMATS.map((format) => ({ format, contentType: CONTENT_TYPES[format] })),
        query: {
          format: `one of ${REPORT_FORMATS.join(', ')} (default json)`,
          from: 'ISO 8601 or ms since the epoch (default: to - 24 h)',
          to: 'ISO 8601 or ms since the epoch (default: now)',
          cluster: 'only this cluster',
          table: 'csv only: which table (default: the first listed for the type)',
          download: '1 (default): Content-Disposition attachment; 0: inline',
        },
        defaultRangeMs: DEFAULT_RANGE_MS,
        maxRangeMs: MAX_RANGE_MS,
      }));

      app.get('/reports/:type', async (req: FastifyRequest, reply: FastifyReply) => {
        const type = parseType(String((req.params as { type?: unknown }).type ?? ''));
        const q = readQuery(req.query);
        const format = q.format === undefined ? 'json' : parseFormat(q.format);
        const { from, to } = resolveRange(q, now());
        const cluster = q.cluster === undefined ? undefined : parseCluster(q.cluster);
        const download = parseDownload(q.download);
        if (q.table !== undefined && format !== 'csv') throw new InvalidArgumentError('table', 'applies to format=csv only');
        if (q.table !== undefined && !REPORT_TABLES[type].includes(q.table))
          throw new InvalidArgumentError('table', `must be one of ${REPORT_TABLES[type].join(', ')} for ${type}`);
        if (building >= maxConcurrent) throw new HealthmeshError('UNAVAILABLE', `${building} reports are being built; try again shortly`);

        const abort = new AbortController();
        const onClose = (): void => {
          if (!reply.raw.writableFinished) abort.abort(new Error('client went away'));
        };
        reply.raw.once('close', onClose);
        building++;
        const started = Date.now();
        let report;
        try {
          report = await buildReport(source, type, { from, to, cluster }, { ...opts, now, signal: abort.signal });
        } finally {
          building--;
        }
        const rendered = renderReport(report, format, { table: q.table, maxCharts: opts.maxCharts, maxBars: opts.maxBars });
        log.debug({ type, format, from, to, cluster, points: report.meta.points, ms: Date.now() - started }, 'report built');
        const name = reportFileName(type, from, to, format);
        reply.header('content-type', rendered.contentType);
        reply.header('content-disposition', `${download ? 'attachment' : 'inline'}; filename="${name}"`);
        if (format === 'html') reply.header('content-security-policy', `${HTML_CSP}; frame-ancestors 'none'`);
        rendered.body.on('error', (err) => log.error({ err, type, format }, 'report rendering failed'));
        return reply.send(rendered.body);
      });
    },
  };
}
